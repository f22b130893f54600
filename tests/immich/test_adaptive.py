"""The adaptive limit's control law, driven by model servers with an explicit clock."""

from __future__ import annotations

from collections.abc import Callable
from statistics import fmean

import pytest

from custom_components.immich_autotag.immich.adaptive import (
    AdaptiveLimit,
    LatencyBaselines,
    size_bucket,
)

L0 = 0.040  # unloaded latency of the model servers, seconds
KEY = "POST /search/metadata#3"


class ClosedLoop:
    """A client that always has more work than the limit allows (a bulk phase).

    Each round sends `limit` requests at once; they all take `latency(limit)`. The in-flight
    count the model server sees may include another client's `extra` requests.
    """

    def __init__(
        self, limit: AdaptiveLimit, latency: Callable[[int], float], *, warm: bool = True
    ) -> None:
        self.limit, self.latency, self.now = limit, latency, 0.0
        self.limits: list[int] = []
        if warm:  # one request alone first, as a run's first requests are
            limit.sample(KEY, latency(1), in_flight=1, started=-1.0, now=-0.9, limited=False)

    def run(self, rounds: int, *, key: str = KEY) -> list[int]:
        seen: list[int] = []
        for _ in range(rounds):
            n = self.limit.limit
            took = self.latency(n)
            started, self.now = self.now, self.now + took
            for _ in range(n):
                self.limit.sample(
                    key, took, in_flight=n, started=started, now=self.now, limited=True
                )
            self.now += 0.001  # the client's own time between rounds
            seen.append(self.limit.limit)
        self.limits += seen
        return seen


def workers(count: int, extra: Callable[[], int] = lambda: 0) -> Callable[[int], float]:
    """A server with `count` workers: with n > count in flight each request takes n/count x."""
    return lambda n: L0 * max(1.0, (n + extra()) / count)


@pytest.mark.parametrize(("count", "high", "waiting"), [(2, 4, 2.0), (8, 11, 2.5), (24, 32, 8)])
def test_settles_just_above_the_servers_workers(count: int, high: int, waiting: float) -> None:
    """Enough in flight to keep every worker busy, few waiting: at most ~30 % of the limit."""
    loop = ClosedLoop(AdaptiveLimit(32), workers(count))
    loop.run(40)
    settled = loop.run(200)  # 200 rounds of 40+ ms: a probe every 10 s shows up
    assert count <= fmean(settled)
    assert max(settled) <= high
    assert fmean(max(0, n - count) for n in settled) <= waiting


def test_slow_start_doubles_until_the_maximum_on_flat_latency() -> None:
    limit = AdaptiveLimit(32, initial=4)
    loop = ClosedLoop(limit, lambda _n: L0)
    assert loop.run(4) == [8, 16, 32, 32]  # the first window needs a baseline
    loop.run(20)
    assert limit.limit == 32  # never beyond the maximum
    assert limit.history.decreases == 0


def test_no_growth_while_the_limit_holds_nothing_back() -> None:
    limit = AdaptiveLimit(32)
    for i in range(50):
        now = i * L0
        limit.sample(KEY, L0, in_flight=2, started=now - L0, now=now, limited=False)
    assert limit.limit == 8


def test_backs_off_under_another_clients_load_and_recovers() -> None:
    other = {"in_flight": 0}
    limit = AdaptiveLimit(32)
    loop = ClosedLoop(limit, workers(8, lambda: other["in_flight"]))
    alone = loop.run(40)[-1]
    other["in_flight"] = 24  # a second client keeps 24 requests in flight
    loaded = loop.run(40)
    assert max(loaded[-10:]) <= 4 < alone  # our share: at most 4 of 28 in flight
    other["in_flight"] = 0
    loop.run(40)
    assert limit.limit >= 8
    assert limit.history.decreases > 0


def test_real_server_curve_holds_a_few_in_flight() -> None:
    """A 2-core server whose latency rises from 1 in flight: throughput flattens after ~4."""
    curve = {1: 32, 2: 46, 3: 65, 4: 84, 5: 100, 6: 116, 7: 132, 8: 148, 16: 247, 32: 548}

    def latency(n: int) -> float:
        below = max(k for k in curve if k <= n)
        above = min((k for k in curve if k >= n), default=32)
        if above == below:
            return curve[n] / 1000
        return (curve[below] + (curve[above] - curve[below]) * (n - below) / (above - below)) / 1000

    limit = AdaptiveLimit(32)
    loop = ClosedLoop(limit, latency, warm=False)  # every request shares the server
    assert loop.run(1) == [8]  # its latency, L(8), is all the limit knows at first
    loop.run(40)  # a probe at a quarter of the limit sees the server's unloaded latency
    settled = loop.run(40)
    assert limit.history.probes >= 1
    assert min(settled) >= 2
    assert max(settled) <= 5


