"""The ``hf`` judge end to end on tiny real-architecture models and real generated media: both verdict
modes, batch invariance, refusals, frame sampling, audio tracks, preprocessing isolation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from judgeanything.judges.hf_logprob import BATCH_UNSUPPORTED
from judgeanything.modalities.base import EncodedText, EncodedVideo
from judgeanything.schema import Failure, Verdict

# family -> request parts built from the decoded media fixture (what each model can take)
FAMILY_MEDIA = {
    "qwen2_5_omni": ["png", "jpg", "wav", "mp3", "flac", "mp4"],
    "qwen2_vl": ["png", "jpg", "mp4_silent"],
    "qwen2_audio": ["wav", "mp3", "flac"],
    "llava": ["png", "jpg"],
    "qwen2": [],
}
RUBRICS = ("relevance", "clarity", "completeness")


def _requests(family, media, req, parts):
    """Pair and score requests (overall and rubrics modes) over every medium the family takes, plus a
    text-only one; prompts of different lengths so that batching pads."""
    out = []
    names = FAMILY_MEDIA[family] or ["text"]
    for k, name in enumerate(names):
        m = EncodedText("a plain text input", role="query") if name == "text" else media[name]
        setting = "pair" if k % 2 == 0 else "score"
        rubrics = ("overall",) if k % 3 else RUBRICS
        chunks = ["Instruction: judge this " + "very " * k + "carefully.\nInput: ", m,
                  "\nResponse 1: A test pattern.\n"]
        if setting == "pair":
            chunks.append("Response 2: Colour bars.\n")
        out.append(req(f"{family}-{name}", setting, parts(*chunks), rubrics))
    out.append(req(f"{family}-text", "pair", parts("Which response is better? 1: yes. 2: no.")))
    return out


def _check_probs(v: Verdict, setting: str) -> None:
    assert v.probs is not None
    ps = list(v.probs.values())
    assert all(0.0 <= p <= 1.0 for p in ps)
    assert abs(sum(ps) - 1.0) <= 1e-5
    best = max(v.probs, key=lambda k: v.probs[k])
    if setting == "pair":
        assert set(v.probs) == {"first", "tie", "second"} and v.value == best
        assert v.expected is None
    else:
        assert set(v.probs) == {"1", "2", "3", "4", "5"} and v.value == int(best)
        assert math.isclose(v.expected, sum(int(s) * p for s, p in v.probs.items()), abs_tol=1e-9)
        assert 1.0 <= v.expected <= 5.0


@pytest.mark.parametrize("family", list(FAMILY_MEDIA))
def test_generate_mode_on_real_media(family, hf_judge, media, req, parts, judge_run):
    judge = hf_judge(family, "generate")
    requests = _requests(family, media, req, parts)
    results = judge_run(judge, requests)
    assert len(results) == len(requests)
    for r in results:
        assert r.failure is None, r.failure
        assert isinstance(r.raw, str) and r.outcomes is None
        assert r.finish_reason in ("stop", "length")
        assert r.usage["prompt_tokens"] > 0 and 1 <= r.usage["completion_tokens"] <= judge.max_new_tokens
        if r.finish_reason == "length":
            assert r.usage["completion_tokens"] == judge.max_new_tokens
        assert r.latency_s > 0 and r.model.startswith(judge.model_spec + "@")


@pytest.mark.parametrize("family", list(FAMILY_MEDIA))
def test_logprob_mode_on_real_media(family, hf_judge, media, req, parts, judge_run):
    judge = hf_judge(family, "logprob")
    requests = _requests(family, media, req, parts)
    results = judge_run(judge, requests)
    for rq, r in zip(requests, results, strict=True):
        assert r.failure is None, r.failure
        assert r.finish_reason == "stop" and isinstance(r.raw, str)
        assert [o.rubric for o in r.outcomes] == list(rq.prompt.rubrics)
        assert r.usage["forward_passes"] == len(rq.prompt.rubrics)
        for o in r.outcomes:
            assert isinstance(o, Verdict)
            _check_probs(o, rq.prompt.setting)
        # raw = the prefill JSON closed with the chosen tokens, readable by any JSON parser
        import json

        answer = json.loads(r.raw)
        key = "choice" if rq.prompt.setting == "pair" else "score"
        assert list(answer) == [f"{rb}_{key}" for rb in rq.prompt.rubrics]
        ids = r.extra["candidate_token_ids"]
        assert sorted(ids) == (["0", "1", "2"] if key == "choice" else ["1", "2", "3", "4", "5"])
        assert all(0 < m <= 1 for m in r.extra["candidate_mass"].values())


@pytest.mark.parametrize("family", ["qwen2_5_omni", "qwen2_vl", "qwen2_audio", "llava"])
def test_batched_and_single_requests_agree(family, hf_judge, media, req, parts, judge_run):
    requests = _requests(family, media, req, parts)[:4]
    lp = hf_judge(family, "logprob")
    together = judge_run(lp, requests)
    alone = [judge_run(lp, [rq])[0] for rq in requests]
    for a, b in zip(together, alone, strict=True):
        for va, vb in zip(a.outcomes, b.outcomes, strict=True):
            assert va.value == vb.value
            assert va.probs.keys() == vb.probs.keys()
            assert max(abs(va.probs[k] - vb.probs[k]) for k in va.probs) < 1e-4
        assert a.raw == b.raw
    gen = hf_judge(family, "generate")
    texts_together = [r.raw for r in judge_run(gen, requests)]
    texts_alone = [judge_run(gen, [rq])[0].raw for rq in requests]
    assert texts_together == texts_alone
    # the batch really was padded: prompts of different lengths went through one call
    assert len({r.usage["prompt_tokens"] for r in together}) > 1


def test_unsupported_modality_is_refused_not_dropped(hf_judge, media, req, parts, judge_run):
    llava = hf_judge("llava", "logprob")
    requests = [
        req("img", "pair", parts("Look: ", media["png"])),
        req("aud", "pair", parts("Listen: ", media["wav"])),
        req("vid", "score", parts("Watch: ", media["mp4_silent"])),
        req("img2", "score", parts("Look: ", media["jpg"])),
    ]
    res = judge_run(llava, requests)
    assert res[0].failure is None and isinstance(res[0].outcomes[0], Verdict)
    assert res[3].failure is None and isinstance(res[3].outcomes[0], Verdict)
    for r, modality in ((res[1], "audio"), (res[2], "video")):
        assert r.outcomes is None and r.raw == ""
        assert r.failure == Failure("unsupported_modality", r.failure.detail)
        assert modality in r.failure.detail
    audio_only = hf_judge("qwen2_audio", "generate")
    r = judge_run(audio_only, [req("img", "score", parts("Look: ", media["png"]))])[0]
    assert r.failure is not None and r.failure.kind == "unsupported_modality" and "image" in r.failure.detail
    assert llava.capabilities == frozenset({"text", "image"})
    assert audio_only.capabilities == frozenset({"text", "audio"})
    assert hf_judge("qwen2_5_omni").capabilities == frozenset({"text", "image", "audio", "video"})
    assert hf_judge("qwen2_vl").capabilities == frozenset({"text", "image", "video"})


def test_video_frames_reach_the_model_without_resampling(hf_judge, media, req, parts, judge_run):
    """10 frames at 10 fps go in; the model sees 10 (video_grid_thw[t] × temporal_patch_size). With the
    processor's own sampling on (here at 2 fps) it would see fewer: the check can fail."""
    video = media["mp4_silent"]
    assert video.frames.shape[0] == 10
    judge = hf_judge("qwen2_vl", "logprob")
    r = judge_run(judge, [req("v", "score", parts("Watch: ", video))])[0]
    assert r.failure is None and r.extra["video_frames_seen"] == [10]
    proc = judge._proc
    tps = proc.video_processor.temporal_patch_size
    meta = {"total_num_frames": 10, "fps": 10.0, "frames_indices": list(range(10)), "duration": 1.0,
            "height": video.frames.shape[1], "width": video.frames.shape[2]}
    text = proc.apply_chat_template([{"role": "user", "content": [{"type": "video"}]}], tokenize=False)
    sampled = proc(text=[text], videos=[[video.frames]], video_metadata=[meta], do_sample_frames=True,
                   fps=2, return_tensors="pt")
    assert int(sampled["video_grid_thw"][0, 0]) * tps < 10


