"""HTTP status -> error mapping, retries, Retry-After, connection failures."""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import format_datetime
from unittest.mock import patch

import aiohttp
import pytest

from custom_components.immich_autotag.immich.client import ImmichClient
from custom_components.immich_autotag.immich.errors import (
    ImmichAuthError,
    ImmichBadRequestError,
    ImmichConnectionError,
    ImmichError,
    ImmichInvalidResponseError,
    ImmichNotFoundError,
    ImmichPermissionError,
    ImmichRateLimitedError,
    ImmichServerError,
    ImmichServerUnavailableError,
    ImmichTimeoutError,
)
from custom_components.immich_autotag.immich.limiter import Limiter
from custom_components.immich_autotag.immich.retry import RUN_POLICY, Timing

from . import payloads as p
from .conftest import KEY, FakeTime
from .fake_server import BASE, FakeImmich, FakeResolver

URL = f"{BASE}/users/me"


@pytest.mark.parametrize(
    ("status", "payload", "error"),
    [
        (401, {"message": "Invalid API key"}, ImmichAuthError),
        (
            401,
            {"message": "Authentication required", "error": "Unauthorized", "statusCode": 401},
            ImmichAuthError,
        ),
        (
            404,
            {"message": "Cannot GET /api/users/me", "error": "Not Found", "statusCode": 404},
            ImmichNotFoundError,
        ),
        (400, {"message": "Not found or no asset.read access"}, ImmichNotFoundError),
        (400, {"message": "Tag not found"}, ImmichNotFoundError),
        (
            400,
            {"message": ["Album not found"], "error": "Bad Request", "statusCode": 400},
            ImmichNotFoundError,
        ),
        (
            400,
            {
                "message": "Validation failed",
                "errors": [{"code": "too_big", "path": ["size"], "message": "Too big"}],
            },
            ImmichBadRequestError,
        ),
        (
            400,
            {
                "message": ["size must not be greater than 1000"],
                "error": "Bad Request",
                "statusCode": 400,
            },
            ImmichBadRequestError,
        ),
        (413, {"message": "request entity too large"}, ImmichBadRequestError),
    ],
)
async def test_status_mapping(  # noqa: PLR0917
    client: ImmichClient,
    mock: FakeImmich,
    fake_time: FakeTime,
    status: int,
    payload: object,
    error: type[ImmichError],
) -> None:
    mock.get(URL, status=status, payload=payload)
    with pytest.raises(error):
        await client.get_my_user()
    assert client.stats.retries == 0  # never retried
    assert fake_time.sleeps == []


async def test_permission_parsed(client: ImmichClient, mock: FakeImmich) -> None:
    mock.get(URL, status=403, payload={"message": "Missing required permission: user.read"})
    with pytest.raises(ImmichPermissionError) as info:
        await client.get_my_user()
    assert info.value.permission == "user.read"
    mock.get(URL, status=403, payload={"message": "Forbidden"})
    with pytest.raises(ImmichPermissionError) as info2:
        await client.get_my_user()
    assert info2.value.permission is None


async def test_api_key_never_in_error(client: ImmichClient, mock: FakeImmich) -> None:
    mock.get(URL, status=401, payload={"message": "Invalid API key"})
    with pytest.raises(ImmichAuthError) as info:
        await client.get_my_user()
    assert KEY not in str(info.value)


async def test_throttling_is_waited_out_until_the_time_budget(
    client: ImmichClient, mock: FakeImmich, fake_time: FakeTime
) -> None:
    """429 without Retry-After: backoff waits until 10 minutes of patience are spent."""
    mock.get(URL, status=429, body=b"<html>slow down</html>", repeat=True)
    with pytest.raises(ImmichRateLimitedError, match="kept asking to wait"):
        await client.get_my_user()
    policy = client.retry_policy
    waited = sum(fake_time.sleeps)
    assert policy.throttle_wait_per_request - policy.max_delay < waited
    assert waited <= policy.throttle_wait_per_request
    for n, delay in enumerate(fake_time.sleeps):  # exponential with jitter, capped
        raw = min(policy.max_delay, policy.base * policy.factor**n)
        assert raw * (1 - policy.jitter) <= delay <= raw
    assert client.stats.retries == len(fake_time.sleeps)
    assert client.stats.by_endpoint == {"GET /users/me": 1}  # logical requests
    assert client.stats.throttled_seconds == pytest.approx(waited)
    assert len(mock.requests) == len(fake_time.sleeps) + 1  # no probe: 429 is not an error


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_failing_server_is_ridden_out_then_reported_unavailable(
    client: ImmichClient, mock: FakeImmich, fake_time: FakeTime, status: int
) -> None:
    """Every request fails (the probe too): retried for the outage ride-through, then fatal."""
    mock.get(f"{BASE}/server/version", payload={"major": 3, "minor": 0, "patch": 3})
    mock.get(URL, status=status, body=b"<html>gateway</html>", repeat=True)
    await client.get_server_version()  # the server answered once: later failures are an outage
    with pytest.raises(ImmichServerUnavailableError, match=f"failed every request .*HTTP {status}"):
        await client.get_my_user()
    policy = client.retry_policy
    assert sum(fake_time.sleeps) <= policy.outage_ride_through
    assert sum(fake_time.sleeps) > policy.outage_ride_through - 2 * policy.max_delay
    probes = len(mock.requests) - len(fake_time.sleeps) - 2
    assert probes == 1  # one probe decided "outage", the retries themselves probe after that