def test_429_halves_once_per_round() -> None:
    limit = AdaptiveLimit(32, initial=16)
    assert limit.throttled(started=1.0, now=1.1)
    assert limit.limit == 8
    # answers to requests sent before that halving do not halve again
    assert not limit.throttled(started=1.05, now=1.12)
    assert limit.limit == 8
    assert limit.throttled(started=1.2, now=1.3)
    assert limit.limit == 4
    for step in range(10):
        limit.throttled(started=2.0 + step, now=2.0 + step)
    assert limit.limit == 1  # the floor
    assert limit.history.halvings == 4
    assert not limit.slow_start


def test_grows_back_after_throttling_without_doubling() -> None:
    limit = AdaptiveLimit(32, initial=16)
    limit.throttled(started=0.0, now=0.0)
    loop = ClosedLoop(limit, lambda _n: L0)
    loop.now = 1.0
    # a probe at a quarter of the limit first (the throttling may have inflated the
    # baselines), then +10 % of the limit, at least 1, per window
    assert loop.run(5) == [2, 2, 9, 10, 11]


def test_request_sizes_are_compared_with_their_own_kind() -> None:
    """Big pages take 10x small ones; a mix of them is no sign of queueing."""
    limit = AdaptiveLimit(32)
    small, big = (
        f"POST /search/metadata#{size_bucket(300)}",
        f"POST /search/metadata#{size_bucket(400_000)}",
    )
    limit.sample(small, L0, in_flight=1, started=-2.0, now=-2.0 + L0, limited=False)
    limit.sample(big, 10 * L0, in_flight=1, started=-1.0, now=-1.0 + 10 * L0, limited=False)
    now = 0.0
    for _ in range(20):
        n = limit.limit
        for i in range(n):  # sent together, answered as they finish
            took = L0 * (10 if i % 2 else 1)
            key = big if i % 2 else small
            limit.sample(key, took, in_flight=n, started=now, now=now + took, limited=True)
        now += 10 * L0
    assert limit.limit == 32
    assert limit.history.decreases == 0


def test_baselines_forget_after_two_periods() -> None:
    base = LatencyBaselines(period=10.0)
    assert base.ratio("k", 1.0, now=0.0) is None  # a new class
    assert base.ratio("k", 2.0, now=1.0) == pytest.approx(2.0, rel=0.01)
    assert base.ratio("k", 0.5, now=2.0) == 1.0  # faster than ever: the new baseline
    assert base.ratio("k", 1.0, now=3.0) == pytest.approx(2.0, rel=0.01)
    assert base.ratio("k", 1.0, now=12.0) == pytest.approx(2.0, rel=0.01)  # still remembered
    assert base.ratio("k", 1.0, now=40.0) is None  # long gone: starts again
    # a few milliseconds of jitter on a fast server are no sign of queueing
    fast = LatencyBaselines()
    fast.ratio("k", 0.001, now=0.0)
    assert fast.ratio("k", 0.003, now=1.0) == pytest.approx(8 / 6)


def test_size_buckets() -> None:
    assert size_bucket(0) == size_bucket(1000) == 0
    assert size_bucket(2100) == size_bucket(2800) != size_bucket(1100)
    assert size_bucket(400_000) != size_bucket(100_000 // 8)
    # pages of 1,000 and 500 assets (about 1,500 bytes each) are not compared
    assert size_bucket(1_500_000) != size_bucket(750_000)
    assert size_bucket(1_500_000) == size_bucket(1_600_000)


def test_pages_of_different_sizes_on_a_flat_server_keep_the_limit() -> None:
    """A server whose latency grows per item, not with concurrency: no shrinking.

    Tag searches end on pages of 250-1,000 assets; their latency differs by the items, not by
    queueing. Compared within a factor of 4 in bytes, a 1,000-asset page looked like a
    250-asset one that had queued for twice its time.
    """
    limit = AdaptiveLimit(32)
    sizes = (250, 500, 750, 1000)
    now = 0.0
    seen: list[int] = []
    while now < 5.0:  # a steady re-run's reads and more
        n = limit.limit
        for i in range(n):
            items = sizes[i % len(sizes)]
            took = 0.037 + 0.00015 * items
            key = f"POST /search/metadata#{size_bucket(1500 * items)}"
            limit.sample(key, took, in_flight=n, started=now, now=now + took, limited=True)
        now += 0.037 + 0.00015 * max(sizes)
        seen.append(limit.limit)
    assert min(seen) >= 8  # never below its start
    assert limit.history.decreases == 0


def test_no_probe_in_a_short_burst_after_slow_start() -> None:
    """Slow start ends on queueing; the first probe comes 2 s later, not in the next window."""
    limit = AdaptiveLimit(32)
    loop = ClosedLoop(limit, workers(8))
    while limit.slow_start:
        loop.run(1)
    ended = loop.now
    while loop.now < ended + 1.9:
        loop.run(1)
    assert limit.history.probes == 0
    assert min(loop.limits[-5:]) >= 8  # the server's 8 workers stay busy
    while loop.now < ended + 3.0:
        loop.run(1)
    assert limit.history.probes == 1
