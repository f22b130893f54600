"""The simulator's capacity model: workers and queue, the latency curve, busy and queue time."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.sim import Faults, Simulator
from tests.sim.capacity import REAL_SERVER_CURVE, CapacityCurve, LoadMeter, SharedServer
from tests.sim.faults import real_server_curve

from .conftest import Api, Scenario


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_meter_integrates_busy_and_queue_time() -> None:
    clock = Clock()
    meter = LoadMeter(clock)
    meter.set_workers(2)
    for _ in range(2):
        meter.arrive()
        meter.start()
    meter.arrive()  # 2 serving, 1 waiting
    clock.now += 1.0
    meter.finish()
    meter.start()  # 2 serving, 0 waiting
    clock.now += 1.0
    meter.finish()
    meter.finish()
    clock.now += 2.0  # idle
    load = meter.as_dict()
    assert load["elapsedSeconds"] == pytest.approx(4.0)
    assert load["busySeconds"] == pytest.approx(4.0)
    assert load["queueSeconds"] == pytest.approx(1.0)
    assert load["busyRatio"] == pytest.approx(0.5)
    assert load["meanWaiting"] == pytest.approx(0.25)
    assert load["maxWaiting"] == 1
    assert load["served"] == 3
    meter.reset()
    assert meter.as_dict()["busySeconds"] == 0.0


def test_meter_counts_service_beyond_the_curves_parallelism_as_waiting() -> None:
    clock = Clock()
    meter = LoadMeter(clock)
    meter.set_workers(2.0)
    for _ in range(5):
        meter.arrive()
        meter.start()
    clock.now += 1.0
    load = meter.as_dict()
    assert load["busySeconds"] == pytest.approx(2.0)
    assert load["queueSeconds"] == pytest.approx(3.0)
    assert load["meanInFlight"] == pytest.approx(5.0)


def test_curve_interpolates_and_knows_its_parallelism() -> None:
    curve = CapacityCurve(REAL_SERVER_CURVE)
    assert curve.solo_ms == 32.0
    assert curve.latency_ms(3) == pytest.approx(65.0)
    assert curve.latency_ms(64) == pytest.approx(548.0 + 301.0 * 2)
    assert curve.slowdown(0) == 1.0
    # peak throughput 16 / 247 ms = 64.8 req/s, times the solo 32 ms: 2.07 effective workers
    assert curve.parallelism() == pytest.approx(16 * 32 / 247)
    with pytest.raises(ValueError, match="n=1"):
        CapacityCurve([[2, 40.0]])
    with pytest.raises(ValueError, match="one latency"):
        CapacityCurve([[1, 30.0], [1, 40.0]])


async def test_shared_server_slows_everyone_down_along_the_curve() -> None:
    """Two jobs share a server that is twice as slow per request with two in service."""
    server = SharedServer(CapacityCurve([[1, 10.0], [2, 20.0]]))
    loop = asyncio.get_running_loop()
    start = loop.time()
    done: dict[str, float] = {}

    async def job(name: str, work_s: float) -> None:
        await server.serve(work_s)
        done[name] = loop.time() - start

    await asyncio.wait_for(asyncio.gather(job("short", 0.02), job("long", 0.06)), 5)
    # together they progress at one solo-second per second, alone too: the long one is done
    # after the 0.08 s of work of both, the short one (twice as slow while shared) first
    assert list(done) == ["short", "long"]
    assert done["short"] >= 0.02 - 1e-3
    assert done["long"] >= 0.08 - 1e-3
    assert server.in_service == 0


async def test_cancelled_job_leaves_the_shared_server() -> None:
    server = SharedServer(CapacityCurve([[1, 10.0], [2, 20.0]]))
    stuck = asyncio.create_task(server.serve(60.0))
    await asyncio.sleep(0.01)
    assert server.in_service == 1
    stuck.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stuck
    assert server.in_service == 0
    await asyncio.wait_for(server.serve(0.01), 5)


async def test_workers_queue_and_report_load(scenario: Scenario) -> None:
    sim = Simulator(scenario.lib, faults=Faults(max_concurrency=2))
    async with sim.serve() as url, aiohttp.ClientSession() as session:
        api = Api(session, url, scenario.key)
        await asyncio.gather(*(api.call("GET", "/tags") for _ in range(6)))  # open connections
        sim.stats.reset()
        sim.faults.latency_ms = 40
        results = await asyncio.gather(*(api.call("GET", "/tags") for _ in range(6)))
        assert [r[0] for r in results] == [200] * 6
        async with session.get(f"{url}/__sim/stats") as resp:
            load = (await resp.json())["load"]
    assert sim.stats.max_concurrency == 2
    assert load["workers"] == 2
    assert load["served"] == 6
    assert 1 <= load["maxWaiting"] <= 4  # at most six at once, two are served
    # six requests of 40 ms on two workers: 0.24 worker-seconds; arriving together, each pair
    # waits for the pairs before it: 2 x 40 ms + 2 x 80 ms = 0.24 s of queueing (less when
    # the requests arrive spread out)
    assert load["busySeconds"] >= 0.24 - 0.01
    assert load["queueSeconds"] >= 0.1
    assert load["busySeconds"] <= 2 * load["elapsedSeconds"]
    assert 0 < load["busyRatio"] <= 1.0


async def test_real_server_curve_by_knob(scenario: Scenario) -> None:
    sim = Simulator(scenario.lib)
    async with sim.serve() as url, aiohttp.ClientSession() as session:
        async with session.post(f"{url}/__sim/faults", json={"capacity_curve": [[2, 5]]}) as r:
            assert r.status == 400
        async with session.post(
            f"{url}/__sim/faults", json={"capacity_curve": real_server_curve()}
        ) as resp:
            assert resp.status == 200
        api = Api(session, url, scenario.key)
        loop = asyncio.get_running_loop()
        start = loop.time()
        results = await asyncio.gather(*(api.call("GET", "/tags") for _ in range(4)))
        elapsed = loop.time() - start
        assert [r[0] for r in results] == [200] * 4
        async with session.post(f"{url}/__sim/reset-stats") as resp:
            assert resp.status == 200
        async with session.get(f"{url}/__sim/stats") as resp:
            load = (await resp.json())["load"]
    assert elapsed >= 0.084 - 0.002  # four at once take L(4) = 84 ms each
    assert load["workers"] == pytest.approx(16 * 32 / 247)
    assert load["served"] == 0  # the reset started a new window


async def test_items_add_service_time(scenario: Scenario) -> None:
    """20 ms per item: a page of 5 search items, an upsert of 3 tags, an empty page (none).

    The service time each request was given is counted exactly; the meter shows it was spent
    (a sleep never ends early, but on a loaded machine it and the handler's own work may take
    longer, so the time measured is only bounded from below).
    """
    sim = Simulator(scenario.lib, faults=Faults(max_concurrency=1, latency_per_item_ms=20))
    ids = [a.id for a in scenario.assets]
    async with sim.serve() as url, aiohttp.ClientSession() as session:
        api = Api(session, url, scenario.key)
        await api.call("GET", "/tags")  # a connection, outside the window
        sim.stats.reset()
        status, _ = await api.call("POST", "/search/metadata", {"size": 1000})
        assert status == 200
        status, _ = await api.call("PUT", "/tags", {"tags": ["a", "b", "c"]})
        assert status == 200
        status, _ = await api.call("POST", "/search/metadata", {"size": 10, "page": 9})
        assert status == 200
        load = sim.stats.load.as_dict()
    assert len(ids) == 5
    assert sim.stats.service_ms == {"POST /search/metadata": 5 * 20.0, "PUT /tags": 3 * 20.0}
    assert load["busySeconds"] >= (5 + 3) * 0.020 - 0.001
    assert load["busySeconds"] <= load["elapsedSeconds"]  # one worker