def test_omni_hears_the_audio_track_and_gets_each_videos_fps(hf_judge, media, req, parts):
    from judgeanything.judges.hf_inputs import prepare_request

    judge = hf_judge("qwen2_5_omni", "logprob")
    judge._ensure_loaded()
    v10 = media["mp4"]
    v5 = EncodedVideo(frames=v10.frames[::2].copy(), timestamps=v10.timestamps[::2], fps=5.0, role="response 1")
    preps = {
        0: prepare_request("sys", parts("A: ", v10), capabilities=judge.capabilities, judge="t",
                           sampling_rate=16000, video_fps_fallback=2.0),
        1: prepare_request("sys", parts("B: ", v5), capabilities=judge.capabilities, judge="t",
                           sampling_rate=16000, video_fps_fallback=2.0),
    }
    assert [len(p.audios) for p in preps.values()] == [1, 0]  # the AAC track became an audio item
    assert preps[0].messages[-1]["content"][1:3] == [{"type": "video"}, {"type": "audio"}]
    texts = {i: judge._proc.apply_chat_template(p.messages, tokenize=False, add_generation_prompt=True)
             for i, p in preps.items()}
    enc = judge._encode([0, 1], preps, texts)
    assert enc["video_second_per_grid"].tolist() == pytest.approx([2 / 10.0, 2 / 5.0])
    assert enc["input_features"].shape[0] == 1
    assert (enc["video_grid_thw"][:, 0] * 2).tolist() == [10, 6]  # 5 frames pad to the temporal patch


