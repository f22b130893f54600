"""One run: snapshot -> plan -> (dry run stops) -> apply -> report.

CONTRACT for callers (HA run manager, headless runner): `run()` never raises for server or
input problems — it returns a RunReport with status FAILED and `error_kind` set (AUTH means
the key was rejected: HA starts reauth). It raises `asyncio.CancelledError` only when its task
is cancelled; a `CancelToken` gives a CANCELLED report instead.
"""

from __future__ import annotations

from collections.abc import Collection

from ..immich.client import ImmichClient
from .album_cache import AlbumCache
from .progress import CancelToken, ProgressCallback
from .report import RunReport
from .rules import Rules


async def run(
    client: ImmichClient,
    rules: Rules,
    *,
    dry_run: bool = False,
    asset_ids: Collection[str] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    album_cache: AlbumCache | None = None,
) -> RunReport:
    """Run the rules once against the server behind `client`."""
    raise NotImplementedError
