"""For each of the 15 TaskAnything task types, in pair and score settings and both modes: the exact content
parts (order, modality, count) a judge receives after prompt building, media decoding and capability
adaptation, and an OpenAI payload that validates against the official SDK's request types."""

from __future__ import annotations

import pytest
from openai.types.chat import ChatCompletionMessageParam
from pydantic import TypeAdapter

from judgeanything.judges.capabilities import adapt_parts
from judgeanything.judges.openai_payload import chat_messages
from judgeanything.modalities.base import EncodedAudio, EncodedImage, EncodedVideo
from judgeanything.modalities.cache import MediaCache
from judgeanything.prompts import build_prompt
from judgeanything.schema import TASK_TYPES, MediaRef, PairItem, Query, Response, ScoreItem, TaskType, TextPart
from tests.support.media import mp4, png, wav

MESSAGES = TypeAdapter(list[ChatCompletionMessageParam])
ALL = frozenset({"text", "image", "audio", "video"})


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    r = tmp_path_factory.mktemp("media")
    png(r / "in.png"), png(r / "in2.png", (0, 200, 0)), wav(r / "in.wav"), mp4(r / "in.mp4")
    for i in range(2):
        png(r / f"out{i}.png", (0, 0, 50 * i)), wav(r / f"out{i}.wav", 300 + 100 * i), mp4(r / f"out{i}.mp4")
    for i in range(4):
        png(r / "frames" / f"{i}.png", (60 * i, 0, 0))
    return r


def _query(task: TaskType) -> Query:
    media = []
    for m in task.non_text_inputs:
        media.append(MediaRef(m, path={"image": "in.png", "audio": "in.wav", "video": "in.mp4"}[m]))
    if task.name == "Image2Text":  # a multi-image input, as 25 of the real Image2Text queries
        media.append(MediaRef("image", path="in2.png"))
    return Query("u", task.name, "Do the task.", tuple(media))


def _response(task: TaskType, i: int) -> Response:
    out = task.output
    if out == "text":
        return Response(f"r{i}", "u", f"m{i}", "text", text=f"answer {i}")
    if task.name == "Audio2Video" and i == 1:  # a video given as a list of frames (CoDi in the release)
        ref = MediaRef("video", frames=tuple(f"frames/{k}.png" for k in range(4)))
    else:
        ref = MediaRef(out, path=f"out{i}.{ {'image': 'png', 'audio': 'wav', 'video': 'mp4'}[out]}")
    return Response(f"r{i}", "u", f"m{i}", out, media=(ref,))


def _kinds(parts):
    out = []
    for p in parts:
        if isinstance(p, TextPart):
            continue
        out.append((p.modality, p.role, getattr(p, "audio", None) is not None))
    return out


def _expected(task: TaskType, n_responses: int) -> list[tuple[str, str, bool]]:
    exp = [(m, "query", m == "video") for m in task.non_text_inputs]
    if task.name == "Image2Text":
        exp.append(("image", "query", False))
    for i in range(n_responses):
        if task.output != "text":
            frames = task.name == "Audio2Video" and i == 1
            exp.append((task.output, f"response {i + 1}", task.output == "video" and not frames))
    return exp


@pytest.mark.parametrize("task_name", TASK_TYPES)
@pytest.mark.parametrize("setting", ["pair", "score"])
@pytest.mark.parametrize("mode", ["overall", "rubrics"])
def test_parts_and_payload(task_name, setting, mode, root):
    task = TaskType.parse(task_name)
    q = _query(task)
    item = (PairItem("i", q, _response(task, 0), _response(task, 1)) if setting == "pair"
            else ScoreItem("i", q, _response(task, 0)))
    prompt = build_prompt(item, mode)
    cache = MediaCache(root)
    parts = [p if isinstance(p, TextPart) else cache.encode(p.ref, p.role) for p in prompt.parts]
    assert _kinds(parts) == _expected(task, len(item.responses))
    # every response's text reaches the judge, in order
    text = "".join(p.text for p in parts if isinstance(p, TextPart))
    if task.output == "text":
        assert text.index("answer 0") < (text.index("answer 1") if setting == "pair" else len(text))
    # an omni judge sees everything natively: nothing changes
    same, downgrades = adapt_parts(parts, ALL, judge="omni")
    assert downgrades == [] and _kinds(same) == _kinds(parts)
    # an image-only OpenAI judge with the video→frames downgrade (audio not allowed) either gets frames or
    # refuses the item for its audio
    payload = chat_messages("system", same)
    MESSAGES.validate_python(payload)
    content = payload[1]["content"]
    n_images = sum(isinstance(p, EncodedImage) for p in same)
    n_frames = sum(len(p.frames) for p in same if isinstance(p, EncodedVideo))
    n_audio = sum(isinstance(p, EncodedAudio) for p in same) + sum(
        p.audio is not None for p in same if isinstance(p, EncodedVideo))
    assert sum(c["type"] == "image_url" for c in content) == n_images + n_frames
    assert sum(c["type"] == "input_audio" for c in content) == n_audio
    MESSAGES.validate_python(chat_messages("system", same, video_mode="frames", image_format="jpeg"))
