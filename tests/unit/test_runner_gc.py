"""The judging loop's garbage-collector settings are in force only while a run judges, and restored after."""

from __future__ import annotations

import gc
import weakref

import pytest

from judgeanything.runner.loop import collector_for_bulk_work


def test_settings_apply_inside_and_are_restored_after() -> None:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with collector_for_bulk_work(gen0_threshold=12_345):
        assert gc.get_threshold() == (12_345, *before[1:])
        assert gc.get_freeze_count() > 1000  # the objects alive at the start are out of the collector's view
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_restored_when_the_run_fails() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), collector_for_bulk_work():
        raise RuntimeError("judge failed")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_garbage_made_during_the_run_is_still_collected() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self  # a reference cycle: only the cyclic collector frees it

    with collector_for_bulk_work(gen0_threshold=100):
        assert gc.isenabled()
        ref = weakref.ref(Node())
        junk = [[i] for i in range(5_000)]  # container allocations: the collector runs on its own, uncalled
        del junk
        assert ref() is None


def test_overlapping_runs_restore_the_settings_of_before_the_first() -> None:
    before = gc.get_threshold()
    outer = collector_for_bulk_work(gen0_threshold=20_000)
    inner = collector_for_bulk_work(gen0_threshold=30_000)
    outer.__enter__()
    inner.__enter__()
    outer.__exit__(None, None, None)  # the first run ends while the second still judges: still tuned
    assert gc.get_threshold()[0] == 20_000 and gc.get_freeze_count() > 0
    inner.__exit__(None, None, None)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_a_freeze_the_host_made_is_left_alone() -> None:
    before = gc.get_threshold()
    hosts = [{"keep": i} for i in range(1_000)]  # e.g. a server's state, frozen before it forks workers
    gc.freeze()
    frozen = gc.get_freeze_count()
    try:
        # (frozen objects freed meanwhile leave the count: compare loosely, an unfreeze would make it 0)
        with collector_for_bulk_work(gen0_threshold=12_345):
            assert gc.get_threshold()[0] == 12_345 and frozen - 100 <= gc.get_freeze_count() <= frozen
        assert gc.get_threshold() == before and frozen - 100 <= gc.get_freeze_count() <= frozen  # kept frozen
    finally:
        gc.unfreeze()
    assert len(hosts) == 1_000
