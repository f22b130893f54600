"""The journal: every change a run applied, so it can be audited and reverted (SPEC §6)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Journal:
    """Every applied change (kind, target, ids, old and new value), for audit and revert."""

    entries: list[dict[str, Any]] = field(default_factory=list)

    def record(self, kind: str, target: str | None, ids: Iterable[str], **extra: Any) -> None:
        """Append one applied change."""
        self.entries.append({"kind": kind, "target": target, "ids": list(ids), **extra})

    def write_jsonl(self, path: Path, header: dict[str, Any] | None = None) -> None:
        """Append the entries to a JSON-lines file (its folder is created if missing)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            if header is not None:
                out.write(json.dumps({"run": header}) + "\n")
            for entry in self.entries:
                out.write(json.dumps(entry) + "\n")
