"""``hf`` judge configuration: clear errors before loading, offline hub ids, fingerprints, Hydra configs."""

from __future__ import annotations

import json
import shutil

import pytest

from judgeanything.judges.base import JudgeConfigError
from judgeanything.judges.hf import HFJudge, weights_digest
from tests.support.compose import composed, judge_of


def test_missing_or_wrong_model_paths_fail_at_construction(tmp_path):
    with pytest.raises(JudgeConfigError, match="does not exist"):
        HFJudge(str(tmp_path / "nope"))
    with pytest.raises(JudgeConfigError, match="does not exist"):
        HFJudge("./models/nope")
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(JudgeConfigError, match="is a file"):
        HFJudge(str(tmp_path / "weights.bin"))
    with pytest.raises(JudgeConfigError, match=r"no config\.json"):
        HFJudge(str(tmp_path))
    with pytest.raises(JudgeConfigError, match="unknown smoke model family"):
        HFJudge("smoke:gpt5")
    with pytest.raises(JudgeConfigError, match="empty"):
        HFJudge("  ")


def test_hub_id_must_be_cached_when_offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(JudgeConfigError, match="HF_HUB_OFFLINE=1"):
        HFJudge("Qwen/Qwen2-VL-2B-Instruct")


@pytest.mark.parametrize("kwargs, match", [
    ({"verdict": "vote"}, "verdict"),
    ({"dtype": "int3"}, "dtype"),
    ({"device": "tpu"}, "device"),
    ({"batch_size": 0}, "batch_size"),
    ({"capabilities": ["image", "smell"]}, "unknown capabilities"),
    ({"downgrades": {"image": "frames"}}, "downgrade"),
    ({"video_fps_fallback": 0}, "video_fps_fallback"),
    ({"sampling": {"top_p": 0.9}}, "greedy"),
    ({"sampling": {"top_k": 5, "temperature": 0}}, "greedy"),
    ({"sampling": {"stop": ["\n"]}}, "sampling.stop"),
    ({"sampling": {"max_tokens": 0}}, "max_tokens"),
    ({"sampling": {"temprature": 0.7}}, "unknown option 'temprature'"),
])
def test_bad_options_are_config_errors(tiny_model, kwargs, match):
    with pytest.raises(JudgeConfigError, match=match):
        HFJudge(str(tiny_model("llava")), **kwargs)


def test_sampling_options_and_a_single_capability_string(tiny_model):
    j = HFJudge(str(tiny_model("llava")), sampling={"temperature": 0.7, "top_p": 0.9, "seed": 3, "top_k": 4})
    fp = j.fingerprint()
    assert (fp["do_sample"], fp["temperature"], fp["top_p"], fp["seed"], fp["top_k"]) == (True, 0.7, 0.9, 3, 4)
    greedy = HFJudge(str(tiny_model("llava")), sampling={"temperature": 0.0}).fingerprint()
    assert (greedy["do_sample"], greedy["temperature"], greedy["seed"], "top_k" in greedy) == (False, None, None, False)
    assert HFJudge(str(tiny_model("llava")), capabilities="image").capabilities == frozenset({"text", "image"})


def test_claiming_a_modality_the_model_cannot_take_is_refused(tiny_model, req, parts, judge_run):
    judge = HFJudge(str(tiny_model("llava")), capabilities=["image", "audio"], device="cpu")
    assert judge.capabilities == frozenset({"text", "image", "audio"})
    with pytest.raises(JudgeConfigError, match="silently ignored"):
        judge_run(judge, [req("x", "pair", parts("hi"))])


def test_configured_capabilities_can_narrow_the_model(tiny_model, media, req, parts, judge_run):
    judge = HFJudge(str(tiny_model("qwen2_vl")), capabilities=["image"], device="cpu", verdict="logprob")
    r = judge_run(judge, [req("v", "score", parts("watch ", media["mp4_silent"]))])[0]
    assert r.failure is not None and r.failure.kind == "unsupported_modality"


