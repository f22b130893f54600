"""Read back what the client sent through aioresponses."""

from __future__ import annotations

from typing import Any

import orjson
from aioresponses import CallbackResult, aioresponses
from yarl import URL

from .conftest import BASE


def json_result(payload: Any, status: int = 200) -> CallbackResult:
    """A callback answer with any JSON payload (lists too)."""
    return CallbackResult(
        status=status, body=orjson.dumps(payload), content_type="application/json"
    )


def sent(mock: aioresponses) -> list[tuple[str, str, dict[str, str], Any]]:
    """Every request as (method, path relative to /api, query, JSON body).

    Ordered per (method, URL) as aioresponses records them, not globally.
    """
    out: list[tuple[str, str, dict[str, str], Any]] = []
    for (method, url), calls in mock.requests.items():
        path = url.path.removeprefix(URL(BASE).path)
        for call in calls:
            data = call.kwargs.get("data")
            body = orjson.loads(data) if data else None
            query = dict(url.query)
            query.update({k: str(v) for k, v in (call.kwargs.get("params") or {}).items()})
            out.append((method, path, query, body))
    return out


def bodies_for(mock: aioresponses, method: str, path: str) -> list[Any]:
    """JSON bodies sent to one method + path (any query), in send order."""
    return [b for m, pth, _, b in sent(mock) if m == method and pth == path]
