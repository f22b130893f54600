"""Searches split for concurrency: counted pages (v2, v3.0/3.1), takenAt ranges (v3.2)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from contextlib import suppress

import aiohttp
import pytest

from custom_components.immich_autotag.immich.client import ImmichClient
from custom_components.immich_autotag.immich.limiter import Limiter
from custom_components.immich_autotag.immich.search import MARK_EVERY, WINDOW, Marks, in_order

from . import payloads as p
from .capture import bodies_for
from .conftest import make_client
from .fake_server import BASE, FakeImmich, Reply, Sent

SEARCH = f"{BASE}/search/metadata"
STATS = f"{BASE}/search/statistics"


def stamp(n: int) -> str:
    return f"2019-05-12T08:{n // 60:02d}:{n % 60:02d}.000Z"


def dated(n: int) -> dict[str, object]:
    item = p.asset(n)
    item["fileCreatedAt"] = stamp(n)
    return item


async def test_a_key_that_may_not_count_walks_page_by_page(
    client: ImmichClient, mock: FakeImmich
) -> None:
    mock.post(STATS, status=403, payload={"message": "Missing required permission"})
    mock.post(SEARCH, payload=p.search([p.asset(1)], next_page="2"))
    mock.post(SEARCH, payload=p.search([p.asset(2)]))
    mock.post(SEARCH, payload=p.search([p.asset(3)]))
    assert [a.id async for page in client.iter_assets() for a in page] == [p.aid(1), p.aid(2)]
    assert [a.id async for page in client.iter_assets() for a in page] == [p.aid(3)]
    assert client.stats.by_endpoint == {"POST /search/metadata": 3, "POST /search/statistics": 1}


async def test_a_library_that_grew_after_counting_is_walked_to_its_end(
    client: ImmichClient, mock: FakeImmich
) -> None:
    mock.post(STATS, payload={"total": 1000})  # one page expected...
    mock.post(SEARCH, payload=p.search([p.asset(1)], next_page="2"))  # ...but there is more
    mock.post(SEARCH, payload=p.search([p.asset(2)]))
    assert [a.id async for page in client.iter_assets() for a in page] == [p.aid(1), p.aid(2)]
    assert [b["page"] for b in bodies_for(mock, "POST", "/search/metadata")] == [1, 2]


async def test_album_pages_come_from_its_asset_count_without_counting(
    client: ImmichClient, mock: FakeImmich
) -> None:
    pages = {
        1: p.search([p.asset(1)], next_page="2"),
        2: p.search([p.asset(2)], next_page="3"),
        3: p.search([p.asset(3)]),
    }
    mock.post(SEARCH, callback=lambda req: Reply(payload=pages[req.body["page"]]), repeat=True)
    ids = await client.search_asset_ids(album_id=p.ALBUM, size=2500)
    assert ids == [p.aid(1), p.aid(2), p.aid(3)]
    assert client.stats.by_endpoint == {"POST /search/metadata": 3}


def test_marks_cut_a_walk_into_pages() -> None:
    marks = Marks([(stamp(n), n) for n in range(0, 2650, MARK_EVERY)], 2650)
    assert marks.cuts() == [stamp(1000), stamp(2000)]
    assert Marks([(stamp(0), 0)], 900).cuts() == []
    assert Marks().cuts() == []
    # Ties move a mark to the first asset with its value: the cut still falls exactly there.
    tied = Marks([(stamp(0), 0), (stamp(950), 950), (stamp(1010), 1010)], 1500)
    assert tied.cuts() == [stamp(950)]


def test_marks_are_recorded_at_the_first_asset_of_a_value() -> None:
    marks = Marks()
    items = [{"fileCreatedAt": stamp(n // 3)} for n in range(3 * MARK_EVERY + 1)]
    marks.record(items)
    assert marks.recorded_total == len(items)
    assert MARK_EVERY == 100
    # Position 100 repeats the value of 99: the mark moves on to 102, the next value's first.
    assert marks.recorded == [(stamp(0), 0), (stamp(34), 102), (stamp(68), 204)]


async def test_v32_walk_is_split_at_the_marks_of_the_last_walk(
    session: aiohttp.ClientSession, limiter: Limiter, mock: FakeImmich
) -> None:
    client = make_client(session, limiter, (3, 2, 2))
    marks = Marks([(stamp(n), n) for n in range(0, 2100, MARK_EVERY)], 2100)
    first_of = {None: 1, stamp(1000): 1001, stamp(2000): 2001}

    def answer(req: Sent) -> Reply:
        start = req.body["filter"]["takenAt"].get("gte")
        return Reply(payload=p.search([dated(first_of[start])], v32=True))

    mock.post(SEARCH, callback=answer, repeat=True)
    ids = [a.id async for page in client.iter_assets(marks=marks) for a in page]
    assert ids == [p.aid(1), p.aid(1001), p.aid(2001)]  # in range order
    bodies = bodies_for(mock, "POST", "/search/metadata")
    ranges = sorted((b["filter"]["takenAt"] for b in bodies), key=lambda r: r.get("gte", ""))
    assert ranges == [
        {"lt": stamp(1000)},
        {"gte": stamp(1000), "lt": stamp(2000)},
        {"gte": stamp(2000)},
    ]
    assert client.stats.by_endpoint == {"POST /search/metadata": 3}
    assert marks.recorded_total == 3  # the new walk's own marks, for the next run


async def test_in_order_yields_in_order_and_cancels_the_rest_on_exit() -> None:
    started: list[int] = []
    cancelled: list[int] = []

    def job(n: int, delay: float) -> Callable[[], Awaitable[int]]:
        async def run() -> int:
            started.append(n)
            try:
                await asyncio.sleep(delay)
            except asyncio.CancelledError:
                cancelled.append(n)
                raise
            return n

        return run

    # The later jobs finish first; the results still come in order.
    jobs = (job(n, 0.01 * (5 - n)) for n in range(5))
    got = [n async for n in in_order(jobs, 3)]
    assert got == [0, 1, 2, 3, 4]
    started.clear()
    gen = in_order((job(n, 0 if n == 0 else 10) for n in range(5)), 3)
    assert await anext(gen) == 0
    await gen.aclose()
    assert started == [0, 1, 2]  # a window of 3: the 4th starts only when the 1st is taken
    assert sorted(cancelled) == [1, 2]


@pytest.mark.parametrize("version", [(2, 7, 5), (3, 0, 3)])
async def test_pages_are_in_flight_together(
    session: aiohttp.ClientSession, mock: FakeImmich, version: tuple[int, int, int]
) -> None:
    limiter = Limiter(8)
    client = make_client(session, limiter, version)
    in_flight = [0, 0]
    all_in = asyncio.Event()

    async def slow(_req: Sent) -> Reply:
        """Answered once the walk's five pages are all in flight (or after 5 s: one at a
        time, the test fails on the count instead of waiting for a time to pass)."""
        in_flight[0] += 1
        in_flight[1] = max(in_flight[1], in_flight[0])
        if in_flight[0] == 5:
            all_in.set()
        with suppress(TimeoutError):
            await asyncio.wait_for(all_in.wait(), 5)
        in_flight[0] -= 1
        if in_flight[0] == 0:
            all_in.clear()  # the next walk
        return Reply(payload=p.search([p.asset(1)]))

    mock.post(STATS, payload={"total": 5000}, repeat=True)
    mock.post(SEARCH, callback=slow, repeat=True)
    assert [a.id async for page in client.iter_assets() for a in page] == [p.aid(1)]
    walks = 2 if version < (3, 0, 0) else 1
    assert client.stats.by_endpoint == {
        "POST /search/metadata": 5 * walks,
        "POST /search/statistics": walks,
    }
    assert in_flight[1] == 5


async def test_in_order_gives_the_loop_a_turn_before_each_waiting_result() -> None:
    """Pages that are already in are handed out one loop turn apart (no long loop steps)."""
    events: list[str] = []
    done = asyncio.Event()

    async def heartbeat() -> None:
        while not done.is_set():
            events.append("beat")
            await asyncio.sleep(0)

    def job(n: int) -> Callable[[], Awaitable[int]]:
        async def run() -> int:
            return n

        return run

    beat = asyncio.create_task(heartbeat())
    await asyncio.sleep(0)
    jobs = [job(n) for n in range(4)]
    async for n in in_order(jobs, 8):
        if n == 0:
            await asyncio.sleep(0.01)  # all the others finish meanwhile
        events.append(f"page {n}")
    done.set()
    await beat
    pages = [i for i, e in enumerate(events) if e.startswith("page")]
    assert all("beat" in events[a:b] for a, b in itertools.pairwise(pages))


async def test_a_search_that_shrank_below_its_size_stops_at_its_last_page(
    session: aiohttp.ClientSession, mock: FakeImmich
) -> None:
    """A size from the last run (200 pages) on a tag that now holds one page: the walk stops
    at the page that says it is the last, and the pages not yet sent are never sent."""
    client = make_client(session, Limiter(1), (3, 0, 3))
    mock.post(SEARCH, callback=lambda _req: Reply(payload=p.search([p.asset(1)])), repeat=True)
    ids = await client.search_asset_ids(tag_id=p.TAG, size=200_000)
    assert ids == [p.aid(1)]
    sent = [b["page"] for b in bodies_for(mock, "POST", "/search/metadata")]
    assert sent[0] == 1
    assert len(sent) <= WINDOW  # those started ahead of the first answer, at most
