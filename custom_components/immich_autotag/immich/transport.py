"""HTTP core of the Immich client: URL handling, limiter, retries, error mapping, JSON.

Retrying writes is safe for every write the engine sends but one: they are idempotent
(add/remove album or tag membership, set a date to a fixed value, upsert tags by path, delete
by id), so a request that may or may not have reached the server can simply be sent again.
`POST /albums` is not (a lost answer retried creates a second album): it is sent with
`idempotent=False` and the client looks for the album before sending it again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import aiohttp
from yarl import URL

from .errors import (
    ImmichAuthError,
    ImmichBadRequestError,
    ImmichConnectionError,
    ImmichError,
    ImmichInvalidResponseError,
    ImmichNotFoundError,
    ImmichPermissionError,
    ImmichRateLimitedError,
    ImmichServerError,
)
from .limiter import Limiter
from .retry import RetryPolicy, Timing, retry_delay

try:
    import orjson

    def _dumps(value: Any) -> bytes:
        return orjson.dumps(value)

    def _loads(raw: bytes) -> Any:
        return orjson.loads(raw)

except ImportError:  # pragma: no cover - orjson ships with Home Assistant

    def _dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()

    def _loads(raw: bytes) -> Any:
        return json.loads(raw)


_LOGGER = logging.getLogger(__name__)

THROTTLE_STATUSES: Final = frozenset({429, 503})
GATEWAY_STATUSES: Final = frozenset({502, 504, 520, 521, 522, 523, 524})
WRITE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DECODE_IN_THREAD: Final = 256 * 1024  # bytes of JSON decoded in a worker thread
_PERMISSION_RE: Final = re.compile(r"Missing required permission:\s*([A-Za-z0-9_.\-]+)")
_NOT_FOUND_RE: Final = re.compile(r"not found|no access|no .*access|not have access", re.IGNORECASE)
_READS_OVER_POST: Final = frozenset(  # POSTs that do not write
    {"POST /search/metadata", "POST /search/statistics"}
)


@dataclass
class RequestStats:
    """Every request the client sent, for reports and diagnostics."""

    by_endpoint: dict[str, int] = field(default_factory=dict)  # "POST /search/metadata": n
    retries: int = 0
    throttled_seconds: float = 0.0
    writes: int = 0  # requests that change server state

    @property
    def total(self) -> int:
        """All requests sent (retries excluded)."""
        return sum(self.by_endpoint.values())


def normalize_url(url: str) -> tuple[str, str]:
    """User input -> (web_url, api_url); accepts `/api` or not, trailing slashes, http(s).

    Without a scheme, `http://` is assumed (`192.168.1.10:2283`, `immich.local:2283`).
    """
    text = url.strip() if isinstance(url, str) else ""
    if text and "://" not in text:
        text = f"http://{text}"
    try:
        parsed = URL(text)
    except (ValueError, TypeError) as err:
        raise ValueError(f"invalid URL: {text!r}") from err
    host = parsed.host or ""
    if parsed.scheme not in {"http", "https"} or not host or any(c.isspace() for c in host):
        raise ValueError(f"invalid URL (need http(s)://host[:port]): {text!r}")
    try:
        port = parsed.port
    except ValueError as err:
        raise ValueError(f"invalid port in URL: {text!r}") from err
    path = parsed.path.rstrip("/")
    if path.lower().endswith("/api"):
        path = path[:-4].rstrip("/")
    if port is None:
        raise ValueError(f"invalid URL: {text!r}")
    web = f"{str(parsed.origin()).rstrip('/')}{path}"
    return web, f"{web}/api"


def _message(body: Any) -> str:
    """The server's error message (v2 `message` may be a list; v3 has `errors`)."""
    if isinstance(body, Mapping):
        msg = body.get("message")
        if isinstance(msg, list):
            return "; ".join(str(m) for m in msg)[:500]
        if msg is not None:
            return str(msg)[:500]
    return ""


