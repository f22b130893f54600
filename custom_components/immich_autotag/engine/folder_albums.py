"""Album names from dated folders in an asset's path (docs/engine.md#album-assignment). Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .rules import TextPattern

DATED_FOLDER = re.compile(r"\d{4}-\d{2}-\d{2}")
# Where Immich keeps uploaded files: `upload/<user id>/xx/yy/<uuid>.jpg` (measured on v3.1).
# Folder names of the user's own exist only for external libraries.
UPLOAD_STORAGE = re.compile(r"(?:^|/)upload/[0-9a-fA-F-]{36}/[0-9a-f]{2}/[0-9a-f]{2}/?$")
BARE_DATE_LENGTH = 10  # "YYYY-MM-DD"
MAX_FOLLOWING = 3  # folders after the dated one that join the album name


@dataclass(frozen=True, slots=True)
class FolderAlbum:
    """Detection result: an album name, or none, possibly because of a conflict."""

    name: str | None = None
    conflict: bool = False  # two or more dated folders in the path


NO_FOLDER_ALBUM = FolderAlbum()


def folder_album(folder: str, excluded_paths: Sequence[TextPattern] = ()) -> FolderAlbum:
    """Album from `folder` (the originalPath without its file name)."""
    if any(p.search(folder) for p in excluded_paths):
        return NO_FOLDER_ALBUM
    parts = [p for p in folder.split("/") if p]
    dated = [i for i, part in enumerate(parts) if DATED_FOLDER.match(part)]
    if not dated:
        return NO_FOLDER_ALBUM
    if len(dated) > 1:
        return FolderAlbum(conflict=True)
    start = dated[0]
    chosen = parts[start : start + 1 + MAX_FOLLOWING]
    if len(chosen) == 1 and len(chosen[0]) == BARE_DATE_LENGTH:
        return NO_FOLDER_ALBUM
    return FolderAlbum(name="/".join(chosen))


def is_upload_storage(folder: str) -> bool:
    """True for Immich's own storage folder of an uploaded file (no folder names to read)."""
    return UPLOAD_STORAGE.search(folder) is not None
