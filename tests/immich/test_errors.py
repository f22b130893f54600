"""HTTP status -> error mapping, retries, Retry-After, connection failures."""

from __future__ import annotations

import socket
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
)
from custom_components.immich_autotag.immich.limiter import Limiter
from custom_components.immich_autotag.immich.retry import Timing

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


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (429, ImmichRateLimitedError),
        (503, ImmichRateLimitedError),
        (502, ImmichServerError),
        (504, ImmichServerError),
    ],
)
async def test_retried_then_raised(
    client: ImmichClient,
    mock: FakeImmich,
    fake_time: FakeTime,
    status: int,
    error: type[ImmichError],
) -> None:
    mock.get(URL, status=status, body=b"<html>gateway</html>", repeat=True)
    with pytest.raises(error):
        await client.get_my_user()
    policy = client.retry_policy
    assert client.stats.retries == policy.max_attempts - 1
    assert len(fake_time.sleeps) == policy.max_attempts - 1
    # exponential growth with jitter within [raw*(1-jitter), raw]
    for n, delay in enumerate(fake_time.sleeps):
        raw = min(policy.max_delay, policy.base * policy.factor**n)
        assert raw * (1 - policy.jitter) <= delay <= raw
    assert client.stats.by_endpoint["GET /users/me"] == 1  # logical requests, retries apart
    assert client.stats.throttled_seconds == pytest.approx(sum(fake_time.sleeps))


async def test_server_error_500_retried_fewer_times(
    client: ImmichClient, mock: FakeImmich, fake_time: FakeTime
) -> None:
    mock.get(URL, status=500, payload={"message": "Internal server error"}, repeat=True)
    with pytest.raises(ImmichServerError) as info:
        await client.get_my_user()
    assert info.value.status == 500
    assert len(fake_time.sleeps) == client.retry_policy.max_attempts_500 - 1


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


@pytest.mark.parametrize("fault", ["disconnect", "stall", "refused"])
async def test_connection_errors(
    mock: FakeImmich, limiter: Limiter, timing: Timing, fake_time: FakeTime, fault: str
) -> None:
    """A dropped connection, no answer within the timeout, a refused connection: retried."""
    if fault == "refused":
        resolver = FakeResolver("127.0.0.1", _closed_port())
    else:
        mock.get(URL, drop=fault == "disconnect", stall=30 if fault == "stall" else 0, repeat=True)
        assert mock.resolver is not None
        resolver = mock.resolver
    connector = aiohttp.TCPConnector(resolver=resolver)
    async with aiohttp.ClientSession(connector=connector) as session:
        client = ImmichClient(session, BASE, KEY, limiter=limiter, timing=timing, timeout=0.2)
        with pytest.raises(ImmichConnectionError):
            await client.get_my_user()
    attempts = client.retry_policy.max_attempts
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


async def test_timeout_and_ssl_passed(session: aiohttp.ClientSession, mock: FakeImmich) -> None:
    client = ImmichClient(session, BASE, KEY, verify_ssl=False, timeout=5)
    mock.get(URL, payload=p.admin_user())
    with patch.object(session, "request", wraps=session.request) as spy:
        await client.get_my_user()
    call = spy.call_args
    assert call.kwargs["ssl"] is False
    assert call.kwargs["timeout"].total == 5


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