def map_error(status: int, raw: bytes, where: str) -> ImmichError:
    """Non-2xx status -> the client's error (final: after retries where retried)."""
    try:
        body = _loads(raw) if raw else None
    except ValueError:
        body = None
    msg = _message(body) or raw[:200].decode("utf-8", "replace")
    text = f"{where}: HTTP {status}: {msg}"
    if status == 401:  # noqa: PLR2004
        return ImmichAuthError(text)
    if status == 403:  # noqa: PLR2004
        match = _PERMISSION_RE.search(msg)
        return ImmichPermissionError(text, match.group(1) if match else None)
    if status == 404 or (status == 400 and _NOT_FOUND_RE.search(msg)):  # noqa: PLR2004
        return ImmichNotFoundError(text)
    if status == 429 or status == 503:  # noqa: PLR2004, PLR1714
        return ImmichRateLimitedError(text)
    if status >= 500:  # noqa: PLR2004
        return ImmichServerError(text, status)
    return ImmichBadRequestError(text)


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
        timeout: float,
        retry: RetryPolicy | None = None,
        timing: Timing | None = None,
    ) -> None:
        self._session = session
        self._api_url = api_url
        self._headers = {"x-api-key": api_key, "Accept": "application/json"}
        self._limiter = limiter
        self.policy = retry or RetryPolicy()
        self.timing = timing or Timing()
        self._ssl = verify_ssl
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.stats = RequestStats()

    def __repr__(self) -> str:
        return f"Transport({self._api_url!r})"  # never the key

    async def request(
        self,
        method: str,
        template: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        idempotent: bool = True,
    ) -> Any:
        """`METHOD /template` -> parsed JSON; maps errors; retries transient failures.

        A non-idempotent request is retried only on 429 (a proxy refused it unseen): any other
        failure may have reached the server, so the caller decides what to do.
        """
        endpoint = f"{method} {template}"
        self.stats.by_endpoint[endpoint] = self.stats.by_endpoint.get(endpoint, 0) + 1
        if method in WRITE_METHODS and endpoint not in _READS_OVER_POST:
            self.stats.writes += 1
        rel = template.format_map(path or {})
        url = f"{self._api_url}{rel}"
        headers = dict(self._headers)
        data: bytes | None = None
        if body is not None:
            data = _dumps(body)
            headers["Content-Type"] = "application/json"
        policy = self.policy
        attempt = 0
        while True:
            status, raw, retry_after, error = await self._attempt(
                method, url, params, data, headers, endpoint=endpoint
            )
            if error is None and 200 <= status < 300:  # noqa: PLR2004
                if len(raw) > DECODE_IN_THREAD:  # e.g. a search page: keep the loop free
                    return await asyncio.to_thread(self._decode, raw, endpoint)
                return self._decode(raw, endpoint)
            retryable, limit = self._retryable(status, error, policy.max_attempts)
            if not idempotent and status != 429:  # noqa: PLR2004
                retryable = False
            if not retryable or attempt + 1 >= limit:
                if error is not None:
                    raise ImmichConnectionError(
                        f"{endpoint}: cannot reach the server ({type(error).__name__}: {error})"
                    ) from error
                raise map_error(status, raw, endpoint)
            delay = retry_delay(policy, self.timing, attempt, retry_after)
            self.stats.retries += 1
            self.stats.throttled_seconds += delay
            await self.timing.sleep(delay)  # without a limiter slot
            _LOGGER.debug(
                "%s: retry %d after %.2fs (status %s)", endpoint, attempt + 1, delay, status
            )
            attempt += 1

    def _retryable(
        self, status: int, error: Exception | None, max_attempts: int
    ) -> tuple[bool, int]:
        if error is not None or status in THROTTLE_STATUSES or status in GATEWAY_STATUSES:
            return True, max_attempts
        if status == 500:  # noqa: PLR2004
            return True, self.policy.max_attempts_500
        return False, 1

    async def _attempt(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        data: bytes | None,
        headers: dict[str, str],
        *,
        endpoint: str,
    ) -> tuple[int, bytes, str | None, Exception | None]:
        """One attempt inside a limiter slot; the slot is released before any backoff.

        The answer (status, bytes sent and received) goes to the limiter, which learns the
        server's latency from it and halves its limit on 429/503.
        """
        async with self._limiter.slot(endpoint) as permit:
            try:
                async with self._session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=headers,
                    timeout=self._timeout,
                    ssl=self._ssl,
                ) as resp:
                    raw = await resp.read()
                    permit.answered(resp.status, len(raw) + (len(data) if data else 0))
                    return resp.status, raw, resp.headers.get("Retry-After"), None
            except (aiohttp.ClientError, TimeoutError) as err:
                return 0, b"", None, err

    @staticmethod
    def _decode(raw: bytes, endpoint: str) -> Any:
        if not raw.strip():
            return None
        try:
            return _loads(raw)
        except ValueError as err:
            raise ImmichInvalidResponseError(f"{endpoint}: malformed JSON response") from err