def test_qwen3_vl_sees_the_real_frame_timestamps(hf_judge, media, req, parts):
    from judgeanything.judges.hf_inputs import prepare_request

    judge = hf_judge("qwen3_vl", "generate")
    judge._ensure_loaded()
    v = media["mp4_silent"]
    late = EncodedVideo(frames=v.frames[:4], timestamps=[5.0, 5.2, 5.4, 5.6], fps=5.0, role="query")
    prep = prepare_request("", parts("Watch: ", late), capabilities=judge.capabilities, judge="t",
                           sampling_rate=None, video_fps_fallback=2.0)
    text = judge._proc.apply_chat_template(prep.messages, tokenize=False, add_generation_prompt=True)
    enc = judge._encode([0], {0: prep}, {0: text})
    decoded = judge._tok.decode(enc["input_ids"][0])
    # Qwen3-VL marks each temporal patch (2 frames) with the mean time of its frames
    assert "<5.1 seconds>" in decoded and "<5.5 seconds>" in decoded and "<0.1 seconds>" not in decoded


def test_video_audio_track_needs_a_hearing_model_or_a_drop_downgrade(hf_judge, media, req, parts, judge_run):
    rq = req("av", "score", parts("Watch: ", media["mp4"]))
    strict = judge_run(hf_judge("qwen2_vl", "logprob"), [rq])[0]
    assert strict.failure is not None and strict.failure.kind == "unsupported_modality"
    assert "audio" in strict.failure.detail
    lenient = judge_run(hf_judge("qwen2_vl", "logprob", downgrades={"audio": "drop"}), [rq])[0]
    assert lenient.failure is None and isinstance(lenient.outcomes[0], Verdict)
    assert [e["event"] for e in lenient.extra["media_log"]] == ["downgrade"]


def test_audio_is_resampled_to_the_processor_rate_and_recorded(hf_judge, media, req, parts, judge_run):
    judge = hf_judge("qwen2_audio", "logprob")
    res = judge_run(judge, [req("wav", "score", parts("Hear: ", media["wav"])),
                            req("mp3", "score", parts("Hear: ", media["mp3"]))])
    assert res[0].extra["media_log"] == [{"part": "part 1 (audio, query)", "event": "resampled",
                                          "from_hz": 44100, "to_hz": 16000}]
    assert "media_log" not in res[1].extra  # already 16 kHz


def test_audio_longer_than_the_models_window_is_cut_visibly(hf_judge, req, parts, judge_run):
    """The tiny Whisper feature extractor holds 5 s (Qwen2-Audio's real one 30 s). Left to the processor, a
    7 s clip would get placeholders for 7 s but features for 5 s; the judge cuts it and says so."""
    from judgeanything.modalities.base import EncodedAudio

    t = np.arange(7 * 16000) / 16000
    long = EncodedAudio((0.2 * np.sin(2 * np.pi * 300 * t)).astype(np.float32), 16000, role="response 1")
    for family in ("qwen2_audio", "qwen2_5_omni"):
        r = judge_run(hf_judge(family, "logprob"), [req("long", "score", parts("Hear: ", long))])[0]
        assert r.failure is None and isinstance(r.outcomes[0], Verdict)
        assert r.extra["media_log"][0]["event"] == "truncated"
        assert (r.extra["media_log"][0]["kept_s"], r.extra["media_log"][0]["of_s"]) == (5.0, 7.0)


