"""Phase 2: repair capture dates from file names, folder paths, duplicates (docs/engine.md).

Candidates for an asset come from itself and every member of its duplicate group (members
out of scope are read, never changed): dates in file names (camera style and WhatsApp),
the duplicates' capture instants, and WhatsApp dates in folder paths. Dates only move
earlier. Instants are compared at one-second resolution.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum

from ..name_dates import camera_date, has_time, localize, whatsapp_date
from ..rules import DateCorrection, Rules
from ..state import State
from ..zones import in_zone, parse_zone


class CandidateKind(StrEnum):
    """Where a candidate date comes from."""

    FILE_NAME = "file name"
    WHATSAPP_NAME = "WhatsApp file name"
    DUPLICATE = "duplicate"
    PATH = "folder path"


@dataclass(frozen=True, slots=True)
class DateCandidate:
    """A possible capture instant; `value` carries the offset that would be written."""

    value: datetime
    has_time: bool
    kind: CandidateKind
    asset_id: str
    key: datetime = field(init=False, compare=False)  # UTC, whole seconds: for comparisons

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", whole_seconds(self.value))

    @property
    def order(self) -> tuple[datetime, bool, bool]:
        """Oldest first; on a tie a midnight before a timed one, a name before a duplicate.

        Ties matter for idempotency: a duplicate already moved to a WhatsApp midnight shows
        that instant with a time of day in its own zone, and must not count as "precise".
        """
        return (self.key, self.has_time, self.kind is CandidateKind.DUPLICATE)


FILE_NAME, WHATSAPP_NAME = CandidateKind.FILE_NAME, CandidateKind.WHATSAPP_NAME


class Outcome(StrEnum):
    """What the decision concluded."""

    SET = "set"
    KEEP = "keep"
    AMBIGUOUS = "ambiguous"


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome and the candidate it is about (the one to write for SET)."""

    outcome: Outcome
    candidate: DateCandidate | None = None
    reason: str = ""  # which rule decided, in words (for `explain`)


def whole_seconds(value: datetime) -> datetime:
    """UTC instant truncated to the second."""
    return value.astimezone(UTC).replace(microsecond=0)


def _local_has_time(value: datetime) -> bool:
    """True when the aware datetime's own wall clock is not midnight."""
    return has_time(value.replace(tzinfo=None))


def decide(
    immich: datetime,
    immich_zone: tzinfo,
    named: list[DateCandidate],
    paths: list[DateCandidate],
    *,
    options: DateCorrection,
    zone: tzinfo,
) -> Decision:
    """The predecessor's decision, made total (docs/engine.md#dates).

    `named` holds name and duplicate candidates, `paths` folder-path candidates; `zone` is
    the extraction zone (calendar days are compared there), `immich_zone` the asset's own
    (whether the Immich date is precise is judged on its own wall clock).
    """
    now = whole_seconds(immich)
    if named:
        best = min(named, key=lambda c: c.order)
        gap = now - best.key
        if gap > timedelta(days=options.large_gap_days):
            return Decision(
                Outcome.SET, best, f"earlier by more than {options.large_gap_days:g} days"
            )
        if best.has_time and gap > timedelta(0):
            return Decision(Outcome.SET, best, "earlier, with a time of day")
    pool = named + paths
    if not pool:
        return Decision(Outcome.KEEP, None, "no candidate date")
    oldest = min(pool, key=lambda c: c.order)
    gap = now - oldest.key
    if gap <= timedelta(0):
        why = "the Immich date is the earliest"
    elif immich.astimezone(zone).date() == oldest.value.astimezone(zone).date():
        why = "the same calendar day"
    elif gap < timedelta(hours=options.min_gap_hours):
        why = f"less than {options.min_gap_hours:g} hours apart"
    elif (
        _local_has_time(immich.astimezone(immich_zone))
        and not oldest.has_time
        and gap < timedelta(hours=options.midnight_tolerance_hours)
    ):
        why = f"a date without time within {options.midnight_tolerance_hours:g} hours"
    else:
        return Decision(Outcome.AMBIGUOUS, oldest, "earlier, but no rule decides")
    return Decision(Outcome.KEEP, oldest, why)


