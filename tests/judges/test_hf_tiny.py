"""Tiny real-architecture models: every family saves and reloads offline through the Auto classes,
deterministically, and the smoke cache builds once, atomically."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pytest

from judgeanything.models.tiny import FAMILIES, build_tiny_model, smoke_model_dir

pytestmark = pytest.mark.slow  # builds and loads models

EXPECTED = {
    "qwen2": ("Qwen2ForCausalLM", "Qwen2Tokenizer"),
    "qwen2_vl": ("Qwen2VLForConditionalGeneration", "Qwen2VLProcessor"),
    "qwen2_5_vl": ("Qwen2_5_VLForConditionalGeneration", "Qwen2_5_VLProcessor"),
    "qwen3_vl": ("Qwen3VLForConditionalGeneration", "Qwen3VLProcessor"),
    "qwen2_audio": ("Qwen2AudioForConditionalGeneration", "Qwen2AudioProcessor"),
    "qwen2_5_omni": ("Qwen2_5OmniThinkerForConditionalGeneration", "Qwen2_5OmniProcessor"),
    "llava": ("LlavaForConditionalGeneration", "LlavaProcessor"),
    "idefics3": ("Idefics3ForConditionalGeneration", "Idefics3Processor"),
}


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_reloads_offline_through_the_auto_classes(family, tiny_model):
    from transformers import AutoModelForCausalLM, AutoModelForMultimodalLM, AutoProcessor

    d = tiny_model(family)
    files = {p.name for p in d.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "generation_config.json"} <= files
    assert sum(p.stat().st_size for p in d.iterdir()) < 2_000_000
    proc = AutoProcessor.from_pretrained(d)
    model = (AutoModelForCausalLM if family == "qwen2" else AutoModelForMultimodalLM).from_pretrained(d)
    assert (type(model).__name__, type(proc).__name__) == EXPECTED[family]
    tok = getattr(proc, "tokenizer", proc)
    assert [tok.convert_tokens_to_ids(c) for c in "012345"] == [16, 17, 18, 19, 20, 21]  # byte-level digits
    assert model.generation_config.eos_token_id == tok.eos_token_id == tok.convert_tokens_to_ids("<|im_end|>")
    assert len(tok) <= model.config.get_text_config().vocab_size
    assert tok.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False,
                                   add_generation_prompt=True).endswith("<|im_start|>assistant\n")
    meta = json.loads((d / "judgeanything_tiny.json").read_text())
    assert (meta["family"], meta["seed"]) == (family, 0)


def test_same_seed_same_weights_other_seed_other_weights(tmp_path):
    a = build_tiny_model("llava", tmp_path / "a", seed=3)
    b = build_tiny_model("llava", tmp_path / "b", seed=3)
    c = build_tiny_model("llava", tmp_path / "c", seed=4)
    assert _sha(a / "model.safetensors") == _sha(b / "model.safetensors") != _sha(c / "model.safetensors")
    import torch

    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    build_tiny_model("qwen2", tmp_path / "d", seed=9)
    assert torch.equal(torch.rand(1), before)  # the caller's random stream is left alone


def test_text_model_has_bpe_merges_for_llama_cpp(tiny_model):
    tok = json.loads((tiny_model("qwen2") / "tokenizer.json").read_text())
    assert len(tok["model"]["merges"]) >= 1


def test_unknown_family_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown tiny model family"):
        build_tiny_model("gpt5", tmp_path)
    with pytest.raises(ValueError, match="unknown tiny model family"):
        smoke_model_dir("gpt5", tmp_path)


def test_smoke_dir_is_built_once_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("JUDGEANYTHING_CACHE", str(tmp_path / "env-cache"))
    d = smoke_model_dir("qwen2")
    assert d == tmp_path / "env-cache" / "models" / "qwen2-tiny-v1"
    stamp = (d / "model.safetensors").stat().st_mtime_ns
    assert smoke_model_dir("qwen2") == d
    assert (d / "model.safetensors").stat().st_mtime_ns == stamp
    assert smoke_model_dir("qwen2", tmp_path / "explicit") == tmp_path / "explicit" / "models" / "qwen2-tiny-v1"


def test_concurrent_builders_leave_one_complete_folder(tmp_path):
    results: list[Path] = []
    errors: list[BaseException] = []

    def build() -> None:
        try:
            results.append(smoke_model_dir("qwen2_audio", tmp_path))
        except BaseException as e:  # collected and re-raised in the test thread
            errors.append(e)

    threads = [threading.Thread(target=build) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(results)) == 1
    models = tmp_path / "models"
    assert [p.name for p in models.iterdir()] == ["qwen2_audio-tiny-v1"]  # no half-built temp folders left
    assert (results[0] / "model.safetensors").is_file() and (results[0] / "processor_config.json").is_file()
