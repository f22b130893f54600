"""One writing run at a time per Immich user: a lease the server shows (a tool-owned tag).

Two runs at once (overlapping cron jobs, the headless runner and Home Assistant on one
server) would each create the albums the other creates. So a run that has something to write
takes a lease before its first write: it creates the tag
`autotag_run_lease_<run id>/until-<epoch s>` (one `PUT /tags`, which creates the parent too)
and lists the tags:

- a lease whose newest `until-` lies in the past (by this machine's clock), or that has no
  `until-` and was created more than `TTL` ago, belongs to a run that ended without releasing
  it (crash, kill, power cut): it is deleted;
- of the live leases, the one created first on the server (`createdAt`, then id) wins; every
  other run deletes its own lease and ends with status `skipped`, writing nothing.

A run whose snapshot already shows another run's live lease skips before planning, without
a request of its own (`live_lease`): that lease is older than any it could create.

Two runs that create their leases at the same moment agree on the winner once both are
visible, so the winner looks a second time `CONFIRM_AFTER` later, before writing. A run
renews its lease every `RENEW_EVERY` seconds (a new `until-` child, the old one deleted) and
deletes it when it ends, also when it was cancelled or failed; a run whose task or process is
killed leaves it to expire, at most `TTL` after its last renewal. Machines' clocks must
agree to within a few minutes. Tags are per user, so runs of different Immich users never
wait for each other (their albums are their own). A run with nothing to write takes no lease
(and writes nothing): a dry run takes none and is never skipped; it only warns when its
snapshot shows another run's live lease (its preview may change when that run ends). A
winner whose snapshot predates another run's changes is harmless: every write is idempotent
and albums created meanwhile are used, not created again (`apply_albums.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from ..immich.client import ImmichClient
from ..immich.errors import ImmichError
from ..immich.models import Tag
from ..immich.retry import FAIL_FAST, RetryPolicy
from .permissions import Capabilities
from .report import RunReport

_LOGGER = logging.getLogger(__name__)

LEASE_PREFIX = "autotag_run_lease_"
UNTIL = "until-"
TTL = 300.0  # seconds a lease lives without renewal
RENEW_EVERY = 60.0
CONFIRM_AFTER = 0.3  # seconds between the two looks at the leases
RELEASE_ON_CANCEL = 2.0  # seconds a cancelled run's task may spend deleting its lease
LEASE_PERMISSIONS = ("tag.create", "tag.delete")  # tag.read: every run needs it


class AnotherRunActiveError(Exception):
    """Another run of the same Immich user holds the lease: this run writes nothing."""

    def __init__(self, holder: str, until: datetime) -> None:
        super().__init__(
            f"another run ({holder[:12]}) is working on this Immich account; this run was"
            f" skipped and wrote nothing. If that run was interrupted, its lease expires at"
            f" {until.isoformat(timespec='seconds')} (tag {LEASE_PREFIX}{holder})"
        )
        self.holder = holder
        self.until = until


@dataclass(frozen=True, slots=True)
class _Family:
    """One run's lease: its root tag and its newest `until-` child."""

    run_id: str
    root: Tag | None
    until: float | None  # None: no `until-` child visible yet (being created)
    children: tuple[Tag, ...]

    @property
    def tags(self) -> tuple[Tag, ...]:
        """What to delete: the root (Immich deletes a tag's children with it), else children."""
        return (self.root,) if self.root is not None else self.children

    def order(self) -> tuple[str, str]:
        """First created on the server wins (ties: the smaller id)."""
        root = self.root
        return ("", "") if root is None else (root.created_at, root.id)

    def expired(self, now: float, ttl: float) -> bool:
        """Past its newest `until-`; without one, created more than `ttl` ago (or unknown)."""
        if self.until is not None:
            return self.until < now
        created = _epoch(self.root.created_at) if self.root is not None else None
        return created is None or created + ttl < now


def _epoch(iso: str) -> float | None:
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return None


def _families(tags: Iterable[Tag]) -> dict[str, _Family]:
    roots: dict[str, Tag] = {}
    children: dict[str, list[tuple[float, Tag]]] = {}
    for tag in tags:
        if not tag.value.startswith(LEASE_PREFIX):
            continue
        root, _, leaf = tag.value.partition("/")
        run_id = root.removeprefix(LEASE_PREFIX)
        if not leaf:
            roots[run_id] = tag
        elif leaf.startswith(UNTIL) and leaf[len(UNTIL) :].isdigit():
            children.setdefault(run_id, []).append((float(leaf[len(UNTIL) :]), tag))
    return {
        run_id: _Family(
            run_id,
            roots.get(run_id),
            max((u for u, _ in children.get(run_id, [])), default=None),
            tuple(t for _, t in children.get(run_id, [])),
        )
        for run_id in roots.keys() | children.keys()
    }


def wall_clock() -> float:
    """The local clock in epoch seconds (what `until-` values are compared with)."""
    return time.time()


