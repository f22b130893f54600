"""Shared helpers of the reliability tests: libraries, rules, runs, canonical state dumps.

A faulty run is judged by comparing the simulator's final state with a fault-free run on a
copy of the same library (same builder, same seed). Ids of objects created during a run (tags,
albums) differ between the copies, so the comparison is on a canonical, id-independent dump:
per asset (by id, stable across copies) its tag paths, album names and exif date; per album
name its members and shares.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Unpack

import aiohttp

from custom_components.immich_autotag.engine.report import RunReport, RunStatus
from custom_components.immich_autotag.engine.rules import Rule, Rules, is_temp_album
from custom_components.immich_autotag.engine.rules_loader import load_rules
from custom_components.immich_autotag.immich.client import ImmichClient
from custom_components.immich_autotag.immich.limiter import Limiter
from custom_components.immich_autotag.immich.retry import RUN_POLICY, RetryPolicy
from tests.e2e.harness import RunOptions, run_once
from tests.rules_text import (
    DATE_CORRECTION,
    DATED_ALBUM_RULE,
    MEME_CONVERSION,
    MEME_RULE,
    classification,
    conversions,
)
from tests.sim.generator import generate_library, generator_key
from tests.sim.library import SimLibrary
from tests.sim.server import Simulator

TIME_SCALE = 0.01  # test runs wait 100x shorter than real ones
_SCALED = (
    "max_retry_after",
    "throttle_wait_per_request",
    "throttle_stuck_per_run",
    "outage_ride_through",
    "base",
    "max_delay",
)


def fast_retry(**overrides: float) -> RetryPolicy:
    """The product's retry policy with its waits and time budgets 100x shorter.

    Attempt counts stay as they are. Timeouts stay generous (a loaded test machine can be
    slow to answer) unless a test overrides them to provoke a stall.
    """
    scaled = {name: getattr(RUN_POLICY, name) * TIME_SCALE for name in _SCALED}
    timeouts = {
        "connect_timeout": 5.0,
        "answer_timeout": 10.0,
        "answer_timeout_per_item": 0.0,
        "max_stall": 30.0,
        "probe_timeout": 5.0,
    }
    return replace(RUN_POLICY, **{**scaled, **timeouts, **overrides})


FAST_RETRY = fast_retry()

RULES_TEXT = (
    conversions(
        MEME_CONVERSION,
        """\
    - source: {tag_names: [events/party]}
      destination: {tag_names: [autotag_input_pending_review], album_names: [Party pending]}
      mode: move
""",
    )
    + classification(
        MEME_RULE,
        "{tag_names: [autotag_input_ignore], album_name_patterns: ['^autotag_input_ignore$']}",
        "{tag_names: [autotag_input_pending_review], album_name_patterns: ['^Party pending$']}",
        DATED_ALBUM_RULE,
    )
    + DATE_CORRECTION
    + """\
create_album_from_date_if_missing: true
album_date_consistency: {enabled: true, threshold_days: 180}
filters:
  filter_out:
    - {tag_names: [people/family]}
"""
)

# Variants for the safety properties: copy conversion, album removal, folder albums, no filters.
RULES_VARIANTS = (
    RULES_TEXT,
    """
conversions:
  enabled: true
  conversions:
    - source: {album_name_patterns: ['^autotag_input_ignore$']}
      destination: {tag_names: [autotag_input_ignore]}
      mode: move
      remove_from_source_albums: true
    - source: {tag_names: [events]}
      destination: {tag_names: [legacy/events]}
      mode: copy
classification:
  rules:
    - {tag_names: [autotag_input_ignore, legacy/events]}
    - {album_name_patterns: ['^\\d{4}'], allow_multiple_albums: true}
create_album_from_date_if_missing: false
album_detection_from_folders: {enabled: true, excluded_paths: [whatsapp]}
duplicate_processing:
  date_correction: {enabled: false}
album_date_consistency: {enabled: false}
""",
    """
