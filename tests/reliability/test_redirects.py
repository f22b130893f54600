"""Redirects are never followed: the API key only ever goes to the configured origin.

A server, proxy, captive portal or typo'd URL answering 30x gets a clear error naming the
target ("the server redirects to …; use that URL"); the other origin never sees a request,
let alone the key. Same-origin redirects are reported the same way (not followed): the
configured URL is wrong either way, and following would resend every request twice.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
from aiohttp import web

from custom_components.immich_autotag.engine.report import ErrorKind, RunStatus
from custom_components.immich_autotag.immich.client import ImmichClient
from custom_components.immich_autotag.immich.errors import ImmichRedirectError
from custom_components.immich_autotag.immich.session import new_session
from tests.e2e.command import headless
from tests.sim.server import Handler, Simulator

from .common import build_library, rules, run_sim
from .origins import Origin, redirect_to, serve, version_answer

KEY_MARK = "the-secret-key-0123456789"


def _each_connect_read_at_most_once(server: Origin) -> None:
    """The version read, and at most the user and key reads sent beside it: none sent twice."""
    paths = [seen.path for seen in server.seen]
    assert "/api/server/version" in paths
    assert sorted(set(paths)) == sorted(paths)
    assert set(paths) <= {"/api/server/version", "/api/users/me", "/api/api-keys/me"}


def _redirector(target: str, status: int) -> AbstractAsyncContextManager[Origin]:
    """A server (at `localhost`) redirecting every request to `target`."""
    return serve(redirect_to(target, status))


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_cross_origin_redirect_never_receives_the_key(status: int) -> None:
    async with (
        serve(version_answer, url_host="127.0.0.1") as other,
        _redirector(other.url + "{path}", status) as server,
        new_session() as session,
    ):
        client = ImmichClient(session, server.url, KEY_MARK)
        with pytest.raises(ImmichRedirectError) as info:
            await client.connect()
    assert other.seen == []  # not a single request, so never the key
    _each_connect_read_at_most_once(server)  # reported, not retried
    assert info.value.suggested_url == other.url
    assert str(info.value) == (
        f"GET /server/version: the server redirects to {other.url}; use that URL"
    )
    assert KEY_MARK not in str(info.value)


async def test_a_redirect_mid_run_stops_the_run_and_sends_nothing_elsewhere() -> None:
    """Only the searches redirect (a proxy rule): the run fails with the target named."""
    async with serve(version_answer, url_host="127.0.0.1") as other:
        built = build_library(40, 3)
        sim = Simulator(built.lib)

        @web.middleware
        async def proxy_rule(request: web.Request, handler: Handler) -> web.StreamResponse:
            if request.get("route") == "POST /search/metadata":
                return web.Response(status=307, headers={"Location": other.url + request.path})
            return await handler(request)

        sim.app.middlewares.append(proxy_rule)
        async with sim.serve() as url:
            report, writes = await run_sim(sim, url, built.key, rules())
    assert other.seen == []
    assert report.status is RunStatus.FAILED
    assert report.error_kind is ErrorKind.CONNECTION
    assert report.error_message == (
        f"POST /search/metadata: the server redirects to {other.url}; use that URL"
    )
    assert writes == 0


async def test_a_same_origin_redirect_is_reported_with_the_url_to_use() -> None:
    """Immich behind a path prefix: `/api/...` moves to `/immich/api/...` on the same host."""

    async def answer(request: web.Request, _server: Origin) -> web.StreamResponse:
        return web.Response(status=308, headers={"Location": f"/immich{request.path_qs}"})

    async with serve(answer) as server, new_session() as session:
        client = ImmichClient(session, server.url, KEY_MARK)
        with pytest.raises(ImmichRedirectError) as info:
            await client.connect()
    _each_connect_read_at_most_once(server)  # not followed
    assert info.value.suggested_url == f"{server.url}/immich"
    assert str(info.value).endswith(f"redirects to {server.url}/immich; use that URL")


async def test_a_captive_portal_is_named_as_not_the_api() -> None:
    async with (
        serve(version_answer, url_host="127.0.0.1") as portal,
        _redirector(portal.url + "/login?next=x", 302) as server,
        new_session() as session,
    ):
        client = ImmichClient(session, server.url, KEY_MARK)
        with pytest.raises(ImmichRedirectError) as info:
            await client.connect()
    assert portal.seen == []
    assert info.value.suggested_url is None
    assert str(info.value) == (
        f"GET /server/version: the server redirects to {portal.url}/login"
        " (not this Immich API); check the server URL"
    )


async def test_headless_runner_names_the_target_and_exits_4(tmp_path: Path) -> None:
    async with (
        serve(version_answer, url_host="127.0.0.1") as other,
        _redirector(other.url.replace("http:", "https:") + "{path}", 301) as server,
    ):
        code, out, err = await headless("--url", server.url, "--api-key", KEY_MARK, home=tmp_path)
    https = other.url.replace("http:", "https:")
    assert code == 4
    assert f"the server redirects to {https}; use that URL" in out
    assert other.seen == []
    assert KEY_MARK not in out + err
