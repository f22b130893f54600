"""Responses captured from real Immich servers parse with the client's parsers.

The captures live outside the repository, in `../shared/reference/real-payloads/` (one JSON
file per source: `responses_by_route` maps "route?query" to {status, body}; `objects` holds
named response objects). The tests skip when that folder is absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from custom_components.immich_autotag.immich import asset_parsing, parsing
from custom_components.immich_autotag.immich.answers import map_error
from custom_components.immich_autotag.immich.errors import (
    ImmichAuthError,
    ImmichError,
    ImmichNotFoundError,
    ImmichPermissionError,
)

FOLDER = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "real-payloads"
CAPTURES = sorted(FOLDER.glob("*.json")) if FOLDER.is_dir() else []

pytestmark = pytest.mark.skipif(
    not CAPTURES, reason=f"no captured payloads in {FOLDER} (the shared folder is absent)"
)


def _captures() -> list[Any]:
    return [pytest.param(path, id=path.stem) for path in CAPTURES]


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _parser(route: str) -> Any:
    """The client's parser for a route's 2xx body (None: a route the client never calls)."""
    path = route.split("?", 1)[0]
    if path == "albums":
        return parsing.parse_albums
    if path.startswith("albums/"):
        return parsing.parse_album
    return {
        "users/me": parsing.parse_user,
        "users": parsing.parse_users,
        "server/version": parsing.parse_server_version,
        "tags": parsing.parse_tags,
        "api-keys/me": parsing.parse_api_key,
        "search/metadata": asset_parsing.parse_search_page,
    }.get(path)


@pytest.mark.parametrize("path", _captures())
def test_every_captured_response_the_client_reads_parses(path: Path) -> None:
    parsed = 0
    for route, response in _load(path)["responses_by_route"].items():
        parser = _parser(route)
        if parser is None or response["status"] >= 300:
            continue
        assert parser(response["body"]) is not None, route
        parsed += 1
    assert parsed >= 4


@pytest.mark.parametrize("path", _captures())
def test_captured_albums_assets_and_user_keep_their_facts(path: Path) -> None:
    capture = _load(path)
    routes = capture["responses_by_route"]
    albums = parsing.parse_albums(routes["albums"]["body"])
    raw_albums = routes["albums"]["body"]
    assert [a.id for a in albums] == [raw["id"] for raw in raw_albums]
    assert [a.asset_count for a in albums] == [raw["assetCount"] for raw in raw_albums]
    assert all(a.owner_id for a in albums)
    shared = [a for a in albums if a.users]
    assert shared, "the capture has a shared album"
    assert all(u.role in {"viewer", "editor"} for a in shared for u in a.users)
    user = parsing.parse_user(routes["users/me"]["body"])
    assert user.id == routes["users/me"]["body"]["id"]
    for name, value in capture["objects"].items():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict) and "originalFileName" in item:
                asset = asset_parsing.parse_asset(item)
                assert asset.id == item["id"], name
                assert asset.file_created_at.tzinfo is not None
                assert asset.visibility in {"timeline", "archive", "hidden", "locked"}


@pytest.mark.parametrize("path", _captures())
def test_captured_errors_map_to_the_clients_errors(path: Path) -> None:
    expected: dict[int, type[ImmichError]] = {
        401: ImmichAuthError,
        403: ImmichPermissionError,
        404: ImmichNotFoundError,
    }
    seen = set()
    for route, response in _load(path)["responses_by_route"].items():
        status = response["status"]
        if status < 400:
            continue
        error = map_error(status, orjson.dumps(response["body"]), f"GET /{route}")
        message = response["body"]["message"]
        if status == 400 and "not found" in str(message).lower():
            assert isinstance(error, ImmichNotFoundError), route
        elif status in expected:
            assert isinstance(error, expected[status]), route
        seen.add(status)
    assert seen >= {401, 403, 404}
