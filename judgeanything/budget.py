"""A hard spending limit for one run (``run.budget_usd``): the runner asks before sending each chunk of
units and stops sending once the limit would be passed; everything already judged is kept, and rerunning
with a higher limit continues where it stopped.

The limit is cumulative over the run directory — what earlier sessions of the same run spent counts —
because a budget is what the *evaluation* may cost, however many times it was resumed. Answers served from
the judge cache cost nothing.

Admission (:meth:`Budget.admit`): a request's cost is unknown until it returns, so each admitted unit
reserves the mean cost of the live requests seen so far; until one has returned, one request at a time is
admitted (it measures the cost). A unit is admitted only while ``spent + reserved + its estimate ≤ limit``,
so the limit is passed by at most the difference between the estimates and the real costs of the units in
flight — with many parallel requests, concurrency is what bounds that.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from judgeanything.usage import Price, verdict_cost


class Budget:
    """Spending control for one run.

    Args:
        limit_usd: the limit (``None``: no limit; every call to :meth:`admit` succeeds).
        price: the judge's price (``None``: the judge costs nothing to call, e.g. a baseline).
        spent_before: USD already spent by earlier sessions of this run.
        calls_before: how many paid answers that was (their mean is this session's first estimate, so a
            resumed run does not send a request only to learn that the budget was already spent).

    Raises:
        ValueError: a negative or non-finite limit.
    """

    def __init__(self, limit_usd: float | None, price: Price | None, spent_before: float = 0.0,
                 calls_before: int = 0) -> None:
        if limit_usd is not None and not (float(limit_usd) >= 0 and float(limit_usd) < float("inf")):
            raise ValueError(f"run.budget_usd={limit_usd!r}: must be a finite number >= 0 (or null)")
        self.limit = None if limit_usd is None else float(limit_usd)
        self.price = price
        self.spent = float(spent_before)
        self.spent_before = float(spent_before)
        self._live_n = max(int(calls_before), 0) if spent_before > 0 else 0
        self._live_cost = float(spent_before) if self._live_n else 0.0
        self._inflight = 0
        self._reserved = 0.0
        self.stopped = False
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return self.limit is not None and self.price is not None

    def _estimate(self) -> float | None:
        return self._live_cost / self._live_n if self._live_n else None

    def admit(self, n: int = 1) -> bool:
        """Whether ``n`` more units may be sent; reserves their estimated cost when they may."""
        if not self.active:
            return True
        assert self.limit is not None
        with self._lock:
            if self.stopped:
                return False
            est = self._estimate()
            if est is None:
                ok = self._inflight == 0 and self.spent < self.limit
                n_cost = 0.0
            else:
                n_cost = est * n
                ok = self.spent + self._reserved + n_cost <= self.limit
            if not ok:
                if self._inflight == 0 or est is not None:
                    self.stopped = True
                return False
            self._inflight += n
            self._reserved += n_cost
            return True

    def wait_needed(self) -> bool:
        """True while admission is refused only because the first cost is still unknown (the caller should
        wait for a request in flight to land, then ask again)."""
        with self._lock:
            return self.active and not self.stopped and self._live_n == 0 and self._inflight > 0

    def settle(self, usage: Mapping[str, Any], *, cached: bool) -> float:
        """Account one landed unit (its reservation is released); returns what it cost this run."""
        if not self.active:
            return 0.0
        assert self.price is not None
        cost = 0.0 if cached else verdict_cost(usage, self.price)
        with self._lock:
            per_unit = self._reserved / self._inflight if self._inflight else 0.0  # reservations average out
            self._inflight = max(self._inflight - 1, 0)
            self._reserved = max(self._reserved - per_unit, 0.0) if self._inflight else 0.0
            self.spent += cost
            if not cached and usage:
                self._live_n += 1
                self._live_cost += cost
        return cost

    def summary(self) -> dict[str, Any]:
        """For ``run.json``: limit, spent (this run directory, all sessions), spent this session, stopped."""
        return {"limit_usd": self.limit, "spent_usd": round(self.spent, 6),
                "spent_this_session_usd": round(self.spent - self.spent_before, 6), "stopped": self.stopped}


__all__ = ["Budget"]