async def test_outage_then_recovery(
    client: ImmichClient, mock: FakeImmich, fake_time: FakeTime
) -> None:
    """Eight refusals in a row (a restart) are ridden out; the request then succeeds."""
    mock.get(f"{BASE}/server/version", payload={"major": 3, "minor": 0, "patch": 3})
    await client.get_server_version()
    for _ in range(9):  # 8 attempts + the probe
        mock.get(URL, status=502)
    mock.get(URL, payload=p.admin_user())
    assert (await client.get_my_user()).id == p.OWNER
    assert client.stats.retries == 8


async def test_a_server_that_never_answered_is_not_waited_for(
    client: ImmichClient, mock: FakeImmich, fake_time: FakeTime
) -> None:
    """The first requests fail: a wrong address, not a restart: 5 attempts, no probe."""
    mock.get(URL, status=502, body=b"<html>bad gateway</html>", repeat=True)
    with pytest.raises(ImmichServerError):
        await client.get_my_user()
    attempts = client.retry_policy.error_attempts
    assert len(fake_time.sleeps) == attempts - 1
    assert len(mock.requests) == attempts


async def test_a_request_of_its_own_failing_is_given_up_after_its_attempts(
    client: ImmichClient, mock: FakeImmich, fake_time: FakeTime
) -> None:
    """Only `GET /tags` fails; the probe answers, so the server is up: 5 attempts, no ride."""
    mock.get(URL, payload=p.admin_user())
    await client.get_my_user()
    mock.get(f"{BASE}/tags", status=500, payload={"message": "Internal server error"}, repeat=True)
    mock.get(URL, payload=p.admin_user())
    with pytest.raises(ImmichServerError) as info:
        await client.list_tags()
    assert info.value.status == 500
    attempts = client.retry_policy.error_attempts
    assert len(fake_time.sleeps) == attempts - 1
    assert [r.path for r in mock.requests][1:] == ["/tags"] * attempts + ["/users/me"]


async def test_throttling_does_not_use_up_the_error_attempts(
    client: ImmichClient, mock: FakeImmich, fake_time: FakeTime
) -> None:
    """429s between 500s: the 500s have their own budget (issue: a 500 after 429s was final)."""
    tags = f"{BASE}/tags"
    for _ in range(3):
        mock.get(tags, status=429, headers={"Retry-After": "1"})
        mock.get(tags, status=500, payload={"message": "Internal server error"})
    mock.get(tags, payload=[])
    assert await client.list_tags() == []
    assert client.stats.retries == 6
    assert [r.path for r in mock.requests] == ["/tags"] * 7  # no probe needed


async def test_transient_then_success(
    client: ImmichClient, mock: FakeImmich, fake_time: FakeTime
) -> None:
    mock.get(URL, status=502)
    mock.get(URL, status=500, payload={"message": "Internal server error"})
    mock.get(URL, payload=p.admin_user())
    user = await client.get_my_user()
    assert user.id == p.OWNER
    assert client.stats.retries == 2
    assert len(fake_time.sleeps) == 2


async def test_retry_after_seconds(
    client: ImmichClient, mock: FakeImmich, fake_time: FakeTime
) -> None:
    mock.get(URL, status=429, headers={"Retry-After": "7"})
    mock.get(URL, payload=p.admin_user())
    await client.get_my_user()
    assert fake_time.sleeps == [7.0]
    assert client.stats.throttled_seconds == 7.0


async def test_retry_after_http_date(
    client: ImmichClient, mock: FakeImmich, fake_time: FakeTime
) -> None:
    when = datetime.fromtimestamp(fake_time.wall + 12, tz=UTC)
    mock.get(URL, status=503, headers={"Retry-After": format_datetime(when, usegmt=True)})
    mock.get(URL, payload=p.admin_user())
    await client.get_my_user()
    assert fake_time.sleeps == [pytest.approx(12.0, abs=1.0)]


