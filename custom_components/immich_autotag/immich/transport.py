"""HTTP core of the Immich client: one logical request, its attempts and stats.

Each attempt holds a limiter slot; between attempts the transport waits as `retry.py`
decides, without a slot. Redirects are never followed (the API key goes to the configured
origin only): a 3xx is an error naming the target. A request given up on raises the error
`give_up.py` makes of its last attempt's answer.

`interrupt()` (a cancelled run) ends every wait at once: backoffs and reads in flight stop
with the caller's error. A write in flight finishes its attempt (its outcome must be known)
but is not retried.

Retrying writes is safe for every write the engine sends but one: they are idempotent
(add/remove album or tag membership, set a date to a fixed value, upsert tags by path, delete
by id), so a request that may or may not have reached the server can simply be sent again.
`POST /albums` is not (a lost answer retried creates a second album): it is sent with
`idempotent=False`, retried only on 429, and the client looks for the album before sending
it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

import aiohttp

from .answers import decode, dumps, normalize_url, redirect_error
from .give_up import Answer, describe, give_up_error
from .limiter import Limiter
from .retry import (
    RUN_POLICY,
    Failure,
    GiveUp,
    RequestRetry,
    RetryPolicy,
    ServerHealth,
    Timing,
    classify,
)

__all__ = ["RequestStats", "Transport", "normalize_url"]

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

WRITE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DECODE_IN_THREAD: Final = 256 * 1024  # bytes of JSON decoded in a worker thread
_READS_OVER_POST: Final = frozenset(  # POSTs that do not write
    {"POST /search/metadata", "POST /search/statistics"}
)
PROBE: Final = ("GET", "/users/me")  # answers only when the server and its database are up


@dataclass
class RequestStats:
    """Every request the client sent, for reports and diagnostics."""

    by_endpoint: dict[str, int] = field(default_factory=dict)  # "POST /search/metadata": n
    retries: int = 0
    throttled_seconds: float = 0.0  # time waited before retries
    writes: int = 0  # requests that change server state

    @property
    def total(self) -> int:
        """All requests sent (retries excluded)."""
        return sum(self.by_endpoint.values())


class Transport:
    """Sends one logical request (with retries) and returns the parsed JSON (None on 204)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_url: str,
        api_key: str,
        limiter: Limiter,
        *,
        verify_ssl: bool,
        retry: RetryPolicy | None = None,
        timing: Timing | None = None,
    ) -> None:
        self._session = session
        self._api_url = api_url
        self._headers = {"x-api-key": api_key, "Accept": "application/json"}
        self._limiter = limiter
        self.policy = retry or RUN_POLICY
        self.timing = timing or Timing()
        self.health = ServerHealth(self.timing, self._probe)
        self._ssl = verify_ssl
        self.stats = RequestStats()
        self._interrupted: Callable[[], Exception] | None = None
        self._waits: set[asyncio.Future[Any]] = set()

    def start_run(self) -> None:
        """A run begins: budgets full again, no interruption pending."""
        self._interrupted = None
        self.health.start_run()

    def interrupt(self, make_error: Callable[[], Exception]) -> None:
        """End every wait now: interrupted requests raise `make_error()`."""
        self._interrupted = make_error
        for wait in list(self._waits):
            wait.cancel()

    @contextlib.contextmanager
    def uninterrupted(self) -> Iterator[None]:
        """Requests sent in this block go out even after `interrupt()` (a run's clean-up)."""
        saved, self._interrupted = self._interrupted, None
        try:
            yield
        finally:
            self._interrupted = self._interrupted or saved

    def _check_interrupted(self) -> None:
        if self._interrupted is not None:
            raise self._interrupted()

    async def _interruptible(self, wait: Awaitable[_T]) -> _T:
        """Await `wait` unless `interrupt()` comes first (then raise its error)."""
        self._check_interrupted()
        task = asyncio.ensure_future(wait)
        self._waits.add(task)
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self._interrupted is None or (current is not None and current.cancelling()):
                raise  # cancelled from outside: not ours to turn into an error
            raise self._interrupted() from None
        finally:
            self._waits.discard(task)

    def __repr__(self) -> str:
        return f"Transport({self._api_url!r})"  # never the key

    def _count(self, method: str, template: str) -> str:
        endpoint = f"{method} {template}"
        self.stats.by_endpoint[endpoint] = self.stats.by_endpoint.get(endpoint, 0) + 1
        if method in WRITE_METHODS and endpoint not in _READS_OVER_POST:
            self.stats.writes += 1
        return endpoint

    async def request(
        self,
        method: str,
        template: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        idempotent: bool = True,
        items: int = 0,
        policy: RetryPolicy | None = None,
    ) -> Any:
        """`METHOD /template` -> parsed JSON; maps errors; retries transient failures.

        `items` is how many items the request carries or asks for (its timeout grows with
        it); `policy` overrides the client's retry policy for this request. A non-idempotent
        request is retried only on 429 (a proxy refused it unseen): any other failure may
        have reached the server, so the caller decides what to do.
        """
        endpoint = self._count(method, template)
        rel = template.format_map(path or {})
        url = f"{self._api_url}{rel}"
        headers = dict(self._headers)
        data: bytes | None = None
        if body is not None:
            data = dumps(body)
            headers["Content-Type"] = "application/json"
        policy = policy or self.policy
        state = RequestRetry(policy, self.timing, self.health, policy.attempt_timeout(items))
        reads = method == "GET" or endpoint in _READS_OVER_POST
        answer = Answer()
        while True:
            self._check_interrupted()
            attempt = self._attempt(
                method,
                url,
                params,
                data,
                headers,
                state.timeout,
                policy.connect_timeout,
                state.stall_left(),  # a stalled request waits for a slot only so long
                endpoint=endpoint,
            )
            got = await (self._interruptible(attempt) if reads else attempt)
            if got is None:
                raise give_up_error(GiveUp.NO_ANSWER, endpoint, answer, state)
            answer = got
            if answer.error is None and 200 <= answer.status < 300:  # noqa: PLR2004
                self.health.success(answer.sent)
                if len(answer.raw) > DECODE_IN_THREAD:  # e.g. a search page: keep the loop free
                    return await asyncio.to_thread(decode, answer.raw, endpoint)
                return decode(answer.raw, endpoint)
            if answer.error is None and 300 <= answer.status < 400:  # noqa: PLR2004
                raise redirect_error(endpoint, answer.status, url, rel, answer.location)
            retry_after = state.retry_after(answer.retry_after)
            failure = classify(answer.status, answer.error, retry_after)
            if not idempotent and answer.status != 429:  # noqa: PLR2004
                failure = Failure.FINAL
            outcome = await state.next_delay(failure, retry_after, answer.elapsed, answer.sent)
            if isinstance(outcome, GiveUp):
                raise give_up_error(outcome, endpoint, answer, state)
            self._check_interrupted()
            self.stats.retries += 1
            self.stats.throttled_seconds += outcome
            _LOGGER.debug(
                "%s: retry %d after %.2fs (%s)", endpoint, state.attempts, outcome, describe(answer)
            )
            waited_from = self.timing.monotonic()
            await self._interruptible(self.timing.sleep(outcome))  # without a limiter slot
            if failure is Failure.THROTTLED:
                self.health.throttled_until_now(waited_from)

    async def _attempt(  # noqa: PLR0917
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        data: bytes | None,
        headers: dict[str, str],
        seconds: float,
        connect_seconds: float,
        slot_wait: float | None = None,
        *,
        endpoint: str,
    ) -> Answer | None:
        """One attempt inside a limiter slot; the slot is released before any backoff.

        None when no slot came within `slot_wait` seconds (other requests hold them all).
        The answer (status, bytes sent and received) goes to the limiter, which learns the
        server's latency from it and halves its limit on 429/503.
        """
        # The connect limit stays below the total, so a connection that never opens is told
        # apart from an answer that never comes.
        connect = min(connect_seconds, 0.95 * seconds)
        limits = aiohttp.ClientTimeout(total=seconds, sock_connect=connect)
        async with contextlib.AsyncExitStack() as stack:
            try:
                async with asyncio.timeout(None if slot_wait is None else max(0.0, slot_wait)):
                    permit = await stack.enter_async_context(self._limiter.slot(endpoint))
            except TimeoutError:
                return None
            self._check_interrupted()  # the slot may come after a long wait
            sent = self.timing.monotonic()
            try:
                async with self._session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=headers,
                    timeout=limits,
                    ssl=self._ssl,
                    allow_redirects=False,
                ) as resp:
                    permit.headers()
                    raw = await resp.read()
                    permit.answered(resp.status, len(raw) + (len(data) if data else 0))
                    return Answer(
                        resp.status,
                        raw,
                        resp.headers.get("Retry-After"),
                        resp.headers.get("Location"),
                        sent=sent,
                        elapsed=self.timing.monotonic() - sent,
                    )
            except (aiohttp.ClientError, TimeoutError) as err:
                return Answer(error=err, sent=sent, elapsed=self.timing.monotonic() - sent)

    async def _probe(self, seconds: float) -> bool:
        """Whether the server answers a cheap authenticated read (any status below 500)."""
        method, template = PROBE
        self._count(method, template)
        answer = await self._attempt(
            method,
            f"{self._api_url}{template}",
            None,
            None,
            self._headers,
            seconds,
            seconds,
            endpoint=f"{method} {template}",
        )
        if answer is not None and answer.error is None and answer.status < 500:  # noqa: PLR2004
            self.health.success(answer.sent)
            return True
        return False
