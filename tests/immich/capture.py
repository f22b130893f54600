"""Read back what the client sent to the scripted server."""

from __future__ import annotations

from typing import Any

from .fake_server import FakeImmich


def sent(mock: FakeImmich) -> list[tuple[str, str, dict[str, str], Any]]:
    """Every answered request as (method, path relative to /api, query, JSON body), in order."""
    return [(r.method, r.path, r.query, r.body) for r in mock.requests]


def bodies_for(mock: FakeImmich, method: str, path: str) -> list[Any]:
    """JSON bodies sent to one method + path (any query), in send order."""
    return [b for m, pth, _, b in sent(mock) if m == method and pth == path]
