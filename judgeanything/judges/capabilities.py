"""What a judge can see, and visible downgrades for what it cannot.

Models given media they cannot handle ignore it silently (LLaVA given audio, Qwen2-Audio given an
image: the template text is rendered and the media dropped — docs/media-and-models.md §1), so the check is ours
and happens before any call. For each decoded media part whose modality the judge does not accept
natively (``Judge.capabilities``), :func:`adapt_parts` either converts it *visibly* — as configured by
the judge's ``downgrades`` — or raises :class:`UnsupportedModality` (recorded by the runner as the
failure kind ``unsupported_modality``; never a score).

Downgrades (``conf/judge/*.yaml``: ``downgrades: {video: frames, audio: transcript}``):

* ``video: frames`` — a video becomes its sampled frames as images (needs ``image``); its audio track
  then needs ``audio``, or an ``audio`` downgrade of its own;
* ``audio: transcript`` — audio becomes its transcript as text, only when one was supplied: the audio
  encoders put the UTF-8 sidecar ``<media file>.txt`` into ``provenance["transcript"]``; without it the
  part is unsupported;
* ``audio: drop`` — the audio *track of a video* is dropped (e.g. a silent-film view of a Video2Text
  input for a vision-only judge). A standalone audio input is never dropped: an Audio2Text or
  AudioVideo2Text query without its audio is a different task.

Text is always accepted (every judge reads the prompt). Each conversion yields a record
``{"role", "from", "to", "detail"}`` that the runner stores with the verdict.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from PIL import Image

from judgeanything.modalities.base import Encoded, EncodedAudio, EncodedImage, EncodedText, EncodedVideo
from judgeanything.schema import Failure, TextPart

#: modality → the downgrades that exist for it.
DOWNGRADES: dict[str, tuple[str, ...]] = {"video": ("frames",), "audio": ("transcript", "drop")}


class UnsupportedModality(Exception):
    """A judge was given a media part it cannot take and no configured downgrade applies.

    Attributes:
        modality: the modality it cannot take (``"audio"``…).
        judge: the judge's name.
        role: whose media it is (``"query"``, ``"response 1"``…).
        detail: why no downgrade applied.
    """

    def __init__(self, modality: str, judge: str = "", *, role: str = "", detail: str = "",
                 capabilities: frozenset[str] = frozenset()) -> None:
        self.modality, self.judge, self.role, self.detail = modality, judge, role, detail
        who = f"judge {judge!r}" if judge else "the judge"
        whose = f" ({role})" if role else ""
        caps = f"; it accepts: {', '.join(sorted(capabilities))}" if capabilities else ""
        tail = f": {detail}" if detail else ""
        super().__init__(f"{who} cannot take {modality}{whose}{caps}{tail}")

    def to_failure(self, rubric: str = "*") -> Failure:
        """This fault as a ``Failure("unsupported_modality", ...)``."""
        return Failure("unsupported_modality", str(self), rubric)


def validate_downgrades(downgrades: Mapping[str, str] | None) -> dict[str, str]:
    """Check a judge's ``downgrades`` mapping; returns it as a plain dict.

    Raises:
        ValueError: an unknown modality or downgrade (naming the ones that exist).
    """
    out: dict[str, str] = {}
    for modality, how in dict(downgrades or {}).items():
        allowed = DOWNGRADES.get(str(modality))
        if allowed is None:
            known = "; ".join(f"{m}: {' | '.join(a)}" for m, a in DOWNGRADES.items())
            raise ValueError(f"no downgrade exists for modality {modality!r}; downgrades: {known}")
        if str(how) not in allowed:
            raise ValueError(f"unknown downgrade {modality}: {how!r}; allowed: {', '.join(allowed)}")
        out[str(modality)] = str(how)
    return out


def adapt_parts(parts: Sequence[TextPart | Encoded], capabilities: frozenset[str],
                downgrades: Mapping[str, str] | None = None, *, judge: str = "",
                annotate: bool = True) -> tuple[list[TextPart | Encoded], list[dict[str, Any]]]:
    """Make a prompt's decoded parts fit what a judge accepts (see the module docstring).

    Args:
        parts: the prompt's parts in order: text and decoded media.
        capabilities: the modalities the judge accepts natively (``{"text", "image"}``…).
        downgrades: allowed conversions, e.g. ``{"video": "frames", "audio": "transcript"}``.
        judge: the judge's name, for messages.
        annotate: put a short text line before converted media saying what the judge is shown
            (``"[video (response 1) shown as 8 frames at 0.10 s … 2.80 s]"``).

    Returns:
        ``(adapted parts, downgrade records)``; each record is ``{"role", "from", "to", "detail"}``.

    Raises:
        UnsupportedModality: a part the judge cannot take and no configured downgrade applies.
        ValueError: an unknown downgrade in ``downgrades``.
        TypeError: a part that is neither text nor an ``Encoded`` value.
    """
    adapter = _Adapter(frozenset(str(c) for c in capabilities) | {"text"}, validate_downgrades(downgrades),
                       judge, annotate)
    for part in parts:
        adapter.add(part)
    return adapter.out, adapter.records


@dataclasses.dataclass
class _Adapter:
    """The parts and downgrade records of one prompt being adapted, one part at a time (:func:`adapt_parts`)."""

    caps: frozenset[str]
    how: dict[str, str]
    judge: str
    annotate: bool
    out: list[TextPart | Encoded] = dataclasses.field(default_factory=list)
    records: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def add(self, part: TextPart | Encoded) -> None:
        if isinstance(part, (TextPart, EncodedText)):
            self.out.append(part)
        elif isinstance(part, EncodedImage):
            if "image" not in self.caps:
                raise self.unsupported("image", part.role, "no downgrade exists for images")
            self.out.append(part)
        elif isinstance(part, EncodedAudio):
            self.audio(part)
        elif isinstance(part, EncodedVideo):
            self.video(part)
        else:
            raise TypeError(f"cannot adapt a prompt part of type {type(part).__name__}")

    def unsupported(self, modality: str, role: str, detail: str) -> UnsupportedModality:
        return UnsupportedModality(modality, self.judge, role=role, detail=detail, capabilities=self.caps)

    def note(self, role: str, src: str, to: str, detail: str, shown: str) -> None:
        """Record a downgrade and, when annotating, say in the prompt what the judge is shown."""
        self.records.append({"role": role, "from": src, "to": to, "detail": detail})
        if self.annotate:
            self.out.append(TextPart(shown))

    def audio(self, part: EncodedAudio) -> None:
        """A standalone audio input: as it is, or as its transcript (never dropped)."""
        if "audio" in self.caps:
            self.out.append(part)
        elif self.how.get("audio") == "transcript":
            self.out.append(self.audio_as_text(part, part.role, "the audio"))
        else:
            extra = " (audio: drop applies only to the audio track of a video)" \
                if self.how.get("audio") == "drop" else ""
            raise self.unsupported("audio", part.role, f"configure downgrades {{audio: transcript}} and "
                                                       f"supply a transcript{extra}")

    def audio_as_text(self, audio: EncodedAudio, role: str, what: str) -> EncodedText:
        transcript = audio.provenance.get("transcript")
        if not isinstance(transcript, str) or not transcript.strip():
            src = audio.provenance.get("source", "the media file")
            raise self.unsupported("audio", role, f"downgrade audio: transcript is configured but {what} has no "
                                                  f"transcript (put it in a UTF-8 sidecar {src}.txt)")
        source = audio.provenance.get("transcript_source", "provenance")
        self.note(role, "audio", "text", f"{what} given as its transcript ({source})",
                  f"[{what} ({role}) given as its transcript]\n")
        return EncodedText(text=transcript, role=role,
                           provenance={"source_modality": "audio", "transcript_source": source,
                                       "sha256": audio.provenance.get("sha256")})

    def video(self, part: EncodedVideo) -> None:
        """A video: as it is (its audio track apart when the judge cannot hear), or as its sampled frames."""
        role = part.role
        if "video" in self.caps:
            if part.audio is not None and "audio" not in self.caps:
                self.out.append(dataclasses.replace(part, audio=None))
                self.audio_track(part, role)
            else:
                self.out.append(part)
            return
        if self.how.get("video") != "frames":
            raise self.unsupported("video", role, "configure downgrades {video: frames} to show its sampled "
                                                  "frames")
        if "image" not in self.caps:
            raise self.unsupported("video", role, "downgrade video: frames needs the image capability")
        self.frames(part, role)
        self.audio_track(part, role)

    def frames(self, part: EncodedVideo, role: str) -> None:
        """A video's sampled frames, as images, each with its time in the video."""
        ts = list(part.timestamps)
        n = int(part.frames.shape[0])
        span = f"{ts[0]:.2f} s … {ts[-1]:.2f} s" if ts else "unknown times"
        self.note(role, "video", "image", f"{n} frames at {span} ({part.fps:.3g} frames/s)",
                  f"[video ({role}) shown as {n} frames at {span}]\n")
        for i in range(n):
            prov = {"source_modality": "video", "source": part.provenance.get("source"),
                    "sha256": part.provenance.get("sha256"), "frame": i,
                    "timestamp": float(ts[i]) if i < len(ts) else None}
            self.out.append(EncodedImage(image=Image.fromarray(part.frames[i]), role=role, provenance=prov))

    def audio_track(self, video: EncodedVideo, role: str) -> None:
        """Place (or convert, or drop) the audio track of ``video`` after it."""
        audio = video.audio
        if audio is None:
            return
        if "audio" in self.caps:
            self.out.append(dataclasses.replace(audio, role=role))
            return
        mode = self.how.get("audio")
        if mode == "transcript":
            self.out.append(self.audio_as_text(audio, role, "the video's audio track"))
        elif mode == "drop":
            self.note(role, "audio", "none", f"audio track of the video dropped ({audio.duration_s:.2f} s)",
                      f"[the audio track of the video ({role}) is not provided]\n")
        else:
            raise self.unsupported("audio", role, "the video has an audio track; configure downgrades "
                                                  "{audio: drop} or {audio: transcript} to judge it without sound")
