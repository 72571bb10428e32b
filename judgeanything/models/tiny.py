"""Tiny random-weight models of REAL architectures, built fully offline.

Each family is the genuine transformers architecture (config → model → ``save_pretrained``) at a toy size
(hidden size 64, 2 layers; the saved folder is 0.46 MB for qwen2 to 0.93 MB for qwen3_vl, measured with
transformers 5.24.0), with an offline byte-level ``Qwen2Tokenizer`` (the 256 GPT-2 byte symbols, no
training, no download), a chat template and the family's processor saved next to the weights. So
``AutoProcessor.from_pretrained(d)`` and ``AutoModelForMultimodalLM.from_pretrained(d)``
(``AutoModelForCausalLM`` for ``qwen2``) work with ``HF_HUB_OFFLINE=1``. The weights are random: the text
they generate is garbage, but shapes, preprocessing, batching and next-token probabilities are real, which
is what tests, benchmarks and the demo's ``smoke`` judge need.

The recipe and the minimal configs are the measured ones of docs/media-and-models.md §2
(byte-level vocab: ``<|endoftext|>`` = 0, then bytes 1..256, so the digits "0".."9" are single tokens).

Families (:data:`FAMILIES`):

========== ============================================== =====================
family     architecture (model_type)                      media it accepts
========== ============================================== =====================
qwen2        Qwen2ForCausalLM (``qwen2``), 4 BPE merges     text
qwen2_vl     Qwen2-VL (``qwen2_vl``)                        image, video
qwen2_5_vl   Qwen2.5-VL (``qwen2_5_vl``)                    image, video
qwen3_vl     Qwen3-VL (``qwen3_vl``)                        image, video
qwen2_audio  Qwen2-Audio (``qwen2_audio``)                  audio
qwen2_5_omni Qwen2.5-Omni thinker (``qwen2_5_omni_thinker``) image, audio, video
llava        LLaVA, CLIP vision + Qwen2 text (``llava``)    image
idefics3     Idefics3, SigLIP vision + Llama text           image
========== ============================================== =====================
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

FAMILIES: tuple[str, ...] = (
    "qwen2",
    "qwen2_vl",
    "qwen2_5_vl",
    "qwen3_vl",
    "qwen2_audio",
    "qwen2_5_omni",
    "llava",
    "idefics3",
)

#: Bumped whenever a family's recipe changes, so cached folders of an older recipe are not reused.
RECIPE_VERSION = "v1"

#: Audio sample rate (Hz) of every tiny audio processor (Whisper feature extractor, as the real models).
AUDIO_SAMPLE_RATE = 16000

# Text decoder shared by every family (docs/media-and-models.md §2, "Config").
_TEXT = dict(
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=4096,
    tie_word_embeddings=False,
)
# Multimodal RoPE of the Qwen VL/Omni text models: the section sizes sum to head_dim / 2 = 64 / 4 / 2 = 8.
_MROPE = {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]}

_CHAT = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for c in message['content'] %}"
    "{% if c['type'] == 'image' %}IMAGE_PH"
    "{% elif c['type'] == 'video' %}VIDEO_PH"
    "{% elif c['type'] == 'audio' %}AUDIO_PH"
    "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _chat_template(image: str = "", video: str = "", audio: str = "") -> str:
    """A minimal Qwen-style chat template (ChatML) with this family's media placeholders.

    A media item the family has no placeholder for renders as nothing, which is exactly how real models
    silently ignore media they cannot take — the judge must refuse such requests itself.
    """
    return _CHAT.replace("IMAGE_PH", image).replace("VIDEO_PH", video).replace("AUDIO_PH", audio)


def default_cache_dir() -> Path:
    """``$JUDGEANYTHING_CACHE`` or ``~/.cache/judgeanything``."""
    env = os.environ.get("JUDGEANYTHING_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "judgeanything"


# --------------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------------

_MERGES = [("Ġ", "t"), ("h", "e"), ("i", "n"), ("Ġ", "a")]


def _byte_tokenizer(specials: list[str], named: dict[str, str] | None = None, *, merges: bool = False,
                    chat_template: str = "") -> Any:
    """An offline byte-level ``Qwen2Tokenizer``: ``<|endoftext|>`` = 0, the 256 GPT-2 byte symbols
    (ids 1..256), optional BPE merges (the GGUF converter / llama.cpp need at least one), then the
    special tokens. ``named`` special tokens become tokenizer attributes (``tokenizer.image_token``...),
    which the Omni processors read. EOS = ``<|im_end|>``, PAD = ``<|endoftext|>``.
    """
    from transformers.convert_slow_tokenizer import bytes_to_unicode
    from transformers.models.qwen2.tokenization_qwen2 import Qwen2Tokenizer

    vocab: dict[str, int] = {"<|endoftext|>": 0}
    for ch in bytes_to_unicode().values():
        vocab.setdefault(ch, len(vocab))
    merge_list = _MERGES if merges else []
    for a, b in merge_list:
        vocab.setdefault(a + b, len(vocab))
    # merges as (a, b) pairs, which the tokenizer accepts although its annotation says list[str]
    tok = Qwen2Tokenizer(vocab=vocab, merges=cast(Any, list(merge_list)), eos_token="<|im_end|>",
                         pad_token="<|endoftext|>", unk_token="<|endoftext|>",
                         extra_special_tokens=dict(named or {}))
    tok.add_tokens(["<|im_start|>", "<|im_end|>", *specials], special_tokens=True)
    tok.chat_template = chat_template
    return tok


def _vocab_size(tok: Any) -> int:
    """The model's embedding rows: the tokenizer's size rounded up to a multiple of 32."""
    return (len(tok) + 31) // 32 * 32


def _text_config(tok: Any, **extra: Any) -> dict[str, Any]:
    ids = {"bos_token_id": tok.convert_tokens_to_ids("<|im_start|>"),
           "eos_token_id": tok.eos_token_id, "pad_token_id": tok.pad_token_id}
    return {**_TEXT, "vocab_size": _vocab_size(tok), **ids, **extra}


def _set_generation_ids(model: Any, tok: Any) -> None:
    gc = model.generation_config
    gc.eos_token_id = tok.eos_token_id
    gc.pad_token_id = tok.pad_token_id
    gc.bos_token_id = tok.convert_tokens_to_ids("<|im_start|>")
    gc.do_sample = False


def _ids(tok: Any, *tokens: str) -> list[int]:
    return [tok.convert_tokens_to_ids(t) for t in tokens]


# --------------------------------------------------------------------------------------------------
# Families
# --------------------------------------------------------------------------------------------------

def _qwen2_video_processor() -> Any:
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    # cap_pixels_per_frame=True: the reference (qwen-vl-utils) total-pixel bound, and no warning.
    return Qwen2VLVideoProcessor(size={"shortest_edge": 56 * 56, "longest_edge": 112 * 112 * 4},
                                 cap_pixels_per_frame=True)


_QWEN_VL_SPECIALS = ["<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]
_QWEN_VL_IMAGE = "<|vision_start|><|image_pad|><|vision_end|>"
_QWEN_VL_VIDEO = "<|vision_start|><|video_pad|><|vision_end|>"


def _qwen_vl_ids(tok: Any) -> dict[str, Any]:  # Any: spread into typed config constructors
    vs, ve, im, vid = _ids(tok, *_QWEN_VL_SPECIALS)
    return {"vision_start_token_id": vs, "vision_end_token_id": ve,
            "image_token_id": im, "video_token_id": vid}


def _build_qwen2() -> tuple[Any, Any]:
    from transformers import Qwen2Config, Qwen2ForCausalLM

    tok = _byte_tokenizer([], merges=True, chat_template=_chat_template())
    model = Qwen2ForCausalLM(Qwen2Config(**_text_config(tok)))
    return model, tok


def _build_qwen2_vl() -> tuple[Any, Any]:
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLProcessor
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    template = _chat_template(image=_QWEN_VL_IMAGE, video=_QWEN_VL_VIDEO)
    tok = _byte_tokenizer(_QWEN_VL_SPECIALS, chat_template=template)
    ids = _qwen_vl_ids(tok)
    cfg = Qwen2VLConfig(
        text_config=_text_config(tok, rope_parameters=dict(_MROPE), **ids),
        vision_config=dict(depth=1, embed_dim=32, hidden_size=64, num_heads=2, mlp_ratio=2, patch_size=14,
                           spatial_merge_size=2, temporal_patch_size=2),
        **ids,
    )
    model = Qwen2VLForConditionalGeneration(cfg)
    proc = Qwen2VLProcessor(
        image_processor=Qwen2VLImageProcessorPil(size={"shortest_edge": 56 * 56, "longest_edge": 112 * 112}),
        tokenizer=tok,
        video_processor=_qwen2_video_processor(),
        chat_template=template,
    )
    return model, proc


def _build_qwen2_5_vl() -> tuple[Any, Any]:
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2_5_VLProcessor
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    template = _chat_template(image=_QWEN_VL_IMAGE, video=_QWEN_VL_VIDEO)
    tok = _byte_tokenizer(_QWEN_VL_SPECIALS, chat_template=template)
    ids = _qwen_vl_ids(tok)
    cfg = Qwen2_5_VLConfig(
        text_config=_text_config(tok, rope_parameters=dict(_MROPE), **ids),
        vision_config=_QWEN25_VISION,
        **ids,
    )
    model = Qwen2_5_VLForConditionalGeneration(cfg)
    proc = Qwen2_5_VLProcessor(
        image_processor=Qwen2VLImageProcessorPil(size={"shortest_edge": 56 * 56, "longest_edge": 112 * 112}),
        tokenizer=tok,
        video_processor=_qwen2_video_processor(),
        chat_template=template,
    )
    return model, proc


_QWEN25_VISION = dict(depth=2, hidden_size=32, intermediate_size=64, out_hidden_size=64, num_heads=2,
                      patch_size=14, spatial_merge_size=2, temporal_patch_size=2, window_size=112,
                      fullatt_block_indexes=[1])


def _build_qwen3_vl() -> tuple[Any, Any]:
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration, Qwen3VLProcessor
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil
    from transformers.models.qwen3_vl.video_processing_qwen3_vl import Qwen3VLVideoProcessor

    template = _chat_template(image=_QWEN_VL_IMAGE, video=_QWEN_VL_VIDEO)
    tok = _byte_tokenizer(_QWEN_VL_SPECIALS, chat_template=template)
    ids = _qwen_vl_ids(tok)
    rope = {**_MROPE, "mrope_interleaved": True}
    cfg = Qwen3VLConfig(
        text_config=_text_config(tok, head_dim=16, rope_parameters=rope),
        vision_config=dict(depth=2, hidden_size=32, intermediate_size=64, out_hidden_size=64, num_heads=2,
                           patch_size=16, spatial_merge_size=2, temporal_patch_size=2,
                           num_position_embeddings=64, deepstack_visual_indexes=[0]),
        **ids,
    )
    model = Qwen3VLForConditionalGeneration(cfg)
    proc = Qwen3VLProcessor(
        image_processor=Qwen2VLImageProcessorPil(patch_size=16, size={"shortest_edge": 64 * 64,
                                                                      "longest_edge": 128 * 128}),
        tokenizer=tok,
        video_processor=Qwen3VLVideoProcessor(patch_size=16, size={"shortest_edge": 64 * 64,
                                                                   "longest_edge": 128 * 128 * 4},
                                              cap_pixels_per_frame=True),
        chat_template=template,
    )
    return model, proc


def _whisper_features() -> Any:
    from transformers import WhisperFeatureExtractor

    # chunk_length 5 s instead of Whisper's 30 s: every clip is padded to the chunk, 30 s = 750 tokens.
    return WhisperFeatureExtractor(feature_size=128, sampling_rate=AUDIO_SAMPLE_RATE, chunk_length=5)


def _build_qwen2_audio() -> tuple[Any, Any]:
    from transformers import Qwen2AudioConfig, Qwen2AudioForConditionalGeneration, Qwen2AudioProcessor

    specials = ["<|audio_bos|>", "<|audio_eos|>", "<|AUDIO|>"]
    template = _chat_template(audio="<|audio_bos|><|AUDIO|><|audio_eos|>")
    tok = _byte_tokenizer(specials, chat_template=template)
    cfg = Qwen2AudioConfig(
        audio_config=dict(num_mel_bins=128, encoder_layers=1, encoder_attention_heads=2, encoder_ffn_dim=64,
                          d_model=32, max_source_positions=250),
        text_config=_text_config(tok, model_type="qwen2"),
        audio_token_index=tok.convert_tokens_to_ids("<|AUDIO|>"),
    )
    model = Qwen2AudioForConditionalGeneration(cfg)
    proc = Qwen2AudioProcessor(feature_extractor=_whisper_features(), tokenizer=tok, chat_template=template)
    return model, proc


def _build_qwen2_5_omni() -> tuple[Any, Any]:
    from transformers import Qwen2_5OmniProcessor, Qwen2_5OmniThinkerConfig
    from transformers.models.qwen2_5_omni.modeling_qwen2_5_omni import (
        Qwen2_5OmniThinkerForConditionalGeneration,
    )
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    named = {"image_token": "<|IMAGE|>", "audio_token": "<|AUDIO|>", "video_token": "<|VIDEO|>",
             "vision_bos_token": "<|vision_bos|>", "vision_eos_token": "<|vision_eos|>",
             "audio_bos_token": "<|audio_bos|>", "audio_eos_token": "<|audio_eos|>"}
    template = _chat_template(image="<|vision_bos|><|IMAGE|><|vision_eos|>",
                              video="<|vision_bos|><|VIDEO|><|vision_eos|>",
                              audio="<|audio_bos|><|AUDIO|><|audio_eos|>")
    tok = _byte_tokenizer([], named, chat_template=template)
    image, audio, video, a_bos, a_eos, v_bos = _ids(
        tok, "<|IMAGE|>", "<|AUDIO|>", "<|VIDEO|>", "<|audio_bos|>", "<|audio_eos|>", "<|vision_bos|>")
    # read by get_rope_index, not a declared field (docs/media-and-models.md §2)
    undeclared: dict[str, Any] = {"vision_start_token_id": v_bos}
    cfg = Qwen2_5OmniThinkerConfig(
        audio_config=dict(num_mel_bins=128, encoder_layers=1, encoder_attention_heads=2, encoder_ffn_dim=64,
                          d_model=32, output_dim=64, n_window=100, max_source_positions=1500),
        vision_config={**_QWEN25_VISION, "out_hidden_size": 64},
        text_config=_text_config(tok, rope_parameters=dict(_MROPE)),
        audio_token_index=audio, image_token_index=image, video_token_index=video,
        audio_start_token_id=a_bos, audio_end_token_id=a_eos, **undeclared,
    )
    model = Qwen2_5OmniThinkerForConditionalGeneration(cfg)
    proc = Qwen2_5OmniProcessor(
        image_processor=Qwen2VLImageProcessorPil(size={"shortest_edge": 56 * 56, "longest_edge": 112 * 112}),
        video_processor=_qwen2_video_processor(),
        feature_extractor=_whisper_features(),
        tokenizer=tok,
        chat_template=template,
    )
    return model, proc


def _build_llava() -> tuple[Any, Any]:
    from transformers import LlavaConfig, LlavaForConditionalGeneration, LlavaProcessor
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    template = _chat_template(image="<image>")
    tok = _byte_tokenizer(["<image>"], chat_template=template)
    cfg = LlavaConfig(
        vision_config=dict(model_type="clip_vision_model", hidden_size=32, intermediate_size=64,
                           num_hidden_layers=2, num_attention_heads=2, image_size=28, patch_size=14,
                           projection_dim=32),
        text_config=_text_config(tok, model_type="qwen2"),
        image_token_index=tok.convert_tokens_to_ids("<image>"),
        image_seq_length=4,
        vision_feature_layer=-2,
        vision_feature_select_strategy="default",
    )
    model = LlavaForConditionalGeneration(cfg)
    proc = LlavaProcessor(
        image_processor=CLIPImageProcessorPil(size={"shortest_edge": 28},
                                              crop_size={"height": 28, "width": 28}),
        tokenizer=tok, patch_size=14, vision_feature_select_strategy="default", num_additional_image_tokens=1,
        image_token="<image>", chat_template=template,
    )
    return model, proc


def _build_idefics3() -> tuple[Any, Any]:
    from transformers import Idefics3Config, Idefics3ForConditionalGeneration, Idefics3Processor
    from transformers.models.idefics3.image_processing_pil_idefics3 import Idefics3ImageProcessorPil

    grid = [f"<row_{r}_col_{c}>" for r in range(1, 7) for c in range(1, 7)]
    specials = ["<fake_token_around_image>", "<image>", "<global-img>", "<end_of_utterance>", *grid]
    template = _chat_template(image="<image>")
    tok = _byte_tokenizer(specials, chat_template=template)
    cfg = Idefics3Config(
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                           image_size=28, patch_size=14),
        text_config=_text_config(tok, model_type="llama"),
        scale_factor=2,
        image_token_id=tok.convert_tokens_to_ids("<image>"),
    )
    model = Idefics3ForConditionalGeneration(cfg)
    proc = Idefics3Processor(
        image_processor=Idefics3ImageProcessorPil(size={"longest_edge": 28},
                                                  max_image_size={"longest_edge": 28},
                                                  do_image_splitting=False),
        tokenizer=tok, image_seq_len=1, chat_template=template,
    )
    return model, proc


_BUILDERS: dict[str, Callable[[], tuple[Any, Any]]] = {
    "qwen2": _build_qwen2,
    "qwen2_vl": _build_qwen2_vl,
    "qwen2_5_vl": _build_qwen2_5_vl,
    "qwen3_vl": _build_qwen3_vl,
    "qwen2_audio": _build_qwen2_audio,
    "qwen2_5_omni": _build_qwen2_5_omni,
    "llava": _build_llava,
    "idefics3": _build_idefics3,
}


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def build_tiny_model(family: str, out_dir: Path, *, seed: int = 0) -> Path:
    """Build a tiny random-weight model of ``family`` into ``out_dir`` and return ``out_dir``.

    The folder holds ``config.json``, ``generation_config.json``, ``model.safetensors``, the tokenizer
    (``tokenizer.json`` with a chat template) and, for multimodal families, the processor
    (``processor_config.json``). Weights are drawn after ``torch.manual_seed(seed)``, so the same family
    and seed give the same weights. ``out_dir`` is created; existing files in it are overwritten.
    Use :func:`smoke_model_dir` for a cached, atomically built copy.

    Raises:
        ValueError: ``family`` is not one of :data:`FAMILIES`.
    """
    if family not in _BUILDERS:
        raise ValueError(f"unknown tiny model family {family!r}; known: {', '.join(FAMILIES)}")
    import torch
    from transformers.utils import logging as hf_logging

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng_state = torch.random.get_rng_state()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a 1 MB save needs no progress bar
    try:
        torch.manual_seed(seed)
        model, proc = _BUILDERS[family]()
        tok = getattr(proc, "tokenizer", proc)
        _set_generation_ids(model, tok)
        model.eval()
        model.save_pretrained(out_dir)
        proc.save_pretrained(out_dir)
    finally:
        torch.random.set_rng_state(rng_state)
        if bars:
            hf_logging.enable_progress_bar()
    (out_dir / "judgeanything_tiny.json").write_text(
        json.dumps({"family": family, "seed": seed, "recipe": RECIPE_VERSION,
                    "note": "random weights of a real architecture; for tests and smoke runs only"}, indent=1)
    )
    return out_dir


def smoke_model_dir(family: str = "qwen2_5_omni", cache_dir: Path | None = None) -> Path:
    """The folder of the cached tiny ``family`` model (seed 0), built on first use.

    Location: ``<cache_dir or default_cache_dir()>/models/<family>-tiny-v1``. The model is built in a
    temporary sibling folder and renamed into place, so a concurrent process never sees a half-built
    folder; when two processes race, the first rename wins and the loser's copy is discarded.

    Raises:
        ValueError: unknown ``family``.
        OSError: the cache folder cannot be written.
    """
    if family not in _BUILDERS:
        raise ValueError(f"unknown tiny model family {family!r}; known: {', '.join(FAMILIES)}")
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    final = root / "models" / f"{family}-tiny-{RECIPE_VERSION}"
    if (final / "config.json").is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{family}-building-", dir=final.parent))
    try:
        build_tiny_model(family, tmp, seed=0)
        try:
            os.rename(tmp, final)
        except OSError:
            # Another process renamed its finished copy first (the target is a non-empty folder now).
            if not (final / "config.json").is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


__all__ = ["AUDIO_SAMPLE_RATE", "FAMILIES", "RECIPE_VERSION", "build_tiny_model", "default_cache_dir",
           "smoke_model_dir"]
