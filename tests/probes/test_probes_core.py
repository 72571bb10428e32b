"""Unit tests of the probe helpers: variant schedule, event placement, spec validation, overrides, and
the media writers' errors."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from judgeanything.datasets.probes import FAMILY_BY_NAME
from judgeanything.datasets.probes.core import (
    Candidate,
    Media,
    ProbeSpec,
    check_spec,
    design_points,
    is_tie_variant,
)
from judgeanything.datasets.probes.dataset import resolve_designs, shuffle_slots
from judgeanything.datasets.probes.media import write_audio, write_mp4, write_png
from judgeanything.datasets.probes.synth import PlacementError, place_times


@pytest.mark.parametrize("n_designs", [2, 3, 4, 5, 7, 8])
def test_each_design_point_gets_one_distinct_and_one_tie_query_per_two_passes(n_designs: int) -> None:
    seen = Counter((i % n_designs, is_tie_variant(i, n_designs)) for i in range(2 * n_designs))
    assert seen == {(d, t): 1 for d in range(n_designs) for t in (False, True)}
    assert [is_tie_variant(i, n_designs) for i in (0, 1)] == [False, True]  # the small size


def test_design_points_are_base_then_one_factor_at_a_time() -> None:
    assert design_points({"a": (1, 2, 3), "b": ("x", "y")}) == [
        {"a": 1, "b": "x"}, {"a": 2, "b": "x"}, {"a": 3, "b": "x"}, {"a": 1, "b": "y"}]


def test_place_times_respects_window_gap_and_grid() -> None:
    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 4):
        for _ in range(50):
            t = place_times(rng, n, 0.2, 2.3, 0.7)
            assert len(t) == n and t == sorted(t) and 0.2 - 1e-9 <= t[0] and t[-1] <= 2.3 + 1e-9
            assert all(b - a >= 0.7 - 1e-9 for a, b in itertools.pairwise(t))
            assert all(abs(v * 10 - round(v * 10)) < 1e-6 for v in t)
    with pytest.raises(PlacementError, match="cannot place 5 events"):
        place_times(rng, 5, 0.2, 2.3, 0.7)


def _spec(scores: list[int], modality: str = "text") -> ProbeSpec:
    cands = tuple(Candidate(f"c{i}", s, text="x") if modality == "text"
                  else Candidate(f"c{i}", s, media=Media(modality, np.zeros((2, 2, 3), np.uint8), "png"))
                  for i, s in enumerate(scores))
    return ProbeSpec("q", (), cands, {})


def test_check_spec_enforces_the_variant_contract_and_modalities() -> None:
    check_spec(_spec([5, 4, 3, 1]), "f", tie=False, task="Text2Text")
    check_spec(_spec([5, 4, 4, 1]), "f", tie=True)
    with pytest.raises(ValueError, match="four different scores"):
        check_spec(_spec([5, 4, 4, 1]), "f", tie=False)
    with pytest.raises(ValueError, match="exactly one equal pair"):
        check_spec(_spec([5, 5, 4, 4]), "f", tie=True)
    with pytest.raises(ValueError, match="outside 1–5"):
        check_spec(_spec([6, 4, 3, 1]), "f", tie=False)
    with pytest.raises(ValueError, match="candidate c0 is not text"):
        check_spec(_spec([5, 4, 3, 1], "image"), "f", tie=False, task="Text2Text")
    with pytest.raises(ValueError, match="needs input media"):
        check_spec(_spec([5, 4, 3, 1]), "f", tie=False, task="Image2Text")


def test_tied_candidates_are_shuffled_into_one_pair() -> None:
    rng = np.random.default_rng(1)
    firsts = Counter()
    for _ in range(200):
        order = shuffle_slots(rng, [5, 3, 3, 1])
        slot = {c: s for s, c in enumerate(order)}
        assert slot[1] // 2 == slot[2] // 2
        firsts[order[0]] += 1
    assert set(firsts) == {0, 1, 2, 3}


def test_overrides_only_touch_design_points_where_the_knob_applies() -> None:
    fam = FAMILY_BY_NAME["audio_edit"]
    designs = resolve_designs(fam, {"semitones": [7]})
    assert {d["semitones"] for d in designs if d["op"] == "pitch_up"} == {7}
    assert all(d["semitones"] is None for d in designs if d["op"] != "pitch_up")
    assert len(designs) == 5  # three pitch_up points collapse into one


def test_media_writers_reject_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="even frame sizes"):
        write_mp4(tmp_path / "a.mp4", np.zeros((2, 5, 6, 3), np.uint8), 10)
    with pytest.raises(ValueError, match=r"\(T, H, W, 3\) uint8"):
        write_mp4(tmp_path / "a.mp4", np.zeros((2, 4, 6, 3), np.float32), 10)
    with pytest.raises(ValueError, match="mono"):
        write_audio(tmp_path / "a.wav", np.zeros((10, 2)), 16000)
    with pytest.raises(ValueError, match="outside"):
        write_audio(tmp_path / "a.wav", np.full(10, 1.5), 16000)
    with pytest.raises(ValueError, match="unsupported audio suffix"):
        write_audio(tmp_path / "a.ogg", np.zeros(10), 16000)
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        write_png(tmp_path / "a.png", np.zeros((4, 4), np.uint8))
