"""The ``hf`` judge's pure parts: token-probability reading (hf_logprob) and request conversion (hf_inputs)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from judgeanything.judges.base import JudgeConfigError
from judgeanything.judges.capabilities import UnsupportedModality
from judgeanything.judges.hf_inputs import (
    METADATA_CLOCK_HZ,
    BadPart,
    prepare_request,
    video_metadata,
)
from judgeanything.judges.hf_logprob import (
    answer_key,
    candidate_token_ids,
    candidates_for,
    closed_answer,
    prefill,
    read_verdict,
)
from judgeanything.modalities.base import EncodedAudio, EncodedImage, EncodedText, EncodedVideo
from judgeanything.schema import TextPart

ALL = frozenset({"text", "image", "audio", "video"})

# ------------------------------------------------------------------------------ hf_logprob


def test_prefill_ends_where_the_verdict_token_goes():
    assert prefill("pair", "overall") == '{"overall_choice": "'
    assert prefill("score", "overall") == '{"overall_score": "'
    assert prefill("score", "clarity", [("relevance", "4"), ("creativity", "2")]) == \
        '{"relevance_score": "4", "creativity_score": "2", "clarity_score": "'
    done = closed_answer("score", [("relevance", "4"), ("clarity", "5")])
    assert json.loads(done) == {"relevance_score": "4", "clarity_score": "5"}
    assert done.startswith(prefill("score", "clarity", [("relevance", "4")]))
    assert answer_key("pair", "coherence") == "coherence_choice"
    with pytest.raises(ValueError):
        candidates_for("batch")


def test_prefill_keys_and_candidates_are_the_prompts_answer_format():
    """hf_logprob keeps its own copy of the answer keys (judges may not import prompts): it must agree
    with what the prompt asks for, or the prefill would read a key the model was never told about."""
    from judgeanything.prompts import output_schema, verdict_key

    for setting, n in (("pair", 2), ("score", 1)):
        for rubric in ("overall", "clarity"):
            assert answer_key(setting, rubric) == verdict_key(setting, rubric)
        schema = output_schema(setting, ["overall"], n)["properties"][verdict_key(setting, "overall")]
        assert [str(v) for v in schema["enum"]] == list(candidates_for(setting))


def test_pair_verdict_is_the_renormalised_argmax():
    logits = {"0": 1.0, "1": 0.0, "2": 3.0}
    others = [5.0] * 10  # vocabulary mass outside the candidates
    log_norm = math.log(sum(math.exp(x) for x in [*logits.values(), *others]))
    tv = read_verdict("pair", "overall", logits, log_norm)
    z = math.exp(1) + 1 + math.exp(3)
    assert tv.verdict.value == "second" and tv.token == "2"
    assert tv.verdict.probs == pytest.approx({"first": math.e / z, "tie": 1 / z, "second": math.exp(3) / z})
    assert tv.mass == pytest.approx(z / math.exp(log_norm))
    assert tv.verdict.expected is None


def test_score_verdict_has_expected_value_and_first_wins_ties():
    tv = read_verdict("score", "relevance", {"1": 0.0, "2": 0.0, "3": 2.0, "4": 2.0, "5": 0.0}, 10.0)
    assert tv.verdict.value == 3 and tv.token == "3"  # tie between 3 and 4 → the first candidate
    p = tv.verdict.probs
    assert sum(p.values()) == pytest.approx(1.0, abs=1e-12)
    assert tv.verdict.expected == pytest.approx(sum(int(k) * v for k, v in p.items()))
    assert tv.verdict.expected == pytest.approx(3.5 * 2 * math.e**2 / (3 + 2 * math.e**2) + 8 / (3 + 2 * math.e**2))


def test_candidates_must_be_single_next_tokens(tiny_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model("qwen2"))  # byte BPE with the merge "Ġ"+"t"
    assert candidate_token_ids(tok, prefill("pair", "overall"), ["0", "1", "2"]) == {"0": 16, "1": 17, "2": 18}
    with pytest.raises(JudgeConfigError, match="single next token"):
        candidate_token_ids(tok, "answer: ", ["10"])  # two tokens
    with pytest.raises(JudgeConfigError, match="single next token"):
        candidate_token_ids(tok, "the answer is ", ["t"])  # "t" merges with the preceding space


# ------------------------------------------------------------------------------ hf_inputs


def _img() -> EncodedImage:
    from PIL import Image

    return EncodedImage(image=Image.new("RGB", (16, 12), (1, 2, 3)), role="query")


def _vid(t: int = 4, fps: float = 2.0, audio: bool = False) -> EncodedVideo:
    tr = EncodedAudio(np.zeros(8000, np.float32), 16000) if audio else None
    return EncodedVideo(np.zeros((t, 8, 10, 3), np.uint8), [i / fps for i in range(t)], fps, audio=tr,
                        role="response 1")


def test_parts_become_ordered_chat_items_and_arrays():
    parts = [TextPart("Q: "), _img(), TextPart(" and "), EncodedText("inline"), TextPart("."),
             EncodedAudio(np.ones(160, np.float32) * 0.1, 16000, role="response 1"), _vid(audio=True)]
    p = prepare_request("SYS", parts, capabilities=ALL, judge="j", sampling_rate=16000, video_fps_fallback=2.0)
    assert p.messages[0] == {"role": "system", "content": "SYS"}
    assert p.messages[1]["content"] == [
        {"type": "text", "text": "Q: "}, {"type": "image"}, {"type": "text", "text": " and inline."},
        {"type": "audio"}, {"type": "video"}, {"type": "audio"}]
    assert len(p.images) == 1 and len(p.videos) == 1 and [a.shape for a in p.audios] == [(160,), (8000,)]
    assert p.video_fps == [2.0]
    assert p.log == [{"part": "part 6 (video, response 1)", "event": "audio track as the next audio item"}]
    text_only = prepare_request("", [TextPart("a"), EncodedText("b")], capabilities=frozenset({"text"}),
                                judge="j", sampling_rate=None, video_fps_fallback=2.0, text_only=True)
    assert text_only.messages == [{"role": "user", "content": "ab"}]


def test_unsupported_parts_raise_instead_of_vanishing():
    vl = frozenset({"text", "image", "video"})
    with pytest.raises(UnsupportedModality, match="cannot take audio"):
        prepare_request("", [EncodedAudio(np.ones(10, np.float32), 16000)], capabilities=vl, judge="j",
                        sampling_rate=None, video_fps_fallback=2.0)
    with pytest.raises(UnsupportedModality, match=r"audio.*audio track"):
        prepare_request("", [_vid(audio=True)], capabilities=vl, judge="j", sampling_rate=None,
                        video_fps_fallback=2.0)
    dropped = prepare_request("", [_vid(audio=True)], capabilities=vl, judge="j", sampling_rate=None,
                              video_fps_fallback=2.0, drop_unheard_video_audio=True)
    assert not dropped.audios and dropped.log[0]["event"] == "downgrade"
    with pytest.raises(UnsupportedModality, match="cannot take image"):
        prepare_request("", [_img()], capabilities=frozenset({"text", "audio"}), judge="j", sampling_rate=None,
                        video_fps_fallback=2.0)


def test_audio_is_resampled_with_its_length_scaled():
    y = np.sin(np.arange(44100) / 10).astype(np.float32)
    p = prepare_request("", [EncodedAudio(y, 44100, role="query")], capabilities=ALL, judge="j",
                        sampling_rate=16000, video_fps_fallback=2.0)
    assert p.audios[0].shape == (16000,)
    assert p.log == [{"part": "part 0 (audio, query)", "event": "resampled", "from_hz": 44100, "to_hz": 16000}]


def test_video_metadata_keeps_real_times_and_rate():
    from transformers.video_utils import VideoMetadata

    frames = np.zeros((4, 6, 8, 3), np.uint8)
    m = VideoMetadata(**video_metadata(frames, [5.0, 5.25, 5.5, 5.75], 4.0))
    assert m.fps == METADATA_CLOCK_HZ and m.frames_indices == [5000, 5250, 5500, 5750]
    assert [i / m.fps for i in m.frames_indices] == [5.0, 5.25, 5.5, 5.75]  # what Qwen3-VL prints
    assert m.sampled_fps == pytest.approx(4.0)  # what Qwen2.5-VL uses for its temporal positions
    assert (m.height, m.width, m.duration) == (6, 8, 1.0)
    fallback = video_metadata(frames, [], 2.0)  # missing timestamps → i / fps
    assert fallback["frames_indices"] == [0, 500, 1000, 1500]


def test_unknown_fps_uses_the_fallback_and_says_so():
    v = EncodedVideo(np.zeros((2, 8, 8, 3), np.uint8), [], 0.0)
    p = prepare_request("", [v], capabilities=ALL, judge="j", sampling_rate=None, video_fps_fallback=3.0)
    assert p.video_fps == [3.0] and p.log == [{"part": "part 0 (video)", "event": "fps fallback", "fps": 3.0}]


@pytest.mark.parametrize("part, match", [
    (EncodedAudio(np.zeros((2, 5), np.float32), 16000), "mono"),
    (EncodedAudio(np.zeros(0, np.float32), 16000), "no samples"),
    (EncodedAudio(np.array([0.0, np.nan], np.float32), 16000), "NaN"),
    (EncodedAudio(np.zeros(4, np.float32), 0), "sample rate"),
    (EncodedVideo(np.zeros((0, 8, 8, 3), np.uint8), [], 1.0), "T >= 1"),
    (EncodedVideo(np.zeros((2, 8, 8), np.uint8), [], 1.0), r"\(T, H, W, 3\)"),
])
def test_malformed_parts_are_bad_parts(part, match):
    with pytest.raises(BadPart, match=match):
        prepare_request("", [part], capabilities=ALL, judge="j", sampling_rate=16000, video_fps_fallback=2.0)


def test_audio_beyond_the_window_is_cut_and_logged():
    y = np.ones(16000 * 3, np.float32) * 0.1
    p = prepare_request("", [EncodedAudio(y, 16000, role="query")], capabilities=ALL, judge="j",
                        sampling_rate=16000, video_fps_fallback=2.0, max_audio_samples=16000 * 2)
    assert p.audios[0].shape == (32000,)
    assert p.log[0]["event"] == "truncated" and (p.log[0]["kept_s"], p.log[0]["of_s"]) == (2.0, 3.0)
    short = prepare_request("", [EncodedAudio(y, 16000)], capabilities=ALL, judge="j", sampling_rate=16000,
                            video_fps_fallback=2.0, max_audio_samples=16000 * 5)
    assert short.audios[0].shape == (48000,) and short.log == []


def test_read_only_frames_are_copied_not_shared():
    v = _vid()
    v.frames.setflags(write=False)
    p = prepare_request("", [v], capabilities=ALL, judge="j", sampling_rate=None, video_fps_fallback=2.0)
    assert p.videos[0].flags.writeable and np.array_equal(p.videos[0], v.frames)
    w = _vid()
    assert prepare_request("", [w], capabilities=ALL, judge="j", sampling_rate=None,
                           video_fps_fallback=2.0).videos[0] is w.frames
