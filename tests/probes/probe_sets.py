"""Generated probe sets as the tests see them (shared by the fixtures in conftest.py and the tests)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from judgeanything.datasets.base import BenchmarkData
from judgeanything.datasets.probes import ProbesDataset
from judgeanything.schema import SETTINGS, Query, Response

#: Families whose outputs or inputs are videos (slower to decode; checked on small + hard designs).
VIDEO_FAMILIES = ("motion_direction", "draw_motion", "animate_image", "video_edit", "av_sync",
                  "flashes_follow_beeps", "beeps_follow_flashes", "injection_video")
#: Hardest knob values for the video families (one design point each).
HARD_VIDEO = {
    "motion_direction": {"travel": 12.0, "noise": 15.0, "distractor": True, "diagonal": True, "radius": 5},
    "draw_motion": {"travel": 25.0, "radius": 5, "diagonal": True},
    "animate_image": {"travel": 14.0, "radius": 5, "diagonal": True},
    "video_edit": {"travel": 20.0},
    "av_sync": {"offset_s": -0.3, "n_events": 4, "flash_radius": 8, "snr_db": 6.0},
    "flashes_follow_beeps": {"n_events": 4, "shift_s": 0.2, "flash_radius": 8},
    "beeps_follow_flashes": {"n_events": 4, "shift_s": 0.2, "flash_radius": 8},
    "injection_video": {"injection": "fake_verdict"},
}


@dataclass
class ProbeSet:
    """A generated probe set: the dataset, its data per setting, and the generation time (s)."""

    ds: ProbesDataset
    data: dict[str, BenchmarkData]
    seconds: float

    @property
    def root(self) -> Path:
        return self.ds.root

    def queries(self, family: str) -> Iterator[tuple[Query, list[Response], list[int]]]:
        """(query, responses in slot order, their score labels) for every query of ``family``."""
        score = {lab.item_id: lab.value for lab in self.data["score"].labels}
        found = False
        for item in self.data["batch"].items:
            if item.query.meta["family"] != family:
                continue
            found = True
            rs = list(item.responses)
            yield item.query, rs, [int(score[f"{item.query.uniq_id}::{r.model_name}"]) for r in rs]
        assert found, f"no query of family {family} was generated"


def generate(root: Path, **kw: object) -> ProbeSet:
    t0 = time.perf_counter()
    ds = ProbesDataset(cache_dir=str(root), **kw)  # type: ignore[arg-type]
    ds.prepare()
    seconds = time.perf_counter() - t0
    return ProbeSet(ds, {s: ds.load(s) for s in SETTINGS}, seconds)


def media_path(root: Path, r: Response | Query) -> Path:
    """Absolute path of the first media item of a response or query."""
    p = root / r.media[0].path  # type: ignore[operator]
    assert p.is_file(), p
    return p
