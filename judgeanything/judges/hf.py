"""The local transformers judge (``hf``): omni / VL / audio / text models through their own processors and
chat templates, batched, with optional token-probability verdicts.

Configured by ``conf/judge/hf.yaml`` (Hydra ``_target_``). Two verdict modes:

* ``generate``: greedy (by default) generation of the judge's answer; ``JudgeResult.raw`` is the decoded
  new text for :mod:`judgeanything.parsing`; ``finish_reason`` is ``"length"`` when ``max_new_tokens`` was
  reached without an end-of-sequence token, else ``"stop"``.
* ``logprob``: one forward pass per rubric reads the next-token distribution after an assistant prefill
  (CLUE, arXiv 2501.00192; see :mod:`judgeanything.judges.hf_logprob`); ``outcomes`` carry the verdicts
  with their probabilities; ``raw`` is the answer JSON the chosen tokens spell; ``usage["prompt_tokens"]``
  is summed over the passes (``usage["forward_passes"]``). Batch ranking → ``Failure("parse_fail")``.

Requests go through the model in batches of ``batch_size`` with LEFT padding (the last position of every
row is its own last prompt token, so generation and next-token reads are batch-invariant). Media are
given to the processor already decoded (see :mod:`judgeanything.judges.hf_inputs`): video frames are
never re-sampled (``do_sample_frames=False``) and their real fps/timestamps are passed; audio is
resampled to the processor's rate. A part the model cannot take fails its request with
``unsupported_modality``; a part the processor rejects fails its request with ``media_error`` while the
rest of the batch runs.

The model is loaded once, lazily, on the first :meth:`HFJudge.judge` call, in a one-thread executor that
also runs every model call (so the event loop is never blocked and the model is never used by two
threads at once).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from judgeanything.judges.base import Judge, JudgeConfigError, JudgeRequest, JudgeResult
from judgeanything.judges.capabilities import UnsupportedModality
from judgeanything.judges.hf_inputs import BadPart, PreparedRequest, prepare_request
from judgeanything.judges.hf_logprob import (
    BATCH_UNSUPPORTED,
    PREFILL_VERSION,
    TokenVerdict,
    candidate_token_ids,
    candidates_for,
    closed_answer,
    prefill,
    read_verdict,
)
from judgeanything.judges.sampling import SamplingConfig
from judgeanything.schema import CORE_MODALITIES, DEFAULT_SCORE_SCALE, Failure, ScoreScale, Verdict

log = logging.getLogger(__name__)

_ALL = frozenset(CORE_MODALITIES)
_VISION_VIDEO = frozenset({"text", "image", "video"})
_IMAGE = frozenset({"text", "image"})
_AUDIO = frozenset({"text", "audio"})

#: What each known architecture (config ``model_type``) takes (Omni: all four; Qwen-VL: image + video;
#: Qwen2-Audio: audio; LLaVA family / Idefics: image). Unknown types are derived from the processor.
MODEL_TYPE_CAPABILITIES: dict[str, frozenset[str]] = {
    "qwen2_5_omni": _ALL,
    "qwen2_5_omni_thinker": _ALL,
    "qwen3_omni_moe": _ALL,
    "qwen3_omni_moe_thinker": _ALL,
    "qwen2_vl": _VISION_VIDEO,
    "qwen2_5_vl": _VISION_VIDEO,
    "qwen3_vl": _VISION_VIDEO,
    "qwen3_vl_moe": _VISION_VIDEO,
    "qwen2_audio": _AUDIO,
    "llava": _IMAGE,
    "llava_next": _IMAGE,
    "idefics2": _IMAGE,
    "idefics3": _IMAGE,
    "qwen2": frozenset({"text"}),
    "qwen3": frozenset({"text"}),
    "llama": frozenset({"text"}),
}

#: model_type of each tiny family of :mod:`judgeanything.models.tiny` (``smoke:<family>`` models).
SMOKE_MODEL_TYPES: dict[str, str] = {
    "qwen2": "qwen2",
    "qwen2_vl": "qwen2_vl",
    "qwen2_5_vl": "qwen2_5_vl",
    "qwen3_vl": "qwen3_vl",
    "qwen2_audio": "qwen2_audio",
    "qwen2_5_omni": "qwen2_5_omni_thinker",
    "llava": "llava",
    "idefics3": "idefics3",
}

_DTYPES = ("auto", "float32", "float16", "bfloat16")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".json", ".jinja", ".model", ".txt", ".gguf", ".pt")


def _hub_offline() -> bool:
    """HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE, read now (huggingface_hub reads them at import only)."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().upper() in {"1", "ON", "YES", "TRUE"}:
            return True
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def _plain(x: Any) -> Any:
    """Hydra/OmegaConf containers (or any Mapping/sequence) → plain dicts/lists."""
    if isinstance(x, Mapping):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)) or (hasattr(x, "__iter__") and type(x).__name__ == "ListConfig"):
        return [_plain(v) for v in x]
    return x