class _Candidates:
    """Per-asset candidate extraction; cached for duplicate-group members (read many times)."""

    def __init__(self, state: State, zone: tzinfo) -> None:
        self.state = state
        self.zone = zone
        assets = state.lib.assets
        self._ids, self._file_names, self._folders_of = (
            assets.ids,
            assets.file_names,
            assets.folders,
        )
        self._names: dict[int, list[DateCandidate]] = {}  # group members only
        self._folders: dict[str, datetime | None] = {}
        self._local: dict[datetime, datetime] = {}  # naive -> localised

    def _make(self, naive: datetime, kind: CandidateKind, asset_id: str) -> DateCandidate | None:
        """A name/path candidate; None when its instant is outside years 1-9999 in UTC."""
        try:
            aware = self._local.get(naive)
            if aware is None:
                aware = self._local[naive] = localize(naive, self.zone)
            return DateCandidate(aware, has_time(naive), kind, asset_id)
        except OverflowError:  # e.g. 0001-01-01 00:00 in Tokyo: no candidate
            return None

    def names(self, n: int, *, keep: bool = False) -> list[DateCandidate]:
        """Dates in the asset's file name (`keep`: cache them, for a group member)."""
        found = self._names.get(n)
        if found is None:
            name, asset_id = self._file_names[n], self._ids[n]
            found = []
            camera = camera_date(name)
            if camera is not None and (made := self._make(camera, FILE_NAME, asset_id)):
                found.append(made)
            whatsapp = whatsapp_date(name)
            if whatsapp is not None and (made := self._make(whatsapp, WHATSAPP_NAME, asset_id)):
                found.append(made)
            if keep:
                self._names[n] = found
        return found

    def paths(self, n: int) -> list[DateCandidate]:
        """WhatsApp dates in the asset's folder path."""
        folder = self._folders_of[n]
        if not folder:
            return []
        if folder not in self._folders:  # many assets share a folder
            self._folders[folder] = whatsapp_date(folder)
        whatsapp = self._folders[folder]
        made = None if whatsapp is None else self._make(whatsapp, CandidateKind.PATH, self._ids[n])
        return [] if made is None else [made]

    def zone_of(self, n: int) -> tzinfo:
        """The asset's own zone (exif), else the extraction zone."""
        return parse_zone(self.state.lib.assets.time_zones[n]) or self.zone

    def duplicate(self, n: int) -> DateCandidate | None:
        """A duplicate's capture instant, in its own zone (None: not representable there).

        A date this run corrects is seen as it will be written, in the written offset: that is
        the zone Immich shows it in afterwards (and `State.local_date` uses).
        """
        corrected = self.state.dates.get(n)
        value = corrected or in_zone(self.state.instant(n), self.zone_of(n))
        if value is None:
            return None
        try:
            return DateCandidate(
                value, _local_has_time(value), CandidateKind.DUPLICATE, self.state.lib.assets.ids[n]
            )
        except OverflowError:
            return None


def candidates(
    state: State, source: _Candidates, n: int
) -> tuple[list[DateCandidate], list[DateCandidate]]:
    """Name and duplicate candidates, and folder-path candidates, of asset `n` and its group."""
    duplicate_id = state.lib.assets.duplicate_ids[n]
    group = state.lib.duplicate_groups.get(duplicate_id) if duplicate_id else None
    if group is None:  # most assets: no duplicates
        return source.names(n), source.paths(n)
    named: list[DateCandidate] = []
    paths: list[DateCandidate] = []
    for m in group:
        named += source.names(m, keep=True)
        paths += source.paths(m)
        if m != n and (twin := source.duplicate(m)) is not None:
            named.append(twin)
    return named, paths


def date_decision(
    state: State, rules: Rules, n: int
) -> tuple[list[DateCandidate], Decision | None]:
    """Asset `n`'s candidates and the decision a run makes on them (None: no decision made).

    The same code as `run`, for one asset (`explain`); raises OverflowError like `decide`.
    """
    options = rules.duplicates.date_correction
    zone = parse_zone(options.timezone) or UTC
    source = _Candidates(state, zone)
    named, paths = candidates(state, source, n)
    if not options.enabled or not (named or paths):
        return named + paths, None
    immich = state.instant(n)
    return named + paths, decide(
        immich, source.zone_of(n), named, paths, options=options, zone=zone
    )


def run(state: State, rules: Rules) -> None:
    """Plan date corrections for in-scope assets."""
    options = rules.duplicates.date_correction
    if not options.enabled:
        return
    zone = parse_zone(options.timezone) or UTC
    source = _Candidates(state, zone)
    for n in sorted(state.scope):
        named, paths = candidates(state, source, n)
        if not named and not paths:
            continue
        immich = state.instant(n)
        try:
            decision = decide(immich, source.zone_of(n), named, paths, options=options, zone=zone)
        except OverflowError:  # its date or a candidate's is outside years 1-9999 somewhere
            state.unusable_date(n, "cannot be compared with the other candidate dates")
            continue
        if decision.outcome is Outcome.SET and decision.candidate is not None:
            state.set_date(n, decision.candidate.value)
        elif decision.outcome is Outcome.AMBIGUOUS and decision.candidate is not None:
            cand = decision.candidate
            state.counters["ambiguous_dates"] += 1
            state.note(
                "ambiguous_date",
                f"{state.lib.assets[n].path}: Immich date {immich.isoformat()} is later than the "
                f"{cand.kind} date {cand.value.isoformat()} (asset {cand.asset_id}) "
                "but no rule decides; left unchanged",
                asset=n,
            )
