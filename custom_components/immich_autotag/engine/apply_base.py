"""The bookkeeping every apply job shares: one request at a safe point, counts, a worker pool.

`apply.Applier` (the order of the stages, tag and date jobs) builds on it through
`apply_albums.AlbumJobs` (the album jobs). Per-request failures are recorded against the
changes they carry and the run goes on; authentication and connection failures stop it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, TypeAlias, TypeVar

from ..immich.client import CHUNK_SIZE, ImmichClient
from ..immich.errors import (
    ImmichAuthError,
    ImmichConnectionError,
    ImmichError,
    ImmichNotFoundError,
)
from ..immich.models import Album, BulkIdResult
from .journal import Journal
from .library import Library
from .plan import Plan
from .progress import CancelToken, Progress, ProgressCallback, RunCancelledError, RunPhase
from .report import RunReport

FATAL_ERRORS = (ImmichAuthError, ImmichConnectionError)
OK_BULK_ERRORS = frozenset({"duplicate"})  # already a member: the goal is reached
WORKERS = 32  # concurrent jobs per stage; the limiter decides how many are in flight

Job: TypeAlias = Callable[[], Coroutine[Any, Any, None]]
# (ids the job's requests carry, what makes the job): a stage makes each job when a worker
# picks it up, so a stage of thousands of requests holds a few dozen closures, not thousands
# (objects that would live long enough for the garbage collector's oldest generation)
Sized: TypeAlias = tuple[int, Callable[[], Job]]
T = TypeVar("T")


class Failed:
    """Marks a request that failed (recorded in the report)."""


FAILED = Failed()


async def unless_gone(request: Awaitable[None]) -> None:
    """A deletion whose target is already gone has reached its goal (e.g. a lost answer)."""
    with contextlib.suppress(ImmichNotFoundError):
        await request


def chunks(items: list[int]) -> list[list[int]]:
    """`items` in lists of at most CHUNK_SIZE."""
    return [items[i : i + CHUNK_SIZE] for i in range(0, len(items), CHUNK_SIZE)]


def interleaved(sized: Iterable[Sized]) -> list[Callable[[], Job]]:
    """Largest first, each followed by the smallest left: the stage ends on middle sizes."""
    ordered = [make for _, make in sorted(sized, key=lambda pair: -pair[0])]
    out: list[Callable[[], Job]] = []
    lo, hi = 0, len(ordered) - 1
    while lo <= hi:
        out.append(ordered[lo])
        if lo < hi:
            out.append(ordered[hi])
        lo, hi = lo + 1, hi - 1
    return out


class ApplyBase:
    """State and helpers of one apply step."""

    def __init__(
        self,
        client: ImmichClient,
        lib: Library,
        plan: Plan,
        report: RunReport,
        *,
        journal: Journal | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> None:
        self.client = client
        self.lib = lib
        self.plan = plan
        self.report = report
        self.journal = journal if journal is not None else Journal()
        self._progress = progress
        self._cancel = cancel or CancelToken()
        self._total = 0
        self._done = 0
        self._tag_ids: dict[str, str] = {p: t.id for p, t in lib.tags.items()}
        self.failed_assets: set[int] = set()  # assets with a failed addition
        self.touched_albums: set[str] = set()
        self.created_albums: list[tuple[Album, list[str]]] = []  # complete on creation
        self._failed_albums: set[str] = set()
        self._meanwhile: dict[str, Album] = {}  # planned creations that exist already

    def _tick(self) -> None:
        self._done += 1
        if self._progress is not None:
            self._progress(Progress(RunPhase.APPLYING, self._done, self._total))

    def _ok(self, kind: str, n: int) -> None:
        if n:
            self.report.changes[kind] = self.report.changes.get(kind, 0) + n

    def _fail(self, kind: str, n: int, message: str, **where: str | None) -> None:
        self.report.failed_changes[kind] = self.report.failed_changes.get(kind, 0) + n
        self.report.add_error(f"{kind}: {message}", **where)

    def _ids(self, assets: Iterable[int]) -> list[str]:
        ids = self.lib.assets.ids
        return [ids[a] for a in assets]

    async def _send(
        self,
        kind: str,
        n: int,
        label: str,
        request: Callable[[], Awaitable[T]],
        *,
        added: Iterable[int] = (),
        album_id: str | None = None,
        fatal: tuple[type[ImmichError], ...] = FATAL_ERRORS,
        unanswered: Callable[[], None] | None = None,
    ) -> T | Failed:
        """Send one request at a safe point; record a non-fatal failure against `n` changes.

        `added` are the assets whose additions the request carries: when it fails, their
        removals are skipped. Authentication and connection errors propagate (they stop the
        run); a `CancelToken` is honoured before the request, never in the middle of one. When
        the task itself is cancelled while the request is out (Home Assistant unloading,
        Ctrl-C), `unanswered` journals the change as uncertain: the server may have applied it.
        """
        self._cancel.check()
        try:
            return await request()
        except asyncio.CancelledError:
            if unanswered is not None:
                unanswered()
            raise
        except fatal:
            raise
        except ImmichError as err:
            self.failed_assets.update(added)
            self._fail(kind, n, f"{label}: {err}", album_id=album_id)
            return FAILED
        finally:
            self._tick()

    def _uncertain(
        self, kind: str, target: str | None, ids: list[str], **extra: Any
    ) -> Callable[[], None]:
        """Journals a change whose request's answer a cancellation cut off."""
        return lambda: self.journal.record(kind, target, ids, uncertain=True, **extra)

    async def _stage(self, sized: Iterable[Sized]) -> None:
        """Run jobs with a bounded pool of workers (the limiter caps in-flight requests).

        The largest jobs go first (longest-processing-time order; ties in plan order): a
        request's service time grows with the ids it carries, so a large one picked up last
        would run alone at the end of the stage while the server's other workers idle.
        Jobs and their coroutines are made only when a worker picks one up, so a stage of
        20,000 requests costs WORKERS tasks and closures, not 20,000. After a `CancelToken`
        cancel each worker finishes the request it has in flight and stops; then the stage
        raises.
        """
        jobs = interleaved(sized)
        if not jobs:
            return
        queue = iter(jobs)

        async def worker() -> None:
            for make in queue:
                try:
                    await make()()
                except RunCancelledError:
                    return  # the other workers finish the requests they have in flight

        try:
            async with asyncio.TaskGroup() as group:
                # one per turn of the loop (Home Assistant starts tasks eagerly)
                for _ in range(min(WORKERS, len(jobs))):
                    await asyncio.sleep(0)
                    group.create_task(worker())
        except BaseExceptionGroup as errors:
            raise errors.exceptions[0] from None
        self._cancel.check()

    def _bulk_failures(
        self,
        kind: str,
        results: list[BulkIdResult],
        where: dict[str, str | None],
        ok: frozenset[str] | set[str] = frozenset(),
    ) -> set[str]:
        """Ids whose change failed; `ok` errors mean the goal is reached all the same."""
        accepted = OK_BULK_ERRORS | ok
        failed = {r.id for r in results if not r.success and r.error not in accepted}
        for r in results:
            if r.id in failed:
                self._fail(kind, 1, r.error or "failed", asset_id=r.id, **where)
        return failed
