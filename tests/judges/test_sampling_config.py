"""One sampling-config object for every backend: validation, Hydra ``judge.sampling.*``, request fields,
fingerprints that keep existing runs' unit keys."""

from __future__ import annotations

import pytest

from judgeanything.judges.base import JudgeConfigError
from judgeanything.judges.openai_compat import OpenAIJudge, sampling_fields
from judgeanything.judges.sampling import SamplingConfig, SamplingConfigError
from tests.support.compose import composed, judge_of


@pytest.mark.parametrize(("given", "match"), [
    ({"temperature": -0.1}, r"judge\.sampling\.temperature=-0\.1: must be a number >= 0"),
    ({"temperature": float("nan")}, "temperature"),
    ({"top_p": 0.0}, r"top_p=0\.0: must be in \(0, 1\]"),
    ({"top_p": 1.5}, "top_p"),
    ({"top_k": 0}, "top_k"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"max_tokens": 2.5}, "max_tokens=2.5: must be an integer"),
    ({"seed": "7"}, "seed='7': must be a number"),
    ({"stop": [""]}, "stop"),
    ({"stop": 3}, "stop=3"),
    ({"presence_penalty": 3}, "presence_penalty"),
    ({"temperature": True}, "temperature=True"),
    ({"temprature": 0.5}, "unknown option 'temprature' .known: frequency_penalty, max_tokens"),
])
def test_bad_sampling_values_are_config_errors_naming_the_field(given, match):
    with pytest.raises(SamplingConfigError, match=match):
        SamplingConfig.of(given)
    assert issubclass(SamplingConfigError, JudgeConfigError)  # the CLI reports it and exits 2


def test_defaults_coercion_and_backend_defaults():
    s = SamplingConfig.of({"temperature": 1, "stop": "###", "seed": 3.0}, max_tokens=512)
    assert (s.temperature, s.stop, s.seed, s.max_tokens) == (1.0, ("###",), 3, 512)
    assert isinstance(s.temperature, float) and not s.greedy and SamplingConfig().greedy
    assert SamplingConfig.of(None) == SamplingConfig() and SamplingConfig.of(s) is s
    assert SamplingConfig.of({"max_tokens": 8}, max_tokens=512).max_tokens == 8  # the config wins


def test_fingerprint_keeps_core_fields_and_adds_optional_ones_only_when_set():
    assert SamplingConfig().fingerprint() == {"temperature": 0.0, "top_p": None, "max_tokens": 1024, "seed": None}
    fp = SamplingConfig(stop=("a", "b"), top_k=5).fingerprint()
    assert fp["stop"] == ["a", "b"] and fp["top_k"] == 5 and "presence_penalty" not in fp


def test_the_default_openai_fingerprint_is_unchanged_so_old_runs_resume():
    # the exact dict of the flat-parameter judge: unit keys hash it, so finished runs keep resuming
    assert OpenAIJudge(model="m").fingerprint() == {
        "name": "m", "kind": "openai", "model": "m", "temperature": 0.0, "top_p": None, "max_tokens": 1024,
        "seed": None, "response_format": "json_object", "video_mode": "frames", "image_format": "png",
        "audio_format": "wav"}


def test_openai_request_fields():
    s = SamplingConfig(temperature=0.7, top_p=0.9, top_k=20, max_tokens=64, seed=1, stop=("END",),
                       frequency_penalty=0.5)
    assert sampling_fields(s) == {"temperature": 0.7, "top_p": 0.9, "max_tokens": 64, "seed": 1,
                                  "frequency_penalty": 0.5, "stop": ["END"]}
    assert sampling_fields(SamplingConfig(temperature=None)) == {"temperature": 0.0, "max_tokens": 1024}


def test_hydra_judge_sampling_overrides_reach_the_openai_judge():
    judge = judge_of("judge=openai", "judge.model=m", "judge.sampling.temperature=0.7",
                     "judge.sampling.max_tokens=99", "judge.sampling.stop=[END,STOP]", "judge.sampling.top_k=5")
    assert judge.sampling == SamplingConfig(temperature=0.7, max_tokens=99, stop=("END", "STOP"), top_k=5)
    from hydra.errors import ConfigCompositionException

    with pytest.raises(ConfigCompositionException):  # the flat key is gone: one place for sampling
        composed("judge=openai", "judge.temperature=0.7")


def test_hydra_hf_and_smoke_sampling_defaults():
    hf = composed("judge=hf", "judge.model=x").judge.sampling
    assert (hf.temperature, hf.max_tokens, hf.seed) == (0.0, 512, 0)
    assert composed("judge=smoke").judge.sampling.max_tokens == 64
