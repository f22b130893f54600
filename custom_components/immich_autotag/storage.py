"""What one entry keeps in Home Assistant's storage: run reports, album cache, journal.

Reports (the last `MAX_STORED_REPORTS`) and the album membership cache are `Store`s in
`.storage/`; the journal of applied changes is a JSON-lines file beside them that only grows
(format: docs/journal.md). Reports and cache are removed with the entry; the journal is kept,
moved to `<config>/immich_autotag/journal-<entry id>.jsonl`.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import STORAGE_DIR, Store

from .const import DOMAIN
from .engine.album_cache import AlbumCache
from .engine.journal import JournalFile, JournalWriteError
from .engine.journal_read import JournalContents, read_journal
from .engine.report import RunReport

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION = 1
MAX_STORED_REPORTS = 20

# Newer Home Assistant serialises a Store's JSON in the event loop unless told otherwise; the
# album cache of a big library (hundreds of thousands of member ids) is serialised in an
# executor instead. What is saved is built for the save (`to_dict`), so no other code changes
# it meanwhile. Home Assistant 2025.4 always serialises in an executor and has no such option.
_OFF_THE_LOOP: dict[str, Any] = (
    {"serialize_in_event_loop": False}
    if "serialize_in_event_loop" in inspect.signature(Store.__init__).parameters
    else {}
)


def kept_journal_path(hass: HomeAssistant, entry_id: str) -> Path:
    """Where a removed entry's journal is kept (the only record that could undo its runs)."""
    return Path(hass.config.path(DOMAIN, f"journal-{entry_id}.jsonl"))


def journal_path(hass: HomeAssistant, entry_id: str) -> Path:
    """Where an entry's journal of applied changes is appended (JSON lines)."""
    return Path(hass.config.path(STORAGE_DIR, f"{DOMAIN}.{entry_id}.journal.jsonl"))


class EntryStorage:
    """The stored reports, album cache and journal of one config entry."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        self._hass = hass
        self._journal_path = journal_path(hass, entry_id)
        self._reports: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.reports", **_OFF_THE_LOOP
        )
        self._cache: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.album_cache", **_OFF_THE_LOOP
        )

    async def async_load(self) -> tuple[list[RunReport], AlbumCache]:
        """The stored reports (unreadable ones skipped) and the album cache."""
        stored = await self._reports.async_load() or {}
        reports: list[RunReport] = []
        for item in stored.get("reports", []):
            try:
                reports.append(RunReport.from_dict(item))
            except (KeyError, TypeError, ValueError):
                _LOGGER.debug("Skipping an unreadable stored report")
        raw_cache = await self._cache.async_load()
        # A large cache (a million member ids) takes a noticeable time to rebuild.
        cache = await self._hass.async_add_executor_job(AlbumCache.from_dict, raw_cache)
        return reports[-MAX_STORED_REPORTS:], cache

    async def async_save(self, reports: Sequence[RunReport], album_cache: AlbumCache) -> None:
        """Store the reports and the album cache (serialised and written in an executor)."""
        await self._reports.async_save({"reports": [r.to_dict() for r in reports]})
        await self._cache.async_save(album_cache.to_dict())

    async def async_open_journal(self) -> JournalFile:
        """The journal, opened for appending before a run applies anything.

        Each applied change is written as it is applied (`Journal(file)`), so a run that is
        cancelled or unloaded in the middle leaves every change it made in the file. Raises
        JournalWriteError when the file cannot be written.
        """
        try:
            return await self._hass.async_add_executor_job(JournalFile, self._journal_path)
        except OSError as err:
            raise JournalWriteError(
                f"cannot write the journal {self._journal_path}: {err}"
            ) from err

    async def async_read_journal(self) -> JournalContents:
        """The journal's runs (read in an executor; raises JournalReadError)."""
        return await self._hass.async_add_executor_job(read_journal, self._journal_path)

    async def async_close_journal(self, journal_file: JournalFile) -> None:
        """Wait for the last lines (raises JournalWriteError if a write failed).

        The applied changes a failed write left out of the file are logged, so they are not lost.
        """
        try:
            await self._hass.async_add_executor_job(journal_file.close)
        except JournalWriteError as err:
            if err.unwritten:
                _LOGGER.error(  # noqa: TRY400 - the lines matter here, not a traceback
                    "%s; these applied changes are not in the journal (keep them to undo):\n%s",
                    err,
                    "\n".join(err.unwritten),
                )
            raise

    async def async_remove(self, kept: Path) -> Path | None:
        """Forget the reports and the album cache; move the journal to `kept`.

        Returns where the journal now is (None when no run ever applied a change).
        """
        await self._reports.async_remove()
        await self._cache.async_remove()
        return await self._hass.async_add_executor_job(_keep, self._journal_path, kept)


def _keep(journal: Path, kept: Path) -> Path | None:
    """Move the journal out of `.storage` (an existing file there is appended to)."""
    if not journal.exists():
        return None
    kept.parent.mkdir(parents=True, exist_ok=True)
    if kept.exists():
        with kept.open("ab") as out:
            out.write(journal.read_bytes())
        journal.unlink()
    else:
        journal.replace(kept)
    return kept