async def test_retry_after_clamped_and_past(
    client: ImmichClient, mock: FakeImmich, fake_time: FakeTime
) -> None:
    mock.get(URL, status=429, headers={"Retry-After": "3600"})
    past = datetime.fromtimestamp(fake_time.wall - 100, tz=UTC)
    mock.get(URL, status=429, headers={"Retry-After": format_datetime(past, usegmt=True)})
    mock.get(URL, status=429, headers={"Retry-After": "soon"})  # unparsable -> backoff
    mock.get(URL, payload=p.admin_user())
    await client.get_my_user()
    assert fake_time.sleeps[0] == client.retry_policy.max_retry_after
    assert fake_time.sleeps[1] == 0.0
    assert 0 < fake_time.sleeps[2] <= client.retry_policy.base * 4


def _closed_port() -> int:
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("disconnect", ImmichConnectionError),
        ("stall", ImmichTimeoutError),
        ("refused", ImmichConnectionError),
    ],
)
async def test_connection_errors(  # noqa: PLR0917
    mock: FakeImmich,
    limiter: Limiter,
    timing: Timing,
    fake_time: FakeTime,
    fault: str,
    error: type[ImmichError],
) -> None:
    """A dropped connection, no answer within the timeout, a refused connection: retried.

    The server never answered, so it is not an outage to ride out: 5 attempts, then stop.
    """
    if fault == "refused":
        resolver = FakeResolver("127.0.0.1", _closed_port())
    else:
        mock.get(URL, drop=fault == "disconnect", stall=30 if fault == "stall" else 0, repeat=True)
        assert mock.resolver is not None
        resolver = mock.resolver
    policy = replace(RUN_POLICY, answer_timeout=0.2)
    connector = aiohttp.TCPConnector(resolver=resolver)
    async with aiohttp.ClientSession(connector=connector) as session:
        client = ImmichClient(session, BASE, KEY, limiter=limiter, timing=timing, retry=policy)
        with pytest.raises(error) as info:
            await client.get_my_user()
    assert isinstance(info.value, ImmichConnectionError)  # it stops a run
    attempts = policy.error_attempts
    assert len(fake_time.sleeps) == attempts - 1
    if fault == "refused":
        assert mock.requests == []
    else:  # aiohttp itself resends an idempotent request once when a connection drops
        assert len(mock.requests) >= attempts


async def test_connection_error_then_success(client: ImmichClient, mock: FakeImmich) -> None:
    mock.get(URL, drop=True)  # twice: aiohttp itself resends once after a dropped connection
    mock.get(URL, drop=True)
    mock.get(URL, payload=p.admin_user())
    assert (await client.get_my_user()).email == "me@example.com"
    assert client.stats.retries >= 1


async def test_timeout_ssl_and_no_redirects_passed(
    session: aiohttp.ClientSession, mock: FakeImmich
) -> None:
    policy = replace(RUN_POLICY, answer_timeout=20, answer_timeout_per_item=0.01)
    client = ImmichClient(session, BASE, KEY, verify_ssl=False, retry=policy)
    mock.get(URL, payload=p.admin_user())
    mock.get(f"{BASE}/tags", payload=[])
    with patch.object(session, "request", wraps=session.request) as spy:
        await client.get_my_user()
        await client.list_tags()  # a listing: timed like a page of 1,000
    small, listing = (call.kwargs for call in spy.call_args_list)
    assert small["ssl"] is False
    assert small["allow_redirects"] is False
    assert small["timeout"].total == 20
    assert small["timeout"].sock_connect == policy.connect_timeout
    assert listing["timeout"].total == 20 + 0.01 * 1000


async def test_empty_body_where_json_expected(client: ImmichClient, mock: FakeImmich) -> None:
    mock.get(URL, body=b"")
    with pytest.raises(ImmichInvalidResponseError):
        await client.get_my_user()


async def test_shared_limiter(
    session: aiohttp.ClientSession, mock: FakeImmich, limiter: Limiter, timing: Timing
) -> None:
    a = ImmichClient(session, BASE, KEY, limiter=limiter, timing=timing)
    b = ImmichClient(session, BASE, "other-key", limiter=limiter, timing=timing)
    mock.get(URL, status=429)
    mock.get(URL, payload=p.admin_user(), repeat=True)
    await a.get_my_user()
    await b.get_my_user()
    assert a.stats.retries == 1
    assert b.stats.retries == 0
    assert limiter.concurrency == 2  # halved once by the 429