def test_a_request_the_processor_rejects_fails_alone(hf_judge, media, req, parts, judge_run):
    from PIL import Image

    from judgeanything.modalities.base import EncodedImage

    banner = EncodedImage(image=Image.new("RGB", (2000, 3), (200, 10, 10)), role="query")
    judge = hf_judge("qwen2_vl", "logprob")
    res = judge_run(judge, [req("ok1", "pair", parts("A ", media["png"])),
                            req("bad", "pair", parts("B ", banner)),
                            req("ok2", "score", parts("C ", media["jpg"]))])
    assert res[1].failure is not None and res[1].failure.kind == "media_error"
    assert "aspect ratio" in res[1].failure.detail
    assert all(r.failure is None and isinstance(r.outcomes[0], Verdict) for r in (res[0], res[2]))
    alone = judge_run(judge, [req("ok1", "pair", parts("A ", media["png"]))])[0]
    assert alone.outcomes[0].probs == pytest.approx(res[0].outcomes[0].probs, abs=1e-4)


def test_logprob_refuses_batch_ranking(hf_judge, req, parts, judge_run):
    judge = hf_judge("qwen2", "logprob")
    assert judge.settings == frozenset({"score", "pair", "rules"})
    assert hf_judge("qwen2", "generate").settings == frozenset({"score", "pair", "batch", "rules"})
    res = judge_run(judge, [req("b", "batch", parts("Rank A and B.")), req("p", "pair", parts("A or B?"))])
    assert res[0].failure == Failure("parse_fail", BATCH_UNSUPPORTED)
    assert res[1].failure is None and res[1].outcomes[0].rubric == "overall"


def test_rubric_passes_continue_the_previous_answers(hf_judge, req, parts, judge_run):
    """Rubric k is read after the argmax answers of rubrics 1..k-1: the last rubric's probabilities equal a
    single read whose prefill already holds those answers."""
    from judgeanything.judges.hf_logprob import prefill, read_verdict

    judge = hf_judge("qwen2", "logprob")
    rq = req("r", "score", parts("Score it."), RUBRICS)
    res = judge_run(judge, [rq])[0]
    chosen = [(o.rubric, str(o.value)) for o in res.outcomes]
    import torch

    text = judge._proc.apply_chat_template(
        [{"role": "system", "content": rq.prompt.system}, {"role": "user", "content": "Score it."}],
        tokenize=False, add_generation_prompt=True) + prefill("score", RUBRICS[-1], chosen[:-1])
    enc = judge._tok([text], return_tensors="pt")
    with torch.inference_mode():
        logits = judge._runner(**enc).logits[0, -1].float()
    ids = res.extra["candidate_token_ids"]
    v = read_verdict("score", RUBRICS[-1], {c: float(logits[t]) for c, t in ids.items()},
                     float(torch.logsumexp(logits, -1)))
    assert v.verdict.probs == pytest.approx(res.outcomes[-1].probs, abs=1e-6)


def test_greedy_generation_is_deterministic_and_length_is_reported(hf_judge, req, parts, judge_run):
    judge = hf_judge("qwen2", "generate", sampling={"max_tokens": 3})
    rq = req("g", "pair", parts("Say something."))
    a, b = judge_run(judge, [rq])[0], judge_run(judge, [rq])[0]
    assert a.raw == b.raw
    # random weights almost never emit <|im_end|> within 3 tokens; when they do, "stop" must say so
    assert (a.finish_reason, a.usage["completion_tokens"]) in (("length", 3), ("stop", 1), ("stop", 2), ("stop", 3))


def test_bad_parts_are_media_errors(hf_judge, req, parts, judge_run):
    from judgeanything.modalities.base import EncodedAudio

    judge = hf_judge("qwen2_5_omni", "logprob")
    stereo = EncodedAudio(samples=np.zeros((2, 100), np.float32), sample_rate=16000)
    empty = EncodedAudio(samples=np.zeros(0, np.float32), sample_rate=16000)
    floats = EncodedVideo(frames=np.zeros((2, 8, 8, 3), np.float32), timestamps=[0, 1], fps=1.0)
    res = judge_run(judge, [req(str(i), "score", parts("x ", p)) for i, p in enumerate((stereo, empty, floats))])
    details = [r.failure.detail for r in res]
    assert all(r.failure.kind == "media_error" for r in res)
    assert "mono" in details[0] and "no samples" in details[1] and "uint8" in details[2]