def test_fingerprint_tracks_weights_and_sampling(tiny_model, tmp_path):
    src = tiny_model("qwen2")
    a = HFJudge(str(src), verdict="generate", sampling={"max_tokens": 32})
    fp = a.fingerprint()
    assert fp["weights"] == weights_digest(src) and "path" not in fp
    assert (fp["verdict"], fp["max_new_tokens"], fp["do_sample"], fp["dtype"]) == ("generate", 32, False, "auto")
    b = HFJudge(str(src), verdict="logprob")
    assert b.fingerprint()["prefill"] and "max_new_tokens" not in b.fingerprint()
    assert HFJudge(str(src), dtype="bfloat16").fingerprint() != HFJudge(str(src)).fingerprint()
    copy = shutil.copytree(src, tmp_path / "copy")
    cfg = json.loads((copy / "config.json").read_text())
    cfg["rms_norm_eps"] = 1e-5
    (copy / "config.json").write_text(json.dumps(cfg))
    assert weights_digest(copy) != weights_digest(src)
    moved = shutil.copytree(src, tmp_path / "moved")  # the same files elsewhere: the same judge (resume works)
    moved_judge = HFJudge(str(moved), verdict="generate", sampling={"max_tokens": 32}, name=a.name)
    assert moved_judge.fingerprint()["weights"] == fp["weights"]
    assert json.dumps(fp, sort_keys=True)  # JSON-able, no secrets, no objects


def test_hydra_hf_config_instantiates(tiny_model):
    overrides = ("judge=hf", f"judge.model={tiny_model('qwen2_audio')}", "judge.verdict=logprob",
                 "judge.batch_size=2", "judge.processor_kwargs={audio_kwargs: {padding: max_length}}")
    assert composed(*overrides).judge.parse == "auto"  # the runner's parsing strategy, not an HFJudge argument
    judge = judge_of(*overrides)
    assert isinstance(judge, HFJudge)
    assert (judge.verdict, judge.batch_size, judge.max_new_tokens, judge.do_sample) == ("logprob", 2, 512, False)
    assert judge.processor_kwargs == {"audio_kwargs": {"padding": "max_length"}}
    assert type(judge.processor_kwargs) is dict
    assert judge.capabilities == frozenset({"text", "audio"})


def test_hydra_smoke_judge_builds_its_model_on_first_use(monkeypatch, tmp_path, media, req, parts, judge_run):
    monkeypatch.setenv("JUDGEANYTHING_CACHE", str(tmp_path / "cache"))
    judge = judge_of("judge=smoke")
    assert judge.verdict == "logprob" and judge.model_spec == "smoke:qwen2_5_omni"
    assert judge.capabilities == frozenset({"text", "image", "audio", "video"})
    assert not (tmp_path / "cache").exists()  # nothing built until needed
    res = judge_run(judge, [req("s", "pair", parts("Which? ", media["png"], media["mp3"], media["mp4"]))])[0]
    assert res.failure is None and res.outcomes[0].value in ("first", "tie", "second")
    assert (tmp_path / "cache" / "models" / "qwen2_5_omni-tiny-v1" / "config.json").is_file()
    assert res.model.startswith("smoke:qwen2_5_omni@")


@pytest.mark.parametrize("family, expected", [
    ("qwen2_5_vl", {"text", "image", "video"}),
    ("idefics3", {"text", "image"}),
    ("qwen2_audio", {"text", "audio"}),
    ("qwen2", {"text"}),
])
def test_unknown_model_types_take_what_their_processor_prepares(monkeypatch, tiny_model, family, expected):
    import judgeanything.judges.hf as hf

    mt = hf.SMOKE_MODEL_TYPES[family]
    monkeypatch.delitem(hf.MODEL_TYPE_CAPABILITIES, mt)
    judge = HFJudge(str(tiny_model(family)), device="cpu")
    assert judge.capabilities == frozenset(expected)
    assert judge._model is None  # answered from the processor, nothing loaded