def live_lease(tags: Iterable[Tag]) -> AnotherRunActiveError | None:
    """Another run's live lease among `tags` (the snapshot's listing: no request), if any.

    A writing run that sees one raises it before planning: that lease was created before this
    run's would be, so this run would lose anyway, and it writes nothing at all. A dry run
    only warns.
    """
    now = wall_clock()
    live = [f for f in _families(tags).values() if f.root and not f.expired(now, TTL)]
    if not live:
        return None
    holder = min(live, key=_Family.order)
    until = holder.until if holder.until is not None else now + TTL
    return AnotherRunActiveError(holder.run_id, datetime.fromtimestamp(until, UTC))


class RunLease:
    """The lease of one run (see the module docstring)."""

    def __init__(
        self,
        client: ImmichClient,
        run_id: str,
        *,
        ttl: float = TTL,
        renew_every: float = RENEW_EVERY,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.client = client
        self.run_id = run_id
        self.root = f"{LEASE_PREFIX}{run_id}"
        self.ttl = ttl
        self.renew_every = renew_every
        self._clock = clock or wall_clock
        self._held = False
        self._child: Tag | None = None
        self._mine: _Family | None = None  # this run's lease as last listed
        self.left_until: datetime | None = None  # set when `release()` could not delete it
        self._renewer: asyncio.Task[None] | None = None
        self._last_until = 0.0

    async def acquire(self) -> None:
        """Take the lease or raise `AnotherRunActiveError` (after deleting this run's).

        Whatever happens, `release()` afterwards deletes what this call created.
        """
        self._held = True  # from the first request on: its tag may exist even if it fails
        await self._renew()
        await self._check()
        await asyncio.sleep(CONFIRM_AFTER)  # a lease created at the same moment shows by now
        await self._check()
        self._renewer = asyncio.create_task(self._keep_alive(), name=f"lease {self.run_id}")

    async def release_on_cancel(self) -> None:
        """The run's task is being cancelled: release within `RELEASE_ON_CANCEL` seconds.

        Past that (a server that does not answer) the lease is left to expire.
        """
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(RELEASE_ON_CANCEL):
                await self.release(patient=False)

    async def release(self, *, patient: bool = True) -> None:
        """Stop renewing and delete the lease (left to expire when that fails).

        `patient`: with the run's retry budgets (a run that ends normally on a flaky server);
        else fail-fast (a cancelled run: briefly, its requests interrupted).
        """
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        if not self._held:
            return
        self._held = False
        # Sent even when the run was cancelled (its requests interrupted): a lease left
        # behind keeps other runs out until it expires.
        retry = None if patient else FAIL_FAST
        try:
            with self.client.uninterrupted():
                mine = self._mine
                if mine is None:  # never seen in a listing: look it up
                    tags = await self.client.list_tags(retry=retry)
                    mine = _families(tags).get(self.run_id)
                for tag in () if mine is None else mine.tags:
                    await self.client.delete_tag(tag.id, retry=retry)
        except (ImmichError, RuntimeError) as err:  # e.g. the key was revoked, session closed
            _LOGGER.warning("Could not delete the run lease: %s", err)
            until = self._last_until or self._clock() + self.ttl
            self.left_until = datetime.fromtimestamp(until, UTC)

    async def _renew(self) -> None:
        until = int(self._clock() + self.ttl)
        self._last_until = float(until)
        tags = await self.client.upsert_tags([f"{self.root}/{UNTIL}{until}"])
        old, self._child = self._child, tags[0] if tags else None
        if old is not None and (self._child is None or old.id != self._child.id):
            await self._delete(old)

    async def _check(self) -> None:
        families = _families(await self.client.list_tags())
        self._mine = families.get(self.run_id, self._mine)
        now = self._clock()
        live: list[_Family] = []
        for family in families.values():
            if family.run_id == self.run_id or not family.expired(now, self.ttl):
                live.append(family)
            else:  # the lease of a run that ended without releasing it
                for tag in family.tags:
                    await self._delete(tag)
        winner = min((f for f in live if f.root is not None), key=_Family.order, default=None)
        if winner is None or winner.run_id == self.run_id or self.run_id not in families:
            return
        await self.release()
        until = winner.until if winner.until is not None else now + self.ttl
        raise AnotherRunActiveError(winner.run_id, datetime.fromtimestamp(until, UTC))

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(self.renew_every)
            try:
                await self._renew()
            except ImmichError as err:  # it may expire: the run goes on, the next one waits less
                _LOGGER.warning("Could not renew the run lease: %s", err)

    async def _delete(self, tag: Tag, *, retry: RetryPolicy | None = None) -> None:
        with contextlib.suppress(ImmichError):
            await self.client.delete_tag(tag.id, retry=retry)


LEASE_LEFT = (
    "the run lease could not be deleted (see the log); other runs of this Immich user are"
    " skipped until it expires at %s"
)
NO_LEASE = (
    "runs at the same time are not prevented: the API key lacks tag.create or"
    " tag.delete, which the run lease (a tool-owned tag) needs"
)


def run_lease(client: ImmichClient, report: RunReport, caps: Capabilities) -> RunLease | None:
    """The run's lease, not yet taken; None when the key cannot take one."""
    if not all(caps.allows(p) for p in LEASE_PERMISSIONS):
        report.warnings.append(
            {"kind": "no_run_lease", "message": NO_LEASE, "asset_id": None, "album_id": None}
        )
        return None
    return RunLease(client, report.id)
