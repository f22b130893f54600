"""URL normalisation, connect(), version modes, server/user calls."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from custom_components.immich_autotag.immich.client import ImmichClient
from custom_components.immich_autotag.immich.errors import (
    ImmichInvalidResponseError,
    ImmichUnsupportedVersionError,
)
from custom_components.immich_autotag.immich.limiter import Limiter
from custom_components.immich_autotag.immich.models import ApiMode, ServerVersion, VersionSupport

from . import payloads as p
from .conftest import KEY
from .fake_server import BASE, FakeImmich, Reply, Sent, json_reply


@pytest.mark.parametrize(
    ("raw", "web", "api"),
    [
        ("http://immich.local:2283", "http://immich.local:2283", "http://immich.local:2283/api"),
        ("http://immich.local:2283/", "http://immich.local:2283", "http://immich.local:2283/api"),
        (
            "http://immich.local:2283/api",
            "http://immich.local:2283",
            "http://immich.local:2283/api",
        ),
        (
            "http://immich.local:2283/api//",
            "http://immich.local:2283",
            "http://immich.local:2283/api",
        ),
        (
            "https://photos.example.com",
            "https://photos.example.com",
            "https://photos.example.com/api",
        ),
        (
            " https://photos.example.com/API/ ",
            "https://photos.example.com",
            "https://photos.example.com/api",
        ),
        (
            "https://example.com/immich/",
            "https://example.com/immich",
            "https://example.com/immich/api",
        ),
        (
            "https://example.com/immich/api",
            "https://example.com/immich",
            "https://example.com/immich/api",
        ),
        ("http://192.168.1.5:2283/api/", "http://192.168.1.5:2283", "http://192.168.1.5:2283/api"),
        (
            "immich.local:2283",
            "http://immich.local:2283",
            "http://immich.local:2283/api",
        ),  # no scheme
        (
            " https://example.com/immich/api?x=1#f ",
            "https://example.com/immich",
            "https://example.com/immich/api",
        ),
    ],
)
async def test_url_normalisation(
    session: aiohttp.ClientSession, raw: str, web: str, api: str
) -> None:
    client = ImmichClient(session, raw, KEY)
    assert client.web_url == web
    assert client.api_url == api


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "ftp://host",
        "http://",
        "not a url",
        "http://host:99999",
        "::",
        "http://[x",
        "http://me:hunter2@immich.local:2283",
        "https://me@immich.local",
    ],
)
async def test_invalid_url(session: aiohttp.ClientSession, raw: str) -> None:
    with pytest.raises(ValueError):
        ImmichClient(session, raw, KEY)


async def test_key_not_in_repr(session: aiohttp.ClientSession) -> None:
    client = ImmichClient(session, BASE, KEY)
    assert KEY not in repr(client)
    assert KEY not in repr(client._http)


async def test_connect(
    client: ImmichClient, mock: FakeImmich, session: aiohttp.ClientSession, limiter: Limiter
) -> None:
    fresh = ImmichClient(session, BASE, KEY, limiter=limiter)
    with pytest.raises(RuntimeError):
        _ = fresh.mode
    mock.get(f"{BASE}/server/version", payload=p.version(3, 2, 2))
    mock.get(f"{BASE}/users/me", payload=p.admin_user())
    mock.get(f"{BASE}/api-keys/me", payload=p.api_key(["user.read", "asset.read"]))
    info = await fresh.connect()
    assert info.version == ServerVersion(3, 2, 2)
    assert fresh.mode is ApiMode.V3_2
    assert info.user.id == p.OWNER
    assert info.user.email == "me@example.com"
    assert info.api_key.permissions == frozenset({"user.read", "asset.read"})
    assert "tag.read" in info.api_key.missing(frozenset({"tag.read", "user.read"}))
    # sent with the api key header
    call = next(r for r in mock.requests if r.path == "/users/me")
    assert call.headers["x-api-key"] == KEY
    # the version is read at every connect: an upgraded server gets its calls
    mock.get(f"{BASE}/server/version", payload=p.version(3, 0, 3))
    mock.get(f"{BASE}/users/me", payload=p.admin_user())
    mock.get(f"{BASE}/api-keys/me", payload=p.api_key())
    assert (await fresh.connect()).version == ServerVersion(3, 0, 3)
    assert fresh.version == ServerVersion(3, 0, 3)
    assert fresh.server is not None
    assert fresh.server.version == ServerVersion(3, 0, 3)
    assert fresh.stats.by_endpoint["GET /server/version"] == 2
    assert fresh.stats.by_endpoint["GET /users/me"] == 2
    assert fresh.stats.writes == 0


@pytest.mark.parametrize(
    ("ver", "mode", "support"),
    [
        ((2, 0, 0), ApiMode.V2, VersionSupport.TESTED),
        ((2, 7, 5), ApiMode.V2, VersionSupport.TESTED),
        ((2, 9, 0), ApiMode.V2, VersionSupport.NEWER),
        ((3, 0, 3), ApiMode.V3_0, VersionSupport.TESTED),
        ((3, 1, 0), ApiMode.V3_0, VersionSupport.TESTED),
        ((3, 2, 2), ApiMode.V3_2, VersionSupport.TESTED),
        ((3, 3, 0), ApiMode.V3_2, VersionSupport.NEWER),
        ((3, 9, 0), ApiMode.V3_2, VersionSupport.NEWER),
    ],
)
async def test_version_modes(
    session: aiohttp.ClientSession,
    mock: FakeImmich,
    ver: tuple[int, int, int],
    mode: ApiMode,
    support: VersionSupport,
) -> None:
    """Known majors run; a newer minor takes its major's newest calls."""
    assert ServerVersion(*ver).support is support
    client = ImmichClient(session, BASE, KEY)
    mock.get(f"{BASE}/server/version", payload=p.version(*ver))
    mock.get(f"{BASE}/users/me", payload=p.admin_user())
    mock.get(f"{BASE}/api-keys/me", payload=p.api_key())
    await client.connect()
    assert client.mode is mode