def _merge(a: dict[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(out.get(k), dict) and isinstance(v, Mapping) else v
    return out


def _processor_capabilities(proc: Any) -> frozenset[str]:
    """Modalities a processor prepares: image/video processor, audio feature extractor (+ text)."""
    parts = (("image", "image_processor"), ("video", "video_processor"), ("audio", "feature_extractor"))
    return frozenset({"text"}) | frozenset(m for m, attr in parts if getattr(proc, attr, None) is not None)


def weights_digest(model_dir: Path) -> str:
    """SHA-256 (16 hex) of ``config.json``'s bytes plus the names and sizes of the model folder's files
    (weights, tokenizer, processor, template): changes whenever the model files change."""
    h = hashlib.sha256()
    cfg = model_dir / "config.json"
    h.update(cfg.read_bytes() if cfg.is_file() else b"")
    for f in sorted(model_dir.iterdir()):
        if f.is_file() and f.name.endswith(_WEIGHT_SUFFIXES):
            h.update(f"{f.name}:{f.stat().st_size};".encode())
    return h.hexdigest()[:16]


def _hf_sampling(sampling: SamplingConfig | Mapping[str, Any] | None) -> SamplingConfig:
    """The sampling config with the hf judge's defaults (512 new tokens), checked for what it can honour.

    Raises:
        JudgeConfigError: ``stop`` or a repetition penalty (no transformers equivalent of the same
            meaning), or ``top_p``/``top_k`` under greedy decoding (they would be ignored silently).
    """
    s = SamplingConfig.of(sampling, max_tokens=512)
    refused = [k for k in ("stop", "frequency_penalty", "presence_penalty") if getattr(s, k) is not None]
    if refused:
        raise JudgeConfigError(f"hf judge: judge.sampling.{refused[0]} is not supported by local generation")
    if s.greedy and (s.top_p is not None or s.top_k is not None):
        raise JudgeConfigError("hf judge: judge.sampling.top_p/top_k apply only when sampling "
                               "(judge.sampling.temperature > 0); decoding is greedy otherwise")
    return s


class HFJudge(Judge):
    """A local transformers model as a judge.

    Args:
        model: a local model folder, a Hugging Face hub id (must be in the local cache when
            ``HF_HUB_OFFLINE=1``), or ``smoke:<family>`` for the cached tiny random model of that family
            (:func:`judgeanything.models.tiny.smoke_model_dir`).
        name: display name in reports.
        dtype: ``"auto"`` (the checkpoint's), ``"float32"``, ``"float16"``, ``"bfloat16"``.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` (all visible GPUs via
            ``device_map="auto"``, else CPU).
        batch_size: requests per forward/generate call (left padding).
        sampling: decoding options (:class:`~judgeanything.judges.sampling.SamplingConfig`, or its fields
            as a mapping; Hydra ``judge.sampling.*``): ``max_tokens`` (default 512) is the generation limit
            (``max_new_tokens``); temperature 0 (the default) is greedy decoding; a temperature > 0 samples,
            with ``top_p`` / ``top_k``, after ``torch.manual_seed(seed)`` (seed 0 when unset) before each
            batch. ``stop`` and the repetition penalties are refused (no equivalent here).
        verdict: ``"generate"`` or ``"logprob"`` (token-probability verdicts).
        capabilities: modalities to accept; ``None`` = the model type's (see
            :data:`MODEL_TYPE_CAPABILITIES`). Claiming a modality the model type cannot take is an error.
        video_fps_fallback: fps (frames/s) assumed for a video whose ``fps`` is unknown (recorded).
        processor_kwargs: extra processor call kwargs, e.g. ``{"videos_kwargs": {"size": {...}}}``.
        trust_remote_code: passed to ``from_pretrained``.
        downgrades: visible conversions for media the model cannot take, as in
            :mod:`judgeanything.judges.capabilities` (the runner applies them before the call, e.g.
            ``{video: frames}``); the judge itself honours ``{audio: drop}`` for the audio track of a video
            given to a model that cannot hear (dropped and recorded in ``extra["media_log"]``); without
            it such a request fails ``unsupported_modality``.
        cache_dir: where ``smoke:`` models are cached (default ``$JUDGEANYTHING_CACHE`` or
            ``~/.cache/judgeanything``).

    Raises:
        JudgeConfigError: an invalid option, or a model folder that does not exist (checked at
            construction, before anything is loaded).
    """

    needs_media = True
    concurrency = 1

    def __init__(
        self,
        model: str,
        name: str = "hf",
        *,
        dtype: str = "auto",
        device: str = "auto",
        batch_size: int = 4,
        sampling: SamplingConfig | Mapping[str, Any] | None = None,
        verdict: str = "generate",
        capabilities: Sequence[str] | None = None,
        video_fps_fallback: float = 2.0,
        processor_kwargs: Mapping[str, Any] | None = None,
        trust_remote_code: bool = False,
        downgrades: Mapping[str, str] | None = None,
        cache_dir: str | Path | None = None,
    ) -> None:
        if not model or not str(model).strip():
            raise JudgeConfigError("hf judge: `model` is empty; give a local folder, a hub id or "
                                   "smoke:<family>")
        if verdict not in ("generate", "logprob"):
            raise JudgeConfigError(f"hf judge: verdict must be 'generate' or 'logprob', got {verdict!r}")
        if dtype not in _DTYPES:
            raise JudgeConfigError(f"hf judge: dtype must be one of {', '.join(_DTYPES)}, got {dtype!r}")
        if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", str(device)):
            raise JudgeConfigError(f"hf judge: device must be cpu, cuda, cuda:N, mps or auto, got {device!r}")
        if int(batch_size) < 1:
            raise JudgeConfigError("hf judge: batch_size must be >= 1")
        self.sampling = _hf_sampling(sampling)
        if isinstance(capabilities, str):
            capabilities = [capabilities]
        if not video_fps_fallback or float(video_fps_fallback) <= 0:
            raise JudgeConfigError(f"hf judge: video_fps_fallback must be > 0, got {video_fps_fallback!r}")
        self.model_spec = str(model).strip()
        self.name = name
        self.dtype = dtype
        self.device = str(device)
        self.batch_size = int(batch_size)
        self.max_new_tokens = int(self.sampling.max_tokens or 512)
        self.do_sample = not self.sampling.greedy
        self.temperature = self.sampling.temperature if self.do_sample else None
        self.top_p, self.top_k = self.sampling.top_p, self.sampling.top_k
        self.seed = 0 if self.sampling.seed is None else self.sampling.seed
        self.verdict = verdict
        self.video_fps_fallback = float(video_fps_fallback)
        self.processor_kwargs: dict[str, Any] = _plain(processor_kwargs or {})
        self.trust_remote_code = bool(trust_remote_code)
        from judgeanything.judges.capabilities import validate_downgrades

        try:
            self.downgrades: dict[str, str] = validate_downgrades(_plain(downgrades or {}))
        except ValueError as e:
            raise JudgeConfigError(f"hf judge: {e}") from e
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else None
        unknown = set(capabilities or ()) - _ALL
        if unknown:
            raise JudgeConfigError(f"hf judge: unknown capabilities {sorted(unknown)}; known: {sorted(_ALL)}")
        self._configured_caps = frozenset(capabilities) | {"text"} if capabilities else None

        self._smoke_family: str | None = None
        self._local_dir: Path | None = None
        self._hub_id: str | None = None
        self._resolve_spec()

        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._model: Any = None
        self._runner: Any = None  # the module whose forward/generate is called (Omni: the thinker)
        self._proc: Any = None
        self._tok: Any = None
        self._caps: frozenset[str] | None = None
        self._model_type: str | None = None
        self._cand_cache: dict[tuple[str, str, ScoreScale], dict[str, int]] = {}
        self._forward_takes_logits_to_keep = False
        self._model_id: str | None = None

    # ------------------------------------------------------------------ configuration / identity

    def _resolve_spec(self) -> None:
        spec = self.model_spec
        if spec.startswith("smoke:"):
            from judgeanything.models.tiny import FAMILIES

            fam = spec.split(":", 1)[1].strip() or "qwen2_5_omni"
            if fam not in FAMILIES:
                raise JudgeConfigError(f"hf judge: unknown smoke model family {fam!r}; "
                                       f"known: {', '.join(FAMILIES)}")
            self._smoke_family = fam
            return
        p = Path(spec).expanduser()
        if p.is_dir():
            if not (p / "config.json").is_file():
                raise JudgeConfigError(f"hf judge: model folder {p} has no config.json "
                                       "(not a transformers model)")
            self._local_dir = p.resolve()
            return
        if p.exists():
            raise JudgeConfigError(f"hf judge: model path {p} is a file; give the model's folder")
        looks_local = spec.startswith((".", "/", "~")) or os.sep + os.sep in spec or spec.count("/") != 1
        if looks_local or not _HUB_ID.match(spec):
            raise JudgeConfigError(f"hf judge: model folder {spec!r} does not exist")
        self._hub_id = spec
        if _hub_offline() and self._hub_cached_file("config.json") is None:
            raise JudgeConfigError(
                f"hf judge: model {spec!r} is neither a local folder nor in the Hugging Face cache, and "
                "HF_HUB_OFFLINE=1 forbids downloading it (download it first, or give a local folder)"
            )

    def _hub_cached_file(self, filename: str) -> Path | None:
        from huggingface_hub import try_to_load_from_cache

        got = try_to_load_from_cache(self._hub_id or "", filename)
        return Path(got) if isinstance(got, str) else None

    def model_dir(self) -> Path | None:
        """The model's local folder (building the tiny model for ``smoke:`` specs); ``None`` for a hub id
        that is not downloaded yet."""
        if self._smoke_family is not None:
            if self._local_dir is None:
                from judgeanything.models.tiny import smoke_model_dir

                self._local_dir = smoke_model_dir(self._smoke_family, self.cache_dir)
            return self._local_dir
        if self._local_dir is not None:
            return self._local_dir
        cfg = self._hub_cached_file("config.json")
        return cfg.parent if cfg is not None else None

    def _model_type_now(self) -> str | None:
        if self._model_type is not None:
            return self._model_type
        if self._smoke_family is not None:
            return SMOKE_MODEL_TYPES[self._smoke_family]
        d = self._local_dir or self.model_dir()
        if d is not None and (d / "config.json").is_file():
            try:
                return str(json.loads((d / "config.json").read_text()).get("model_type") or "") or None
            except (OSError, json.JSONDecodeError) as e:
                raise JudgeConfigError(f"hf judge: cannot read {d / 'config.json'}: {e}") from e
        return None

    @property
    def capabilities(self) -> frozenset[str]:  # type: ignore[override]
        """Modalities this judge accepts: the configured ones, else the model type's (a model type not in
        :data:`MODEL_TYPE_CAPABILITIES` is read from its processor: image/video processor, feature
        extractor)."""
        if self._configured_caps is not None:
            return self._configured_caps
        if self._caps is not None:
            return self._caps
        mt = self._model_type_now()
        if mt in MODEL_TYPE_CAPABILITIES:
            return MODEL_TYPE_CAPABILITIES[mt]
        # Unknown architecture: its processor says what it takes (cheap; the model is not loaded here).
        from transformers import AutoProcessor

        src = self.model_dir() or self._hub_id
        try:
            proc = AutoProcessor.from_pretrained(src, trust_remote_code=self.trust_remote_code)
        except OSError as e:
            raise JudgeConfigError(f"hf judge: cannot load the processor of {src}: {e}") from e
        self._caps = _processor_capabilities(proc)
        return self._caps

    @property
    def settings(self) -> frozenset[str]:  # type: ignore[override]
        """``score``, ``pair``, ``batch``; token-probability verdicts have no batch ranking."""
        if self.verdict == "logprob":
            return frozenset({"score", "pair", "rules"})
        return frozenset({"score", "pair", "batch", "rules"})

    @property
    def kind(self) -> str:  # type: ignore[override]
        """``smoke`` for a random-weight ``smoke:`` model, else ``local``."""
        return "smoke" if self._smoke_family is not None else "local"

    def notes(self) -> list[str]:
        """States plainly when the judge is a smoke model (random weights) and how to use a real one."""
        if self._smoke_family is None:
            return []
        return [f"The judge {self.name!r} is a SMOKE judge: a tiny {self._smoke_family} model with RANDOM weights "
                f"(the real architecture, built locally). Its verdicts are noise; they show that media reach the "
                f"judge and that the pipeline runs end to end, and measure nothing. To use a real judge, run the "
                f"same command with `judge=openai judge.model=<model> [judge.base_url=<OpenAI-compatible server>]` "
                f"or `judge=hf judge.model=<local folder or hub id> judge.device=cuda judge.dtype=bfloat16`."]

    def fingerprint(self) -> dict[str, Any]:
        """Model spec, a digest of its config/weight files, dtype, sampling and verdict mode (and the prefill
        format for token-probability verdicts). No secrets. The resolved folder is left out on purpose: the
        same weights moved elsewhere (e.g. another ``JUDGEANYTHING_CACHE`` for ``smoke:`` models) are the same
        judge, so a run still resumes; the digest changes when the files do."""
        d = self.model_dir()
        fp: dict[str, Any] = {
            "name": self.name,
            "backend": "hf",
            "model": self.model_spec,
            "weights": weights_digest(d) if d is not None else None,
            "dtype": self.dtype,
            "verdict": self.verdict,
            "processor_kwargs": self.processor_kwargs,
            "video_fps_fallback": self.video_fps_fallback,
            "downgrades": self.downgrades,
        }
        if self.verdict == "generate":
            fp.update(max_new_tokens=self.max_new_tokens, do_sample=self.do_sample,
                      temperature=self.temperature, top_p=self.top_p,
                      seed=self.seed if self.do_sample else None)
            if self.top_k is not None:
                fp["top_k"] = self.top_k
        else:
            fp["prefill"] = PREFILL_VERSION
        return fp

    @property
    def model_id(self) -> str:
        """``<spec>@<weights digest>`` (what ``JudgeResult.model`` records)."""
        if self._model_id is None:
            d = self.model_dir()
            if d is None:
                return self.model_spec
            self._model_id = f"{self.model_spec}@{weights_digest(d)}"
        return self._model_id

    # ------------------------------------------------------------------ loading

    def _ensure_loaded(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            self._load()

    def _load(self) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoModelForMultimodalLM, AutoProcessor
        from transformers.models.auto.modeling_auto import MODEL_FOR_MULTIMODAL_LM_MAPPING_NAMES

        src: str | Path
        d = self.model_dir()
        if d is not None:
            src = d
        elif self._hub_id is not None and not _hub_offline():
            src = self._hub_id
        else:
            raise JudgeConfigError(f"hf judge: model {self.model_spec!r} is not available locally")
        t0 = time.perf_counter()
        common: dict[str, Any] = {"trust_remote_code": self.trust_remote_code}
        try:
            proc = AutoProcessor.from_pretrained(src, padding_side="left", **common)
            from transformers import AutoConfig

            config = AutoConfig.from_pretrained(src, **common)
        except OSError as e:
            raise JudgeConfigError(f"hf judge: cannot load the processor/config of {src}: {e}") from e
        model_type = str(getattr(config, "model_type", "") or "")
        multimodal = model_type in MODEL_FOR_MULTIMODAL_LM_MAPPING_NAMES
        cls = AutoModelForMultimodalLM if multimodal else AutoModelForCausalLM
        device = self.device
        if device == "auto":
            device = "auto" if torch.cuda.is_available() else "cpu"
        dtype: Any = "auto" if self.dtype == "auto" else getattr(torch, self.dtype)
        extra: dict[str, Any] = {}
        if hasattr(config, "thinker_config") and hasattr(config, "enable_audio_output"):
            # Full Omni checkpoints: a judge needs the thinker's text only; skip building and loading the
            # speech talker and token2wav (billions of parameters).
            extra["enable_audio_output"] = False
        model: Any = cls.from_pretrained(src, dtype=dtype, device_map=device, **common, **extra)
        model.eval()
        runner = model
        if hasattr(model, "thinker"):  # full Omni checkpoints: text comes from the thinker; no speech needed
            if hasattr(model, "disable_talker"):
                model.disable_talker()
            runner = model.thinker
        tok = getattr(proc, "tokenizer", proc)
        tok.padding_side = "left"
        if tok.pad_token_id is None:
            tok.pad_token = tok.eos_token
        if getattr(proc, "chat_template", None) is None and getattr(tok, "chat_template", None) is None:
            raise JudgeConfigError(f"hf judge: {src} has no chat template (processor or tokenizer)")

        model_caps = MODEL_TYPE_CAPABILITIES.get(model_type)
        if model_caps is None:
            model_caps = _processor_capabilities(proc)
        if self._configured_caps is not None and not self._configured_caps <= model_caps:
            raise JudgeConfigError(
                f"hf judge: capabilities {sorted(self._configured_caps)} claim "
                f"{sorted(self._configured_caps - model_caps)}, which a {model_type!r} model cannot take "
                f"(it takes {sorted(model_caps)}); the media would be silently ignored"
            )
        import inspect

        try:
            params = inspect.signature(runner.forward).parameters
            self._forward_takes_logits_to_keep = "logits_to_keep" in params
        except (TypeError, ValueError):
            self._forward_takes_logits_to_keep = False
        self._proc, self._tok, self._runner = proc, tok, runner
        self._model_type, self._caps = model_type, model_caps
        if self.verdict == "logprob":
            # The overall keys of both settings must read single tokens (rubric keys are checked on use).
            for setting in ("pair", "score"):
                self._candidate_ids(prefill(setting, "overall"), setting)
        self._model = model
        log.info("hf judge %s: loaded %s (%s, %s) on %s in %.2f s", self.name, src, model_type,
                 type(runner).__name__, device, time.perf_counter() - t0)

    def _candidate_ids(self, prefix: str, setting: str, scale: ScoreScale = DEFAULT_SCORE_SCALE) -> dict[str, int]:
        key = (prefix, setting, scale)
        got = self._cand_cache.get(key)
        if got is None:
            # yes/no are words: read by their first token where a tokenizer splits them (rules setting)
            got = candidate_token_ids(self._tok, prefix, list(candidates_for(setting, scale)),
                                      first_token=setting == "rules")
            if len(self._cand_cache) > 4096:
                self._cand_cache.clear()
            self._cand_cache[key] = got
        return got

    # ------------------------------------------------------------------ judging

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"hf-judge-{self.name}")
        return self._executor

    async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        """Judge ``requests`` (one result each, in order), ``batch_size`` at a time in a worker thread.

        Raises:
            JudgeConfigError: the model cannot be loaded, or (logprob) its tokenizer does not read the
                verdict candidates as single tokens. Per-request problems are ``failure`` results instead.
        """
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._pool(), self._ensure_loaded)
        results: list[JudgeResult] = []
        for start in range(0, len(requests), self.batch_size):
            chunk = list(requests[start:start + self.batch_size])
            results.extend(await loop.run_in_executor(self._pool(), self._judge_batch, chunk))
        return results

    def judge_sync(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        """Blocking form of :meth:`judge` (benchmarks, scripts): same results, run in the caller's thread."""
        self._ensure_loaded()
        out: list[JudgeResult] = []
        for start in range(0, len(requests), self.batch_size):
            out.extend(self._judge_batch(list(requests[start:start + self.batch_size])))
        return out

    async def aclose(self) -> None:
        """Drop the model and stop the worker thread (a later call loads the model again)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        with self._lock:
            self._model = self._runner = self._proc = self._tok = None
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    # ------------------------------------------------------------------ one batch (worker thread)

    def _judge_batch(self, requests: list[JudgeRequest]) -> list[JudgeResult]:
        t0 = time.perf_counter()
        results: list[JudgeResult | None] = [None] * len(requests)
        preps: dict[int, PreparedRequest] = {}
        texts: dict[int, str] = {}
        fe = getattr(self._proc, "feature_extractor", None)
        sr = getattr(fe, "sampling_rate", None)
        window = getattr(fe, "n_samples", None)
        text_only = self._tok is self._proc
        for i, req in enumerate(requests):
            if self.verdict == "logprob" and req.prompt.setting not in ("pair", "score", "rules"):
                results[i] = JudgeResult(failure=Failure("parse_fail", BATCH_UNSUPPORTED))
                continue
            try:
                prep = prepare_request(
                    req.prompt.system, req.parts, capabilities=self.capabilities, judge=self.name,
                    sampling_rate=sr, video_fps_fallback=self.video_fps_fallback,
                    drop_unheard_video_audio=self.downgrades.get("audio") == "drop", text_only=text_only,
                    max_audio_samples=window)
                for entry in prep.log:
                    if entry.get("event") in ("downgrade", "truncated"):
                        log.info("hf judge %s, request %s: %s", self.name, req.key, entry["detail"])
                texts[i] = self._proc.apply_chat_template(prep.messages, tokenize=False,
                                                          add_generation_prompt=True)
                preps[i] = prep
            except UnsupportedModality as e:
                results[i] = JudgeResult(failure=e.to_failure())
            except BadPart as e:
                results[i] = JudgeResult(failure=Failure("media_error", str(e)))
        if preps:
            run = self._generate if self.verdict == "generate" else self._read_verdicts
            for i, res in run(requests, preps, texts).items():
                results[i] = res
        dt = (time.perf_counter() - t0) / max(1, len(requests))
        out: list[JudgeResult] = []
        for i, result in enumerate(results):
            assert result is not None, f"request {i} got no result"
            result.latency_s = dt
            result.model = self.model_id
            if i in preps and preps[i].log:
                result.extra.setdefault("media_log", preps[i].log)
            out.append(result)
        return out

    def _encode(self, idx: list[int], preps: Mapping[int, PreparedRequest], texts: Mapping[int, str]) -> Any:
        """One processor call for the requests ``idx`` (left padding, tensors on the model's device)."""
        import torch

        ps = [preps[i] for i in idx]
        kwargs: dict[str, Any] = _merge({"padding": True, "return_tensors": "pt"}, self.processor_kwargs)
        bos = getattr(self._tok, "bos_token", None)
        if bos and all(texts[i].startswith(bos) for i in idx):
            kwargs["add_special_tokens"] = False
        if any(p.images for p in ps):
            kwargs["images"] = [p.images for p in ps]
        if any(p.videos for p in ps):
            kwargs["videos"] = [p.videos for p in ps]
            kwargs["video_metadata"] = [m for p in ps for m in p.video_metadata]
            kwargs["do_sample_frames"] = False
            fps = [f for p in ps for f in p.video_fps]
            kwargs["videos_kwargs"] = _merge(kwargs.get("videos_kwargs", {}), {"fps": fps[0]})
        if any(p.audios for p in ps):
            kwargs["audio"] = [a for p in ps for a in p.audios]
            kwargs["sampling_rate"] = getattr(self._proc.feature_extractor, "sampling_rate", None)
        enc = self._proc(text=[texts[i] for i in idx], **kwargs)
        if "video_second_per_grid" in enc:
            # Qwen2.5-Omni takes ONE fps for all videos of a call; set each video's own seconds per grid.
            tps = self._proc.video_processor.temporal_patch_size
            fps = [f for p in ps for f in p.video_fps]
            enc["video_second_per_grid"] = torch.tensor([tps / f for f in fps], dtype=torch.float32)
        runner = self._runner
        dev = getattr(runner, "device", None) or next(runner.parameters()).device
        enc = enc.to(dev)
        mdtype = getattr(runner, "dtype", torch.float32)
        for key in list(enc.keys()):
            v = enc[key]
            media = "pixel_values" in key or "input_features" in key
            if media and torch.is_tensor(v) and v.is_floating_point():
                enc[key] = v.to(mdtype)
        return enc

    def _encode_isolating(self, idx: list[int], preps: Mapping[int, PreparedRequest], texts: Mapping[int, str]
                          ) -> tuple[list[int], Any, dict[int, JudgeResult]]:
        """Encode ``idx`` together; when the processor rejects the batch, find the request(s) it rejects
        one by one (→ ``media_error``) and encode the rest together."""
        try:
            return idx, self._encode(idx, preps, texts), {}
        except Exception as batch_error:  # processors raise assorted types; recorded
            if len(idx) == 1:
                return [], None, {idx[0]: self._fail("media_error", "the processor rejected the request",
                                                     batch_error)}
        failed: dict[int, JudgeResult] = {}
        ok: list[int] = []
        for i in idx:
            try:
                self._encode([i], preps, texts)
                ok.append(i)
            except Exception as e:  # see above: recorded per request
                failed[i] = self._fail("media_error", "the processor rejected the request", e)
        if not ok:
            return [], None, failed
        try:
            return ok, self._encode(ok, preps, texts), failed
        except Exception as e:  # alone OK, together not: recorded
            for i in ok:
                failed[i] = self._fail("media_error", "the requests could not be batched together", e)
            return [], None, failed

    def _fail(self, kind: str, what: str, e: BaseException) -> JudgeResult:
        msg = f"{what}: {type(e).__name__}: {e}"
        log.warning("hf judge %s: %s", self.name, msg)
        return JudgeResult(failure=Failure(kind, msg[:2000]), model=self.model_id)  # type: ignore[arg-type]

    def _call_model(self, fn: Any, idx: list[int], preps: Mapping[int, PreparedRequest],
                    texts: Mapping[int, str]) -> dict[int, Any]:
        """Run ``fn(idx, encoded)`` on the batch; if the model call fails, retry the requests one by one so
        one bad request does not fail the others (each failure → ``api_error``)."""
        ok, enc, out = self._encode_isolating(idx, preps, texts)
        if not ok:
            return dict(out)
        try:
            out.update(fn(ok, enc))
            return out
        except Exception as e:  # e.g. out of memory; recorded below
            if len(ok) == 1:
                out[ok[0]] = self._fail("api_error", "the model call failed", e)
                return out
        for i in ok:
            out.update(self._call_model(fn, [i], preps, texts))
        return out

    def _eos_ids(self) -> list[int]:
        ids: list[int] = []
        gc_eos = getattr(getattr(self._runner, "generation_config", None), "eos_token_id", None)
        for x in ([gc_eos] if isinstance(gc_eos, int) else list(gc_eos or [])) + [self._tok.eos_token_id]:
            if x is not None and int(x) not in ids:
                ids.append(int(x))
        return ids

    def _generate(self, requests: list[JudgeRequest], preps: Mapping[int, PreparedRequest],
                  texts: Mapping[int, str]) -> dict[int, JudgeResult]:
        import torch

        eos = self._eos_ids()
        gen: dict[str, Any] = {"max_new_tokens": self.max_new_tokens, "do_sample": self.do_sample,
                               "eos_token_id": eos, "pad_token_id": self._tok.pad_token_id}
        if self.do_sample:
            opts = (("temperature", self.temperature), ("top_p", self.top_p), ("top_k", self.top_k))
            gen.update({k: v for k, v in opts if v is not None})
        else:  # keep a checkpoint's sampling defaults from warning under greedy decoding
            gen.update(temperature=None, top_p=None, top_k=None)

        def run(idx: list[int], enc: Any) -> dict[int, JudgeResult]:
            if self.do_sample:
                torch.manual_seed(self.seed)
            with torch.inference_mode():
                seq = self._runner.generate(**enc, **gen)
            n_in = enc["input_ids"].shape[1]
            new = seq[:, n_in:].tolist()
            prompt_tokens = enc["attention_mask"].sum(dim=1).tolist()
            res: dict[int, JudgeResult] = {}
            frames = self._frames_seen(idx, enc, preps)
            for row, i in enumerate(idx):
                toks = new[row]
                stop = next((k for k, t in enumerate(toks) if t in eos), None)
                if stop is None:
                    kept, finish = toks, ("length" if len(toks) >= self.max_new_tokens else "stop")
                else:
                    kept, finish = toks[:stop], "stop"
                n_completion = len(kept) + (0 if stop is None else 1)
                text = self._tok.decode(kept, skip_special_tokens=True)
                usage = {"prompt_tokens": int(prompt_tokens[row]), "completion_tokens": n_completion}
                r = JudgeResult(raw=text, finish_reason=finish, usage=usage)
                if frames.get(i):
                    r.extra["video_frames_seen"] = frames[i]
                res[i] = r
            return res

        return self._call_model(run, list(preps), preps, texts)

    def _frames_seen(self, idx: list[int], enc: Any,
                     preps: Mapping[int, PreparedRequest]) -> dict[int, list[int]]:
        """Frames the model sees per video (``video_grid_thw`` temporal dim × temporal patch size), per
        request, so a re-sampling processor cannot go unnoticed."""
        grid = enc.get("video_grid_thw") if hasattr(enc, "get") else None
        vp = getattr(self._proc, "video_processor", None)
        if grid is None or vp is None:
            return {}
        tps = int(getattr(vp, "temporal_patch_size", 1) or 1)
        rows = [int(t) * tps for t in grid[:, 0].tolist()]
        out: dict[int, list[int]] = {}
        k = 0
        for i in idx:
            n = len(preps[i].videos)
            out[i] = rows[k:k + n]
            k += n
        return out

    def _read_verdicts(self, requests: list[JudgeRequest], preps: Mapping[int, PreparedRequest],
                       texts: Mapping[int, str]) -> dict[int, JudgeResult]:
        import torch

        answers: dict[int, list[tuple[str, str]]] = {i: [] for i in preps}
        readings: dict[int, list[TokenVerdict]] = {i: [] for i in preps}
        usage: dict[int, int] = dict.fromkeys(preps, 0)
        frames: dict[int, list[int]] = {}
        cand_ids: dict[int, dict[str, int]] = {}
        done: dict[int, JudgeResult] = {}
        rubrics = {i: tuple(requests[i].prompt.rubrics) or ("overall",) for i in preps}
        settings = {i: requests[i].prompt.setting for i in preps}
        for k in range(max(len(r) for r in rubrics.values())):
            active = [i for i in preps if i not in done and k < len(rubrics[i])]
            if not active:
                break
            step_texts: dict[int, str] = {}
            for i in active:
                pre = prefill(settings[i], rubrics[i][k], answers[i])
                cand_ids[i] = self._candidate_ids(pre, settings[i], requests[i].prompt.scale)
                step_texts[i] = texts[i] + pre

            def run(idx: list[int], enc: Any, k: int = k) -> dict[int, tuple[TokenVerdict, int]]:
                kw: dict[str, Any] = {"use_cache": False}
                if self._forward_takes_logits_to_keep:
                    kw["logits_to_keep"] = 1
                with torch.inference_mode():
                    logits = self._runner(**enc, **kw).logits[:, -1, :].float()
                log_norm = torch.logsumexp(logits, dim=-1).tolist()
                prompt_tokens = enc["attention_mask"].sum(dim=1).tolist()
                if k == 0:
                    frames.update(self._frames_seen(idx, enc, preps))
                out: dict[int, tuple[TokenVerdict, int]] = {}
                for row, i in enumerate(idx):
                    ids = cand_ids[i]
                    cl = {c: float(logits[row, t]) for c, t in ids.items()}
                    reading = read_verdict(settings[i], rubrics[i][k], cl, log_norm[row], requests[i].prompt.scale)
                    out[i] = (reading, int(prompt_tokens[row]))
                return out

            for i, got in self._call_model(run, active, preps, step_texts).items():
                if isinstance(got, JudgeResult):
                    done[i] = got
                    continue
                reading, n_prompt = got
                readings[i].append(reading)
                answers[i].append((rubrics[i][k], reading.token))
                usage[i] += n_prompt
        out: dict[int, JudgeResult] = dict(done)
        for i in preps:
            if i in done:
                continue
            verdicts: list[Verdict] = [r.verdict for r in readings[i]]
            r = JudgeResult(
                raw=closed_answer(settings[i], answers[i]),
                finish_reason="stop",
                outcomes=list(verdicts),
                usage={"prompt_tokens": usage[i], "completion_tokens": 0, "forward_passes": len(verdicts)},
                extra={
                    "verdict_mode": "logprob",
                    "candidate_token_ids": cand_ids[i],
                    "candidate_mass": {rd.verdict.rubric: rd.mass for rd in readings[i]},
                },
            )
            if frames.get(i):
                r.extra["video_frames_seen"] = frames[i]
            out[i] = r
        return out


__all__ = ["MODEL_TYPE_CAPABILITIES", "SMOKE_MODEL_TYPES", "HFJudge", "weights_digest"]