filters:
  filter_in:
    - {album_name_patterns: ['^\\d{4}-\\d{2}', '^Favourites$', '^autotag_input']}
    - {tag_names: [meme, events]}
classification:
  rules:
    - {tag_names: [meme], album_name_patterns: ['^autotag_input_meme$']}
    - {tag_names: [events/wedding]}
    - {album_name_patterns: ['^\\d{4}-\\d{2}-\\d{2}']}
  autotag_unknown: todo/unknown
  autotag_conflict: null
create_album_from_date_if_missing: true
album_date_consistency: {enabled: true, threshold_days: 30}
""",
)


def rules(text: str = RULES_TEXT) -> Rules:
    """Parsed rules."""
    return load_rules(text)


@dataclass
class Built:
    """A library ready to serve, with the key of `me@example.com`."""

    lib: SimLibrary
    key: str


def build_library(n: int = 150, seed: int = 11) -> Built:
    """A generated library plus legacy objects the rules care about.

    Adds a wrong-date temporary album (the run moves its assets and deletes it), a user album
    no rule names, and a trashed asset carrying a conversion source tag (out of scope).
    """
    lib = generate_library(n, seed=seed)
    me = lib.user_by_email("me@example.com")
    mine = sorted(
        (a for a in lib.assets.values() if a.owner_id == me.id and not a.trashed),
        key=lambda a: a.id,
    )
    lib.add_album(me, "1999-01-01-autotag-temp-unclassified", mine[:3])
    lib.add_album(me, "Unnamed things", mine[3:6])
    trashed = lib.add_asset(me, "IMG_20200101_101010.jpg", taken=datetime(2020, 1, 1, 10, 10, 10))
    trashed.trashed = True
    lib.tag_asset(lib.add_tag(me, "meme"), trashed)
    return Built(lib, generator_key(lib))


def make_client(
    session: aiohttp.ClientSession,
    url: str,
    key: str,
    *,
    limiter: Limiter | None = None,
    retry: RetryPolicy = FAST_RETRY,
    max_concurrency: int = 4,
) -> ImmichClient:
    """A client with fast retries."""
    return ImmichClient(session, url, key, limiter=limiter or Limiter(max_concurrency), retry=retry)


async def run_sim(
    sim: Simulator, url: str, key: str, the_rules: Rules, **options: Unpack[RunOptions]
) -> tuple[RunReport, int]:
    """One run with fast retries (`FAST_RETRY`); the report and the writes it made."""
    merged: RunOptions = {"retry": FAST_RETRY}
    merged.update(options)
    report, _, writes = await run_once(sim, url, key, the_rules, **merged)
    return report, writes


# --- canonical state ---------------------------------------------------------------------
def canonical(lib: SimLibrary) -> dict[str, Any]:
    """An id-independent dump of everything a run may change (see module docstring)."""
    users = {u.id: u.email for u in lib.users.values()}
    tags_of: dict[str, set[str]] = {}
    for tag in lib.tags.values():
        owner = users[tag.owner_id]
        for asset_id in tag.assets:
            tags_of.setdefault(asset_id, set()).add(f"{owner}:{tag.value}")
    albums_of: dict[str, list[str]] = {}
    albums: dict[str, list[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]]] = {}
    for album in lib.albums.values():
        for asset_id in album.assets:
            albums_of.setdefault(asset_id, []).append(album.name)
        albums.setdefault(album.name, []).append(
            (
                users[album.owner_id],
                tuple(sorted(album.assets)),
                tuple(sorted((users[u], r) for u, r in album.users.items())),
            )
        )
    return {
        "assets": {
            a.id: {
                "owner": users[a.owner_id],
                "trashed": a.trashed,
                "visibility": a.visibility,
                "tags": sorted(tags_of.get(a.id, ())),
                "albums": sorted(albums_of.get(a.id, ())),
                "exif": a.exif_ms,
                "zone": a.time_zone,
            }
            for a in lib.assets.values()
        },
        "albums": {name: sorted(entries) for name, entries in sorted(albums.items())},
        "tags": sorted(f"{users[t.owner_id]}:{t.value}" for t in lib.tags.values()),
    }


def diff(got: dict[str, Any], want: dict[str, Any], limit: int = 8) -> list[str]:
    """Human-readable differences between two canonical dumps (first `limit`)."""
    out = [
        f"{section}[{key}]: got {got[section].get(key)} want {want[section].get(key)}"
        for section in ("assets", "albums")
        for key in sorted(set(got[section]) | set(want[section]))
        if got[section].get(key) != want[section].get(key)
    ]
    extra = sorted(set(got["tags"]) ^ set(want["tags"]))
    if extra:
        out.append(f"tags differ: {extra}")
    return out[:limit]


def assert_state(lib: SimLibrary, want: dict[str, Any]) -> None:
    """The library's canonical dump is `want` (the first differences listed when it is not)."""
    got = canonical(lib)
    assert got == want, diff(got, want)