async def test_connect_asks_for_version_user_and_key_at_once(
    session: aiohttp.ClientSession, mock: FakeImmich
) -> None:
    """The version is answered only once the user and key reads have arrived too."""
    others_arrived = asyncio.Event()

    def arrived(sent: Sent) -> Reply:
        if {r.path for r in mock.requests} >= {"/users/me", "/api-keys/me"}:
            others_arrived.set()
        return json_reply(p.admin_user() if sent.path == "/users/me" else p.api_key())

    async def version(_sent: Sent) -> Reply:
        # A client that waits for this answer before the next read never gets here in time.
        await asyncio.wait_for(others_arrived.wait(), timeout=5)
        return json_reply(p.version(3, 2, 2))

    mock.get(f"{BASE}/server/version", callback=version)
    mock.get(f"{BASE}/users/me", callback=arrived)
    mock.get(f"{BASE}/api-keys/me", callback=arrived)
    info = await ImmichClient(session, BASE, KEY).connect()
    assert info.version == ServerVersion(3, 2, 2)
    assert info.user.id == p.OWNER


@pytest.mark.parametrize("ver", [(1, 132, 0), (1, 999, 0), (4, 0, 0), (5, 1, 0)])
async def test_unsupported_version(
    session: aiohttp.ClientSession, mock: FakeImmich, ver: tuple[int, int, int]
) -> None:
    client = ImmichClient(session, BASE, KEY)
    mock.get(f"{BASE}/server/version", payload=p.version(*ver))
    # The user and key are asked for at once with the version; the version's error wins,
    # even over a key the server refuses.
    mock.get(f"{BASE}/users/me", status=401, payload={"message": "Invalid API key"})
    mock.get(f"{BASE}/api-keys/me", status=401, payload={"message": "Invalid API key"})
    with pytest.raises(ImmichUnsupportedVersionError) as info:
        await client.connect()
    assert info.value.version == f"v{ver[0]}.{ver[1]}.{ver[2]}"
    assert "supported: v2.x and v3.x" in str(info.value)
    with pytest.raises(ImmichUnsupportedVersionError):
        client.set_version(ServerVersion(*ver))


async def test_list_users(client: ImmichClient, mock: FakeImmich) -> None:
    mock.get(f"{BASE}/users", payload=[p.user(), p.user(p.FRIEND, "friend@example.com", "Friend")])
    users = await client.list_users()
    assert [u.email for u in users] == ["me@example.com", "friend@example.com"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/server/version", b'{"major": 3, "minor": '),
        ("/server/version", b'{"major": "3", "minor": 0, "patch": 1}'),
        ("/server/version", b'{"major": 3, "minor": 0}'),
        ("/server/version", b"[]"),
        ("/users/me", b'{"id": 5, "email": "a", "name": "b"}'),
        ("/users/me", b"<html>proxy error</html>"),
        ("/api-keys/me", b'{"id": "k", "name": "n", "permissions": "all"}'),
        ("/api-keys/me", b'{"id": "k", "name": "n", "permissions": [1]}'),
    ],
)
async def test_malformed_identity(
    client: ImmichClient, mock: FakeImmich, path: str, body: bytes
) -> None:
    mock.get(f"{BASE}{path}", body=body, content_type="application/json")
    call = {
        "/server/version": client.get_server_version,
        "/users/me": client.get_my_user,
        "/api-keys/me": client.get_my_api_key,
    }[path]
    with pytest.raises(ImmichInvalidResponseError):
        await call()
