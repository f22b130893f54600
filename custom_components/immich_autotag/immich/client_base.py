"""The core of the Immich client: its transport and limiter, the server's identity and version.

`ImmichClient` (`client.py`) adds the calls for assets, tags and albums on top of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import aiohttp

from . import parsing, search
from .errors import ImmichUnsupportedVersionError
from .limiter import Limiter
from .models import (
    ApiKeyInfo,
    ApiMode,
    BulkIdResult,
    ServerInfo,
    ServerVersion,
    User,
    VersionSupport,
)
from .retry import RetryPolicy, Timing
from .search import CHUNK_SIZE
from .transport import RequestStats, Transport, normalize_url


def chunks(ids: Sequence[str], size: int = CHUNK_SIZE) -> Iterable[list[str]]:
    """`ids` in lists of at most `size` (none for an empty input)."""
    seq = list(ids)
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


class ClientBase:
    """Transport, limiter, identity and version of a client (the calls: `ImmichClient`).

    The limiter is given at construction (shared by every client of a server); without one
    the client makes its own.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        api_key: str,
        *,
        limiter: Limiter | None = None,
        verify_ssl: bool = True,
        retry: RetryPolicy | None = None,
        timing: Timing | None = None,
    ) -> None:
        """`url` may be given with or without the trailing `/api`.

        `retry` defaults to a run's patient policy, `timing` to the real clocks.
        """
        self._web_url, self._api_url = normalize_url(url)
        self._limiter = limiter or Limiter()
        self._http = Transport(
            session,
            self._api_url,
            api_key,
            self._limiter,
            verify_ssl=verify_ssl,
            retry=retry,
            timing=timing,
        )
        self._pager = search.Pager(self._http)
        self._version: ServerVersion | None = None
        self._server: ServerInfo | None = None  # what the latest connect() learned
        self._me: str | None = None  # the key user's id, once known

    def __repr__(self) -> str:
        return f"ImmichClient({self._api_url!r})"

    # --- identity -----------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        """Base URL ending in `/api` (no trailing slash)."""
        return self._api_url

    @property
    def web_url(self) -> str:
        """Base URL of the web UI (no `/api`), for quick links."""
        return self._web_url

    @property
    def limiter(self) -> Limiter:
        """The (possibly shared) limiter."""
        return self._limiter

    @property
    def retry_policy(self) -> RetryPolicy:
        """How requests are retried."""
        return self._http.policy

    @property
    def version(self) -> ServerVersion | None:
        """Server version, once known."""
        return self._version

    @property
    def server(self) -> ServerInfo | None:
        """Version, user and key as the latest `connect()` found them."""
        return self._server

    @property
    def mode(self) -> ApiMode:
        """Call family; valid after `connect()` (or `set_version()`)."""
        if self._version is None:
            raise RuntimeError("server version unknown: call connect() or set_version() first")
        return self._version.mode

    @property
    def stats(self) -> RequestStats:
        """Request counters."""
        return self._http.stats

    def set_version(self, version: ServerVersion) -> None:
        """Use the calls of `version` (raises ImmichUnsupportedVersionError).

        A newer minor of a known major gets that major's newest calls.
        """
        if version.support is VersionSupport.UNSUPPORTED:
            raise ImmichUnsupportedVersionError(str(version))
        self._version = version

    def start_run(self) -> None:
        """A run begins: its retry budgets are full again (see `retry.py`)."""
        self._http.start_run()

    def interrupt(self, make_error: Callable[[], Exception]) -> None:
        """Stop waiting: reads in flight and backoffs end with `make_error()` (see Transport)."""
        self._http.interrupt(make_error)

    @contextmanager
    def uninterrupted(self) -> Iterator[None]:
        """Requests in this block are sent even after `interrupt()` (a run's clean-up)."""
        with self._http.uninterrupted():
            yield

    async def connect(self, *, retry: RetryPolicy | None = None) -> ServerInfo:
        """`server/version`, `users/me`, `api-keys/me`; raises on unsupported versions.

        The version is read at every call (a run calls it first), so a server upgraded while
        a client lives gets the right calls from the next run on. `retry` overrides the
        client's policy for these requests (`FAIL_FAST` where a person or Home Assistant's
        set-up is waiting).
        """
        # The three reads go at once (none depends on another's answer); their errors are
        # raised in this order, so an unsupported version is reported before a refused key.
        user_read = asyncio.ensure_future(self.get_my_user(retry=retry))
        key_read = asyncio.ensure_future(self.get_my_api_key(retry=retry))
        try:
            version = await self.get_server_version(retry=retry)
            self.set_version(version)
            user = await user_read
            key = await key_read
        finally:
            await _settle(user_read, key_read)
        self._me = user.id
        self._server = ServerInfo(version=version, user=user, api_key=key)
        return self._server

    async def _mode(self) -> ApiMode:
        if self._version is None:
            self.set_version(await self.get_server_version())
        return self.mode

    # --- server / users -----------------------------------------------------------------
    async def get_server_version(self, *, retry: RetryPolicy | None = None) -> ServerVersion:
        """`GET /server/version`."""
        data = await self._http.request("GET", "/server/version", policy=retry)
        return parsing.parse_server_version(data)

    async def get_my_api_key(self, *, retry: RetryPolicy | None = None) -> ApiKeyInfo:
        """`GET /api-keys/me`."""
        return parsing.parse_api_key(await self._http.request("GET", "/api-keys/me", policy=retry))

    async def get_my_user(self, *, retry: RetryPolicy | None = None) -> User:
        """`GET /users/me`."""
        return parsing.parse_user(await self._http.request("GET", "/users/me", policy=retry))

    async def list_users(self) -> list[User]:
        """`GET /users`."""
        return parsing.parse_users(await self._http.request("GET", "/users"))

    async def _bulk_ids(
        self, method: str, template: str, ident: str, asset_ids: Sequence[str]
    ) -> list[BulkIdResult]:
        results: list[BulkIdResult] = []
        for part in chunks(asset_ids):
            data = await self._http.request(
                method, template, path={"id": ident}, body={"ids": part}, items=len(part)
            )
            results.extend(parsing.parse_bulk_ids(data))
        return results


async def _settle(*reads: asyncio.Future[Any]) -> None:
    """Cancel the reads still running and wait for all of them, their outcomes retrieved."""
    for read in reads:
        read.cancel()  # no effect on a read that is done
    await asyncio.gather(*reads, return_exceptions=True)
