"""The simulator: an aiohttp.web app over a `SimLibrary`, with validation, auth and faults.

Its own endpoints under `/__sim` are in `control.py`.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import orjson
from aiohttp import web

from .capacity import CapacityCurve, SharedServer, server_workers
from .faults import READ_POSTS, WRITE_METHODS, FaultInjector, Faults, SimStats, seeded_rng
from .library import MetadataJob, SimLibrary
from .openapi import validator_for
from .search import SearchEngine
from .timeline import Span, request_kind

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_RECORDERS: list[list[Simulator]] = []  # open `recording_simulators()` blocks


class ApiError(Exception):
    """An Immich error answer."""

    def __init__(
        self, status: int, message: str, errors: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors


def parse_version(version: str) -> tuple[int, int, int]:
    """ "3.0.3" / "v2.7.3" -> (3, 0, 3)."""
    parts = [int(p) for p in version.lstrip("v").split(".")[:3]]
    padded = [*parts, 0, 0, 0]
    return padded[0], padded[1], padded[2]


def json_response(data: object, status: int = 200) -> web.Response:
    """orjson-encoded JSON response."""
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


class Simulator:
    """A stateful Immich stand-in. `async with sim.serve() as url:` (url without `/api`)."""

    def __init__(
        self,
        lib: SimLibrary,
        version: str = "3.0.3",
        faults: Faults | None = None,
        *,
        metadata_delay_s: float | None = 0.5,
        metadata_resets_tags: bool = True,
    ) -> None:
        """`metadata_delay_s`: seconds from a date write to its re-extraction (None: only
        `run_metadata_jobs()`); `metadata_resets_tags`: the re-extraction resets tags to the
        sidecar written with the date (a real server's race; see `library.py`)."""
        for created in _RECORDERS:
            created.append(self)
        self.lib = lib
        self.version = parse_version(version)
        self.version_str = version.lstrip("v")
        self.faults = faults or Faults()
        self.stats = SimStats()
        self.validator = validator_for(self.version_str)
        self.search = SearchEngine(lib, self.version)
        self.check_responses = True  # validate its JSON answers too (the simulator's fidelity)
        self.response_violations: list[str] = []
        self._checked: set[tuple[str, str, int, int]] = set()  # answers already validated
        self.metadata_delay_s = metadata_delay_s
        self.metadata_resets_tags = metadata_resets_tags
        self._job_timers: set[asyncio.TimerHandle] = set()
        # Test hook: sees (and may change) each timed job right before it runs.
        self.before_metadata_job: Callable[[MetadataJob], None] | None = None
        self._rng: random.Random = seeded_rng(self.faults.seed)
        self._rng_seed = self.faults.seed
        self.injector = FaultInjector(self.stats)
        self._gate: asyncio.Semaphore | None = None
        self._capacity: tuple[int | None, list[list[float]] | None] | None = None
        self._shared: SharedServer | None = None
        self.app = self._build_app()

    # -- public helpers --------------------------------------------------------------------
    def set_version(self, version: str) -> None:
        """Upgrade (or downgrade) the server in place: answers and checks follow `version`."""
        self.version = parse_version(version)
        self.version_str = version.lstrip("v")
        self.validator = validator_for(self.version_str)
        self.search.version = self.version

    def run_metadata_jobs(self) -> int:
        """Run every queued re-extraction now; returns the assets whose dates moved."""
        return self.lib.run_metadata_jobs()

    def on_date_write(self, asset_ids: list[str]) -> None:
        """A date write queues a re-extraction, run `metadata_delay_s` later."""
        job = self.lib.queue_metadata_job(asset_ids, reset_tags=self.metadata_resets_tags)
        if self.metadata_delay_s is None:
            return

        def due() -> None:
            self._job_timers.discard(timer)
            if self.before_metadata_job is not None:
                self.before_metadata_job(job)
            self.lib.run_metadata_job(job)

        timer = asyncio.get_running_loop().call_later(self.metadata_delay_s, due)
        self._job_timers.add(timer)

    async def metadata_settled(self) -> None:
        """Wait until every timed re-extraction is due, then run what is left (a test helper)."""
        loop = asyncio.get_running_loop()
        last = max((t.when() for t in self._job_timers), default=loop.time())
        await asyncio.sleep(max(0.0, last - loop.time()))
        self.run_metadata_jobs()

    @asynccontextmanager
    async def serve(
        self, host: str = "127.0.0.1", port: int = 0, url_host: str = "localhost"
    ) -> AsyncIterator[str]:
        """Serve on `host` (a random port by default); yields the base URL (no `/api`).

        The URL names the server by a host name (`url_host`, `localhost`), as a user would, so
        every client under test resolves a name.
        """
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.base_events.Server)
        bound = server.sockets[0].getsockname()[1]
        try:
            yield f"http://{url_host}:{bound}"
        finally:
            self.injector.release()  # stalled requests end before the server stops
            await runner.cleanup()
            for timer in self._job_timers:
                timer.cancel()
            self._job_timers.clear()

    def run_forever(self, host: str = "127.0.0.1", port: int = 2283) -> None:
        """Blocking standalone mode."""
        web.run_app(self.app, host=host, port=port, access_log=None, print=None)

    # -- app -------------------------------------------------------------------------------
    def _build_app(self) -> web.Application:
        from .control import SimControl  # noqa: PLC0415
        from .handlers import Handlers  # noqa: PLC0415

        app = web.Application(middlewares=[self._middleware], client_max_size=20 * 1024 * 1024)
        handlers = Handlers(self)
        SimControl(self).add_routes(app.router)
        app.router.add_route("*", "/api/{tail:.*}", handlers.dispatch)
        return app

    def error(
        self, status: int, message: str, errors: list[dict[str, Any]] | None = None
    ) -> web.Response:
        """Immich error body: v3 Zod shape, v2 class-validator shape."""
        correlation = str(uuid.uuid4())
        if self.version >= (3, 0, 0):
            body: dict[str, Any] = {"message": message}
            if errors is not None:
                body["errors"] = errors
        else:
            names = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
            msg: str | list[str] = [e["message"] for e in errors] if errors else message
            body = {"message": msg, "error": names.get(status, "Error"), "statusCode": status}
            body["correlationId"] = correlation
        response = json_response(body, status)
        response.headers["X-Correlation-ID"] = correlation
        return response

    def _sync_capacity(self) -> asyncio.Semaphore | None:
        """Follow the capacity knobs (workers, curve) when they change; the current gate."""
        faults = self.faults
        points = [[float(x) for x in p] for p in faults.capacity_curve or ()] or None
        if (faults.max_concurrency, points) != self._capacity:
            curve = CapacityCurve(points) if points else None
            self._capacity = (faults.max_concurrency, points)
            workers = faults.max_concurrency
            self._gate = asyncio.Semaphore(workers) if workers else None
            self._shared = SharedServer(curve) if curve else None
            self.stats.load.set_workers(server_workers(workers, curve))
        return self._gate

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/api/"):
            return await handler(request)
        gate = self._sync_capacity()
        meter = self.stats.load
        meter.arrive()
        arrived = time.monotonic()
        if gate is not None:
            try:
                await gate.acquire()
            except asyncio.CancelledError:
                meter.drop()
                raise
        meter.start()
        started = time.monotonic()
        self.stats.in_flight += 1
        self.stats.max_concurrency = max(self.stats.max_concurrency, self.stats.in_flight)
        try:
            response = await self._handle(request, handler)
        finally:
            self.stats.in_flight -= 1
            meter.finish()
            if gate is not None:
                gate.release()
            if self.stats.timeline is not None:
                route, items = request.get("route", ""), request.get("items", 0)
                kind = request_kind(route, request.get("body"))
                cpu = request.get("cpu_s", 0.0)
                span = Span(route, arrived, started, time.monotonic(), items, kind, cpu)
                self.stats.timeline.append(span)
        self.stats.statuses[response.status] += 1
        return response

    async def _serve_work(self, route: str) -> None:
        """Spend the request's service time: alone, or shared along the capacity curve."""
        faults, shared = self.faults, self._shared
        solo_ms = faults.latency_ms or (shared.curve.solo_ms if shared else 0.0)
        work_ms = solo_ms + (self._rng.uniform(0, faults.jitter_ms) if faults.jitter_ms else 0.0)
        if work_ms > 0:
            self.stats.service_ms[route] += work_ms
        if shared is not None:
            await shared.serve(work_ms / 1000)
        elif work_ms > 0:
            await asyncio.sleep(work_ms / 1000)

    async def _serve_items(self, route: str, items: int) -> None:
        """The service time a request's items add (`Faults.latency_per_item_ms`)."""
        work_ms = self.faults.latency_per_item_ms * items
        if work_ms <= 0:
            return
        self.stats.service_ms[route] += work_ms
        if self._shared is not None:
            await self._shared.serve(work_ms / 1000)
        else:
            await asyncio.sleep(work_ms / 1000)

    async def _handle(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        faults = self.faults
        if faults.seed != self._rng_seed:
            self._rng, self._rng_seed = seeded_rng(faults.seed), faults.seed
        api_path = request.path[4:]
        match = self.validator.match(request.method, api_path)
        route = f"{request.method} {match.template if match else api_path}"
        request["route"] = route
        request["match"] = match
        self.stats.requests[route] += 1
        if request.method in WRITE_METHODS and route not in READ_POSTS:
            self.stats.writes += 1
        await self._serve_work(route)
        early = await self.injector.before(faults, request, route, self._rng)
        if early is not None:
            return early
        cpu = time.thread_time()
        response: web.StreamResponse = await handler(request)
        if self.check_responses:
            self._check_response(request, response)
        request["cpu_s"] = time.thread_time() - cpu  # the answer's own CPU (awaits aside)
        await self._serve_items(route, request.get("items", 0))
        return await self.injector.after(faults, request, route, response, self._rng)

    def _check_response(self, request: web.Request, response: web.StreamResponse) -> None:
        """Record where a 2xx JSON answer does not match the spec's response schema."""
        if not isinstance(response, web.Response) or not 200 <= response.status < 300:
            return
        raw = response.body if isinstance(response.body, bytes) else b""
        seen = (request.method, request.path, response.status, hash(raw))
        if seen in self._checked:  # the same answer to the same call: the same verdict
            return
        self._checked.add(seen)
        body = orjson.loads(raw) if raw else None
        self.response_violations.extend(
            self.validator.validate_response(
                request.method, request.path[4:], response.status, body
            )
        )


@contextmanager
def recording_simulators() -> Iterator[list[Simulator]]:
    """Every simulator created inside the block (the test suite checks their violations)."""
    created: list[Simulator] = []
    _RECORDERS.append(created)
    try:
        yield created
    finally:
        _RECORDERS.remove(created)


def assert_no_violations(sim: Simulator) -> None:
    """Fail when any request or response violated the OpenAPI spec."""
    assert not sim.stats.violations, "OpenAPI violations:\n" + "\n".join(sim.stats.violations)