async def assert_settled(
    sim: Simulator,
    url: str,
    key: str,
    the_rules: Rules,
    want: dict[str, Any],
    **options: Unpack[RunOptions],
) -> None:
    """The library is `want` (a fault-free run's state) and one more run writes nothing."""
    assert_state(sim.lib, want)
    again, writes = await run_sim(sim, url, key, the_rules, **options)
    assert again.status is RunStatus.SUCCESS, again.errors[:5]
    assert writes == 0, again.changes


async def reference_state(
    builder: Callable[[], Built], the_rules: Rules, *, version: str = "3.0.3"
) -> dict[str, Any]:
    """Final state of a fault-free run on a fresh copy (checked to be a fixed point)."""
    built = builder()
    sim = Simulator(built.lib, version=version)
    async with sim.serve() as url:
        first, _ = await run_sim(sim, url, built.key, the_rules)
        assert first.status is RunStatus.SUCCESS, first.errors[:5]
        again, writes = await run_sim(sim, url, built.key, the_rules)
        assert writes == 0, again.changes
    return canonical(built.lib)


# --- invariants ----------------------------------------------------------------------------
def _carries(tags: Collection[str], path: str) -> bool:
    return any(t == path or t.startswith(path + "/") for t in tags)


def rule_matches(rule: Rule, tags: Collection[str], albums: Collection[str]) -> bool:
    """Whether an asset with these tag paths and album names matches a rule (no links)."""
    if any(_carries(tags, t) for t in rule.tag_names):
        return True
    return any(rule.album_matches(a) for a in albums if not is_temp_album(a))


def organised(the_rules: Rules, tags: Collection[str], albums: Collection[str]) -> bool:
    """Matched by a classification rule or a conversion source: the asset 'has a home'."""
    candidates = (*the_rules.classification.rules, *(c.source for c in the_rules.conversions))
    return any(rule_matches(r, tags, albums) for r in candidates)


def my_tags(entry: dict[str, Any], email: str = "me@example.com") -> list[str]:
    """Tag paths of one canonical asset owned by `email` (prefix stripped)."""
    prefix = f"{email}:"
    return [t.removeprefix(prefix) for t in entry["tags"] if t.startswith(prefix)]


def assert_valid_intermediate(
    before: dict[str, Any], after: dict[str, Any], the_rules: Rules
) -> None:
    """What any interrupted or failed run must leave: nothing lost, only owned things gone."""
    assert set(after["assets"]) == set(before["assets"]), "assets appeared or vanished"
    for asset_id, was in before["assets"].items():
        now = after["assets"][asset_id]
        assert now["trashed"] == was["trashed"], asset_id
        assert now["visibility"] == was["visibility"], asset_id
        if organised(the_rules, my_tags(was), was["albums"]):
            assert organised(the_rules, my_tags(now), now["albums"]), (
                f"{asset_id} lost its classification: {was} -> {now}"
            )
    for name in before["albums"]:
        if not is_temp_album(name):
            assert len(after["albums"].get(name, [])) >= len(before["albums"][name]), (
                f"album {name!r} was deleted"
            )
