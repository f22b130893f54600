"""Verify, on the server, the tag changes Immich's metadata jobs could have undone.

After a date write Immich writes an XMP sidecar with the asset's tags of that moment and
re-extracts the asset's metadata about half a second later (measured on a real v3.1 server),
resetting its tags to the sidecar's. The apply step writes every tag before any date, so
nothing should be lost; this step makes sure:

1. settle: wait until every re-dated asset's `fileCreatedAt` shows the written instant (its
   re-extraction is done, so it cannot reset tags the next run writes). One paged search of
   the assets updated since the snapshot per poll, never a request per asset; bounded by
   `VerifyPolicy.settle_timeout`, with a warning when Immich lags.
2. re-read: one paged search per tag the run added to or removed from re-dated assets, of
   the assets updated since the snapshot (so about the re-dated ones, not the tag's all).
3. repair: re-send what the server lost, then re-read again (at most `VerifyPolicy.rounds`
   re-reads). Repairs are counted in `RunReport.repaired_after_reread`; what is still wrong
   after the last re-read is reported as failed, so the report claims what the server shows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, TypeAlias

from ..immich.client_base import chunks
from ..immich.errors import ImmichAuthError, ImmichConnectionError, ImmichError
from ..immich.search import CHUNK_SIZE

if TYPE_CHECKING:
    from .apply import Applier
    from .progress import CancelToken

_LOGGER = logging.getLogger(__name__)
POSITIONS_IN_THREAD = 5000  # re-read tags with more assets are matched in a worker thread

Checks: TypeAlias = dict[str, tuple[set[int], set[int]]]  # path -> (must carry, must not)


@dataclass(frozen=True, slots=True)
class VerifyPolicy:
    """Bounds of the verification after apply."""

    settle_timeout: float = 60.0  # seconds to wait for Immich's metadata jobs
    first_poll: float = 0.6  # seconds before the first look (Immich: ~0.5 s); doubles
    max_poll: float = 2.0
    rounds: int = 3  # re-reads of the tags (each but the last may be followed by a repair)


def whole_seconds(value: datetime) -> datetime:
    """UTC instant truncated to the second."""
    return value.astimezone(UTC).replace(microsecond=0)


def _positions(index: dict[str, int], ids: list[str]) -> set[int]:
    """The library positions of the `ids` it knows."""
    return {index[i] for i in ids if i in index}


def _bound(newest_update: str) -> datetime | None:
    """The first instant after the snapshot's newest `updatedAt` (None: unknown).

    Every write of the run is later on the server's clock; the assets the snapshot read are not.
    """
    try:
        newest = datetime.fromisoformat(newest_update) if newest_update else None
    except ValueError:
        return None
    return newest + timedelta(milliseconds=1) if newest is not None else None


class Verifier:
    """The verification of one apply step."""

    def __init__(self, applier: Applier, policy: VerifyPolicy, cancel: CancelToken) -> None:
        self.applier = applier
        self.policy = policy
        self.cancel = cancel
        # Reads ask only for assets updated after the snapshot (each re-dated asset is); None
        # once a re-dated asset was not among them (a clock oddity): whole reads from then on.
        self.bound = _bound(applier.lib.newest_update)

    async def run(self) -> None:
        """Settle, re-read, repair (see the module docstring)."""
        if not self.applier.dated:
            return
        # Every re-dated asset, not only those whose tags changed: a run must not end while
        # its own re-extractions are pending, or they reset the tags the next run writes.
        unsettled = await self._settle(set(self.applier.dated))
        if unsettled:
            self._warn_unsettled(unsettled)
        checks = self._checks()
        if not checks:
            return
        resent: set[tuple[str, int]] = set()
        wrong: Checks = {}
        for round_ in range(self.policy.rounds):
            wrong = await self._reread(checks)
            if not wrong or round_ == self.policy.rounds - 1:
                break
            resent.update(await self._repair(wrong))
        still = {(p, a) for p, (have, lacks) in wrong.items() for a in have | lacks}
        self.applier.report.repaired_after_reread += len(resent - still)
        self._give_up(wrong)

    def _checks(self) -> Checks:
        """What the server must show for re-dated assets whose tags the run changed."""
        applier = self.applier
        dated = applier.dated.keys()
        checks: Checks = {}
        for path, assets in applier.tags_added.items():
            if have := assets & dated:
                checks[path] = (set(have), set())
        for path, assets in applier.tags_removed.items():
            lacks = set(assets & dated)
            for other, added in applier.tags_added.items():  # re-carried through a child
                if other == path or other.startswith(path + "/"):
                    lacks -= added
            if lacks:
                checks.setdefault(path, (set(), set()))[1].update(lacks)
        return checks

    async def _settle(self, assets: set[int]) -> set[int]:
        """Wait until `fileCreatedAt` of `assets` shows the written instants; the late ones."""
        lib, dated = self.applier.lib, self.applier.dated
        waiting = {lib.assets.ids[a]: whole_seconds(dated[a]) for a in assets}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.policy.settle_timeout
        delay = self.policy.first_poll
        while waiting:
            await asyncio.sleep(max(0.0, min(delay, deadline - loop.time())))
            self.cancel.check()
            seen = await self._poll(waiting, self.bound)
            if waiting.keys() - seen and self.bound is not None:
                self.bound = None  # not in the updated-since window: read all from now on
                seen |= await self._poll(waiting, None)
            for gone in waiting.keys() - seen:  # trashed or deleted meanwhile: nothing to check
                del waiting[gone]
            if loop.time() >= deadline:
                break
            delay = min(delay * 2, self.policy.max_poll)
        return {lib.index[i] for i in waiting}

    async def _poll(self, waiting: dict[str, datetime], bound: datetime | None) -> set[str]:
        """One paged read; drops settled assets from `waiting`; returns the ids seen."""
        seen: set[str] = set()
        expected = len(waiting) if bound is not None else None  # the re-dated, about
        async for page in self.applier.client.iter_assets_updated_since(bound, expected=expected):
            for asset in page:
                want = waiting.get(asset.id)
                if want is None:
                    continue
                seen.add(asset.id)
                if whole_seconds(asset.file_created_at) == want:
                    del waiting[asset.id]
        return seen

    def _warn_unsettled(self, unsettled: set[int]) -> None:
        report = self.applier.report
        first = self.applier.lib.assets.ids[min(unsettled)]
        report.warnings.append(
            {
                "kind": "metadata_not_settled",
                "message": (
                    f"Immich had not finished re-reading the metadata of {len(unsettled)}"
                    f" re-dated assets after {self.policy.settle_timeout:g} s; their tags were"
                    " checked now, and the next run repairs any that Immich resets later"
                ),
                "asset_id": first,
                "album_id": None,
            }
        )

    async def _reread(self, checks: Checks) -> Checks:
        """Re-read the tags of `checks` (one paged search per tag); what the server lacks."""
        applier, lib = self.applier, self.applier.lib
        wrong: Checks = {}

        async def read(path: str, have: set[int], lacks: set[int]) -> None:
            tag_id = applier.tag_id(path)
            if tag_id is None:
                return
            self.cancel.check()
            # More than a page expected: all its pages at once, no count first.
            size = len(have) if self.bound is not None and len(have) > CHUNK_SIZE else None
            ids = await applier.client.search_asset_ids(
                tag_id=tag_id, updated_since=self.bound, size=size
            )
            if len(ids) > POSITIONS_IN_THREAD:  # ~20 ms a 100,000: off the event loop
                members = await asyncio.to_thread(_positions, lib.index, ids)
            else:
                members = _positions(lib.index, ids)
            missing, extra = have - members, lacks & members
            if missing or extra:
                wrong[path] = (missing, extra)

        try:
            async with asyncio.TaskGroup() as group:  # the limiter caps what is in flight
                for path, (have, lacks) in checks.items():
                    group.create_task(read(path, have, lacks))
        except BaseExceptionGroup as errors:  # surface the first failure as itself
            raise errors.exceptions[0] from None
        return wrong

    async def _repair(self, wrong: Checks) -> set[tuple[str, int]]:
        """Re-send what the server lost; returns the (tag, asset) pairs sent."""
        client, ids = self.applier.client, self.applier.lib.assets.ids
        sent: set[tuple[str, int]] = set()
        for path, (missing, extra) in sorted(wrong.items()):
            tag_id = self.applier.tag_id(path)
            if tag_id is None:
                continue
            for part in chunks([ids[a] for a in sorted(missing)]):
                await self._resend(path, partial(client.tag_assets, [tag_id], part))
            for part in chunks([ids[a] for a in sorted(extra)]):
                await self._resend(path, partial(client.untag_assets, tag_id, part))
            sent.update((path, a) for a in missing | extra)
        _LOGGER.info("Re-applied %d tag changes Immich's metadata jobs had undone", len(sent))
        return sent

    async def _resend(self, path: str, request: Callable[[], Awaitable[object]]) -> None:
        self.cancel.check()
        try:
            await request()
        except (ImmichAuthError, ImmichConnectionError):
            raise
        except ImmichError as err:  # the next re-read finds it still missing
            _LOGGER.warning("Re-applying tag %s failed: %s", path, err)

    def _give_up(self, wrong: Checks) -> None:
        """Report what the server still does not show after the last re-read."""
        report = self.applier.report
        for path, (missing, extra) in sorted(wrong.items()):
            for kind, assets in (("tag_add", missing), ("tag_remove", extra)):
                if not assets:
                    continue
                report.changes[kind] = max(0, report.changes.get(kind, 0) - len(assets))
                report.failed_changes[kind] = report.failed_changes.get(kind, 0) + len(assets)
                report.add_error(
                    f"{kind}: {path}: {len(assets)} re-dated assets still differ on the server"
                    f" after {self.policy.rounds} re-reads (Immich's metadata jobs undo it)",
                    asset_id=self.applier.lib.assets.ids[min(assets)],
                )
