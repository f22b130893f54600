"""Deletions the plan may keep: checked on the server before a dry run ends or apply starts.

The snapshot cannot see trashed assets, yet a temporary album or a per-group conflict tag can
hold some: deleting it would change those trashed assets (restoring one from the trash would
no longer find its album or tag). Such deletions are taken out of the plan with a warning, in
dry runs and real runs alike, so a dry run announces exactly what the real run does. Apply
re-reads an album or tag once more right before deleting it (see `apply.py`).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TypeAlias

from ..immich.client import ImmichClient
from .library import Library
from .plan import Plan

Note: TypeAlias = dict[str, str | None]  # a report warning


def kept_album_warning(name: str, album_id: str, why: str) -> Note:
    """The report's warning for a temporary album left in place."""
    return {
        "kind": "temp_album_kept",
        "message": f"{name} kept: {why}",
        "asset_id": None,
        "album_id": album_id,
    }


def kept_tag_warning(path: str, why: str) -> Note:
    """The report's warning for a per-group tag left in place."""
    return {
        "kind": "tag_kept",
        "message": f"{path} kept: {why}",
        "asset_id": None,
        "album_id": None,
    }


async def confirm_deletions(
    client: ImmichClient, lib: Library, plan: Plan
) -> tuple[Plan, list[Note]]:
    """The plan without deletions of albums or tags that trashed assets still hold.

    One read per planned deletion (the client's limiter caps how many run at once).
    """
    if not plan.album_deletes and not plan.tag_deletes:
        return plan, []
    try:  # a failed check cancels the others (nothing outlives the run)
        async with asyncio.TaskGroup() as group:
            album_checks = [
                group.create_task(client.has_trashed_assets(album_id=a)) for a in plan.album_deletes
            ]
            tag_checks = [
                group.create_task(client.has_trashed_assets(tag_id=lib.tags[p].id))
                for p in plan.tag_deletes
            ]
    except BaseExceptionGroup as errors:  # surface the first failure as itself
        raise errors.exceptions[0] from None
    held = [task.result() for task in (*album_checks, *tag_checks)]
    album_held = dict(zip(plan.album_deletes, held[: len(album_checks)], strict=True))
    tag_held = dict(zip(plan.tag_deletes, held[len(album_checks) :], strict=True))
    warnings = [
        kept_album_warning(lib.albums[a].name, a, "it holds trashed assets")
        for a, is_held in album_held.items()
        if is_held
    ] + [
        kept_tag_warning(p, "trashed assets carry it") for p, is_held in tag_held.items() if is_held
    ]
    confirmed = replace(
        plan,
        album_deletes=tuple(a for a, is_held in album_held.items() if not is_held),
        tag_deletes=tuple(p for p, is_held in tag_held.items() if not is_held),
    )
    return confirmed, warnings
