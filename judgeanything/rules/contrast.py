"""Contrast inputs for debiased token-probability verdicts (CLUE, arXiv 2501.00192, §3: debiased token
probability).

A judge's P(yes) for "does this content violate the rule?" mixes what it perceives with its prior for the
question (some claims get "yes" whatever is shown). CLUE cancels the prior by asking the same question of a
*contrast input* in which the deciding content is gone, and comparing. The contrast kinds here:

* ``no_media``: every media part removed (text of the prompt kept);
* ``blank``: every image and video frame replaced by a uniform mid-grey one of the same size, audio (and a
  video's sound track) by silence of the same length;
* ``blur``: every image and video frame Gaussian-blurred (``blur_radius`` pixels); audio has no analogue of a
  blur and is silenced;
* ``negated``: the media kept and the rule's claim negated (:attr:`~judgeanything.schema.Rule.negated`).

:func:`contrast_request` builds the contrast of a prepared request from its *decoded* parts, so nothing is
read from disk again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

from judgeanything.judges.base import JudgeRequest
from judgeanything.modalities.base import EncodedAudio, EncodedImage, EncodedVideo
from judgeanything.rules.prompt import question_text, with_question
from judgeanything.schema import RuleItem, TextPart

#: The contrast kinds (``setting.contrast``); ``none`` = raw token probabilities, no debiasing.
CONTRASTS: tuple[str, ...] = ("none", "no_media", "blank", "blur", "negated")
GREY = 128


class ContrastError(ValueError):
    """An unknown contrast kind, or a request the contrast cannot be built for."""


def check_contrast(kind: str) -> str:
    """``kind`` if known. Raises ContrastError naming the known kinds."""
    if kind not in CONTRASTS:
        raise ContrastError(f"setting.contrast={kind!r}: expected one of {', '.join(CONTRASTS)}")
    return kind


def _silence(a: EncodedAudio) -> EncodedAudio:
    return replace(a, samples=np.zeros_like(a.samples), provenance={**a.provenance, "contrast": "silence"})


def _image(img: EncodedImage, kind: str, radius: float) -> EncodedImage:
    pil: Image.Image = img.image
    out = Image.new("RGB", pil.size, (GREY, GREY, GREY)) if kind == "blank" else \
        pil.filter(ImageFilter.GaussianBlur(radius))
    return replace(img, image=out, provenance={**img.provenance, "contrast": kind})


def _frames(v: EncodedVideo, kind: str, radius: float) -> EncodedVideo:
    """Frames ``(T, H, W, 3) uint8`` blanked or blurred frame by frame; the sound track silenced."""
    if kind == "blank":
        frames = np.full_like(v.frames, GREY)
    else:
        frames = np.stack([np.asarray(Image.fromarray(f).filter(ImageFilter.GaussianBlur(radius)))
                           for f in v.frames]) if len(v.frames) else v.frames
    return replace(v, frames=frames, audio=_silence(v.audio) if v.audio is not None else None,
                   provenance={**v.provenance, "contrast": kind})


def _part(p: Any, kind: str, radius: float) -> Any:
    if isinstance(p, EncodedImage):
        return _image(p, kind, radius)
    if isinstance(p, EncodedVideo):
        return _frames(p, kind, radius)
    if isinstance(p, EncodedAudio):
        return _silence(p)
    return p  # prompt text, and inline text content (nothing to blank in it)


def contrast_parts(parts: Any, kind: str, blur_radius: float = 8.0) -> list[Any]:
    """The decoded prompt ``parts`` of a contrast input of ``kind`` (``no_media``, ``blank``, ``blur``).

    Raises:
        ContrastError: another kind (``negated`` changes the question, not the parts).
    """
    if kind == "no_media":
        return [p for p in parts if isinstance(p, TextPart)]
    if kind in ("blank", "blur"):
        return [_part(p, kind, blur_radius) for p in parts]
    raise ContrastError(f"contrast {kind!r} does not transform media parts")


def with_asked(req: JudgeRequest, text: str, suffix: str) -> JudgeRequest:
    """``req`` asking the question ``text`` instead of its own (the prompt's last part, and the decoded parts'
    last part), keyed ``<key>/<suffix>``.

    Raises:
        ContrastError: the request's parts do not end with the prompt's question.
    """
    prompt = with_question(req.prompt, text)
    parts = list(req.parts)
    if parts:
        if not isinstance(parts[-1], TextPart) or parts[-1] != req.prompt.parts[-1]:
            raise ContrastError(f"request {req.key}: its parts do not end with the rule question")
        question = prompt.parts[-1]
        if not isinstance(question, TextPart):
            raise ContrastError(f"request {req.key}: the contrast prompt does not end with the rule question")
        parts[-1] = question
    return replace(req, key=f"{req.key}/{suffix}", prompt=prompt, parts=parts, meta=dict(req.meta), payload=None)


def contrast_request(req: JudgeRequest, kind: str, *, blur_radius: float = 8.0) -> JudgeRequest:
    """The contrast input of a rules request (see the module docstring), keyed ``<key>/contrast``.

    Raises:
        ContrastError: an unknown kind, ``none``, or ``negated`` for a request that is not a rule item.
    """
    check_contrast(kind)
    if kind == "none":
        raise ContrastError("contrast 'none' has no contrast input")
    if kind == "negated":
        item = req.item
        if not isinstance(item, RuleItem):
            raise ContrastError(f"request {req.key}: the 'negated' contrast needs a rule item")
        version = req.prompt.version.split("/", 1)[0]
        return with_asked(req, question_text(item.rule.negated, "rule", version=version), "contrast")
    parts = contrast_parts(req.parts, kind, blur_radius)
    return replace(req, key=f"{req.key}/contrast", parts=parts, meta=dict(req.meta), payload=None)


__all__ = ["CONTRASTS", "ContrastError", "check_contrast", "contrast_parts", "contrast_request",
           "with_asked"]
