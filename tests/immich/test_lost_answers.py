"""Writes whose answer is lost: never applied twice, and "already done" answers are done.

The class: every write the client sends is either idempotent (sent again freely) or, for
`POST /albums`, checked on the server before every resend; a retry answered "already done"
(`Album not shared with user`, `User already added`) has reached its goal.
"""

from __future__ import annotations

import pytest

from custom_components.immich_autotag.immich.client import ImmichClient
from custom_components.immich_autotag.immich.errors import (
    ImmichBadRequestError,
    ImmichConnectionError,
)

from . import payloads as p
from .capture import sent
from .fake_server import BASE, FakeImmich

NEW = "a1b00000-0000-4000-8000-0000000000ff"


async def test_a_second_lost_create_answer_adopts_the_album(
    client: ImmichClient, mock: FakeImmich
) -> None:
    """First send dropped unseen, the resend applied but its answer lost: one album."""
    mock.post(f"{BASE}/albums", drop=True)  # never reached the server
    mock.get(f"{BASE}/users/me", payload=p.admin_user())
    mock.get(f"{BASE}/albums", payload=[p.album_v3()])  # not there yet: send again
    mock.post(f"{BASE}/albums", drop=True)  # applied, but the answer is lost
    mock.get(f"{BASE}/albums", payload=[p.album_v3(), p.album_v3(NEW, "New", members=False)])
    mock.put(f"{BASE}/albums/{NEW}/assets", payload=p.bulk([p.aid(1)]))
    album = await client.create_album("New", [p.aid(1)], known_ids={p.ALBUM})
    assert album.id == NEW
    assert [(m, path) for m, path, _, _ in sent(mock)] == [
        ("POST", "/albums"),
        ("GET", "/users/me"),
        ("GET", "/albums"),
        ("POST", "/albums"),
        ("GET", "/albums"),
        ("PUT", f"/albums/{NEW}/assets"),  # the adopted album gets what the body carried
    ]


async def test_an_album_create_that_never_lands_gives_up(
    client: ImmichClient, mock: FakeImmich
) -> None:
    mock.post(f"{BASE}/albums", drop=True, repeat=True)
    mock.get(f"{BASE}/users/me", payload=p.admin_user())
    mock.get(f"{BASE}/albums", payload=[], repeat=True)
    with pytest.raises(ImmichConnectionError):
        await client.create_album("New")
    posts = [m for m, path, _, _ in sent(mock) if (m, path) == ("POST", "/albums")]
    assert len(posts) == client.retry_policy.error_attempts


async def test_removing_a_member_that_is_gone_is_done(
    client: ImmichClient, mock: FakeImmich
) -> None:
    url = f"{BASE}/albums/{p.ALBUM}/user/{p.FRIEND}"
    mock.delete(url, status=400, payload={"message": "Album not shared with user"})
    await client.remove_album_user(p.ALBUM, p.FRIEND)
    mock.delete(url, status=400, payload={"message": "Cannot remove album owner"})
    with pytest.raises(ImmichBadRequestError):
        await client.remove_album_user(p.ALBUM, p.FRIEND)


async def test_adding_a_member_twice_is_done(client: ImmichClient, mock: FakeImmich) -> None:
    url = f"{BASE}/albums/{p.ALBUM}/users"
    mock.put(url, status=400, payload={"message": "User already added"})
    await client.add_album_users(p.ALBUM, [(p.FRIEND, "viewer")])
    mock.put(url, status=400, payload={"message": "Invalid user"})
    with pytest.raises(ImmichBadRequestError):
        await client.add_album_users(p.ALBUM, [(p.FRIEND, "viewer")])
