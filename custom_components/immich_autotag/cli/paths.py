"""Where the command keeps its files, and the check that it can write them before a run."""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from pathlib import Path

APP = "immich-autotag"


def _xdg(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable)
    return Path(value) if value else Path.home() / fallback


def default_cache_path(url: str) -> Path:
    """Per-server album cache file under $XDG_CACHE_HOME (~/.cache) /immich-autotag."""
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return _xdg("XDG_CACHE_HOME", ".cache") / APP / f"albums-{digest}.json"


def default_journal_path() -> Path:
    """The journal of applied changes: $XDG_STATE_HOME (~/.local/state) /immich-autotag."""
    return _xdg("XDG_STATE_HOME", ".local/state") / APP / "journal.jsonl"


def check_writable_folder(path: Path) -> None:
    """Raise OSError unless `path` can be written (its folder is created).

    Not a folder, not a read-only file, and a file can be created beside it.
    """
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file")
    if path.exists() and not os.access(path, os.W_OK):
        raise PermissionError(errno.EACCES, "the file is read-only")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".probe"):
        pass