def test_full_omni_checkpoint_is_judged_by_its_thinker(tiny_model, hf_judge, tmp_path, media, req, parts, judge_run):
    """A full Qwen2.5-Omni checkpoint (model_type qwen2_5_omni: thinker + speech talker) is loaded without
    the talker and judged by its thinker: same verdicts as the bare thinker with the same weights."""
    import shutil

    import torch
    from transformers import AutoConfig, Qwen2_5OmniConfig
    from transformers.models.qwen2_5_omni.modeling_qwen2_5_omni import (
        Qwen2_5OmniForConditionalGeneration,
        Qwen2_5OmniThinkerForConditionalGeneration,
    )

    from judgeanything.judges.hf import HFJudge

    thinker_dir = tiny_model("qwen2_5_omni")
    full_dir = tmp_path / "full-omni"
    cfg = Qwen2_5OmniConfig(thinker_config=AutoConfig.from_pretrained(thinker_dir).to_dict(),
                            enable_audio_output=False)
    full = Qwen2_5OmniForConditionalGeneration(cfg)
    full.thinker.load_state_dict(Qwen2_5OmniThinkerForConditionalGeneration.from_pretrained(thinker_dir).state_dict())
    full.save_pretrained(full_dir)
    for f in thinker_dir.iterdir():
        if f.name not in ("config.json", "model.safetensors", "generation_config.json"):
            shutil.copy(f, full_dir / f.name)
    torch.save({}, full_dir / "spk_dict.pt")  # the full model's from_pretrained requires a speaker file

    pk = {"videos_kwargs": {"size": {"shortest_edge": 56 * 56, "longest_edge": 112 * 112 * 4}}}
    judge = HFJudge(str(full_dir), verdict="logprob", device="cpu", dtype="float32", processor_kwargs=pk)
    assert judge.capabilities == frozenset({"text", "image", "audio", "video"})
    rq = req("o", "pair", parts("Which? ", media["png"], media["mp3"]))
    got = judge_run(judge, [rq])[0]
    assert type(judge._runner).__name__ == "Qwen2_5OmniThinkerForConditionalGeneration"
    assert not hasattr(judge._model, "talker")
    ref = judge_run(hf_judge("qwen2_5_omni", "logprob"), [rq])[0]
    assert got.outcomes[0].value == ref.outcomes[0].value
    assert got.outcomes[0].probs == pytest.approx(ref.outcomes[0].probs, abs=1e-5)


def test_sampling_is_seeded(hf_judge, req, parts, judge_run):
    rq = req("s", "pair", parts("Say something."))
    a = judge_run(hf_judge("qwen2", "generate", sampling={"temperature": 1.0, "seed": 5}), [rq])[0].raw
    b = judge_run(hf_judge("qwen2", "generate", sampling={"temperature": 1.0, "seed": 5}), [rq])[0].raw
    c = judge_run(hf_judge("qwen2", "generate", sampling={"temperature": 1.0, "seed": 6}), [rq])[0].raw
    greedy = judge_run(hf_judge("qwen2", "generate"), [rq])[0].raw
    assert a == b  # same seed, same sample
    assert len({a, c, greedy}) > 1  # near-uniform random weights: another seed samples other tokens


def test_logprob_verdicts_on_another_score_scale(hf_judge, req, parts, judge_run):
    """``setting.scale`` reaches the token-probability reader: a 1–3 scale reads three candidates, a named
    scale reads its level names when each is one token, and a 1–10 scale — "10" is two tokens for Qwen's
    digit-by-digit tokenizer — is a clear config error, not a misread "1"."""
    import dataclasses
    import json

    from judgeanything.judges.base import JudgeConfigError
    from judgeanything.schema import ScoreScale

    judge = hf_judge("qwen2", "logprob")
    base = req("s3", "score", parts("Score it."))
    three = dataclasses.replace(base, prompt=dataclasses.replace(base.prompt, scale=ScoreScale(1, 3)))
    res = judge_run(judge, [three])[0]
    assert res.failure is None
    v = res.outcomes[0]
    assert set(v.probs) == {"1", "2", "3"} and v.value in (1, 2, 3) and 1.0 <= v.expected <= 3.0
    assert sum(v.probs.values()) == pytest.approx(1.0)
    grades = ScoreScale.parse(["C", "B", "A"])  # letter grades: one token each even in the tiny tokenizer
    byname = dataclasses.replace(base, key="sn", prompt=dataclasses.replace(base.prompt, scale=grades))
    res = judge_run(judge, [byname])[0]
    v = res.outcomes[0]
    assert set(v.probs) == {"1", "2", "3"} and v.value in (1, 2, 3)
    assert json.loads(res.raw) == {"overall_score": grades.label(v.value)}
    with pytest.raises(JudgeConfigError, match="'bad' is not a single next token"):  # 3 tokens here
        bad = dataclasses.replace(base.prompt, scale=ScoreScale.parse(["bad", "ok", "good"]))
        judge_run(judge, [dataclasses.replace(base, key="sb", prompt=bad)])
    ten = dataclasses.replace(base, key="s10", prompt=dataclasses.replace(base.prompt, scale=ScoreScale(1, 10)))
    with pytest.raises(JudgeConfigError, match="'10' is not a single next token"):
        judge_run(judge, [ten])
