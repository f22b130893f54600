"""The names a run writes its outputs under, and where the previous run's names are recorded.

A rules change can rename an output (docs/engine.md#renamed-outputs): the old tag stays on
its assets unless a run knows the name it was written under. Every run therefore records the
output names the library may hold — the rules' own, then old ones still found in Immich — as
`{key: [names]}`, keyed by the rules' keys (`autotag_unknown`, …; the per-group prefix too).
Home Assistant keeps the record in the run's stored report; the headless command in the
journal's header line of each run that changed something (`outputs`), read back here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TypeAlias

from .rules import Rules

PREFIX_KEY = "autotag_classification_conflict_prefix"
OUTPUT_KEYS = (
    "autotag_unknown",
    "autotag_conflict",
    "autotag_album_conflict",
    "autotag_classification_conflict",
    PREFIX_KEY,
    "autotag_album_detection_conflict",
    "autotag_album_date_mismatch",
)

OutputRecord: TypeAlias = dict[str, list[str]]
# (server web URL, user id) -> the record an earlier real run left for that user, if any
OutputHistory: TypeAlias = Callable[[str, str], Awaitable[Mapping[str, Sequence[str]] | None]]

_BLOCK = 1 << 16


def rules_outputs(rules: Rules) -> dict[str, str]:
    """The names the rules write, by key (outputs turned off are left out)."""
    c, d = rules.classification, rules.duplicates
    names = (
        c.unknown_tag,
        c.conflict_tag,
        d.album_conflict_tag,
        d.classification_conflict_tag,
        d.classification_conflict_prefix,
        d.album_detection_conflict_tag,
        rules.album_date_consistency.mismatch_tag,
    )
    return {key: name for key, name in zip(OUTPUT_KEYS, names, strict=True) if name}


# When no earlier run recorded its names (a first run; runs of versions before the record),
# the defaults stand in: the names this tool and its predecessor write unless told otherwise.
DEFAULT_OUTPUTS: OutputRecord = {k: [v] for k, v in rules_outputs(Rules()).items()}


def parse_record(value: object) -> OutputRecord | None:
    """A stored record as written by `RunReport`/the journal; None when it is not one."""
    if not isinstance(value, dict):
        return None
    record: OutputRecord = {}
    for key, names in value.items():
        if key in OUTPUT_KEYS and isinstance(names, list):
            record[key] = [n for n in names if isinstance(n, str) and n]
    return record


def _lines_backwards(path: Path) -> Iterator[bytes]:
    """The file's lines, last first, read in blocks from the end."""
    with path.open("rb") as file:
        end = file.seek(0, os.SEEK_END)
        rest = b""
        while end > 0:
            start = max(0, end - _BLOCK)
            file.seek(start)
            chunk = file.read(end - start) + rest
            end = start
            lines = chunk.split(b"\n")
            rest = lines.pop(0)  # may continue in the block before
            yield from reversed(lines)
        yield rest


def journal_outputs(path: Path, server: str, user_id: str) -> OutputRecord | None:
    """The `outputs` of the newest header line of `server` and `user_id` in a journal.

    Only header lines (`{"journal": …}`) are parsed; a missing or unreadable file, or a torn
    line, counts as no record.
    """
    try:
        for raw in _lines_backwards(path):
            if not raw.startswith(b'{"journal"'):
                continue
            try:
                header = json.loads(raw)
            except ValueError:
                continue
            if header.get("server") == server and header.get("user_id") == user_id:
                record = parse_record(header.get("outputs"))
                if record is not None:
                    return record
    except OSError:
        return None
    return None
