"""`immich_autotag.clean_up`: delete what the integration created in Immich, dry run first.

The rules' output tags (untagged from their assets, then deleted) and the user's empty
temporary albums. With `dry_run` (the default) nothing is written: the response lists what
would go. Applied changes are journaled like a run's, so the untagging can be undone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.exceptions import HomeAssistantError
from homeassistant.util.ulid import ulid_now

from .const import DOMAIN
from .engine.journal import Journal, JournalWriteError
from .engine.retire import apply_retire, plan_clean_up
from .engine.rules import Rules
from .immich.errors import ImmichError
from .issues import async_valid_rules
from .storage import EntryStorage

if TYPE_CHECKING:
    from .coordinator import AutoTagCoordinator


async def async_clean_up(coordinator: AutoTagCoordinator, *, dry_run: bool) -> dict[str, Any]:
    """Plan (and unless `dry_run`, apply) the clean-up of one entry; the response."""
    with coordinator.busy():  # no run, undo or other clean-up meanwhile
        rules = async_valid_rules(coordinator.hass, coordinator.config_entry)
        return await _async_clean_up(coordinator, rules, dry_run=dry_run)


async def _async_clean_up(
    coordinator: AutoTagCoordinator, rules: Rules, *, dry_run: bool
) -> dict[str, Any]:
    entry = coordinator.config_entry
    client = coordinator.connection.async_client()
    storage = EntryStorage(coordinator.hass, entry.entry_id)
    try:
        info = await client.connect()
        plan = await plan_clean_up(client, rules, info.user.id)
        response: dict[str, Any] = {
            "dry_run": dry_run,
            "planned": plan.describe(client.web_url),
            "changes": plan.counts(),
        }
        if dry_run or plan.is_empty:
            return response
        journal_file = await storage.async_open_journal()
        journal = Journal(journal_file)
        journal.begin(ulid_now(), action="clean_up", server=client.web_url, user_id=info.user.id)
        status = "failed"
        try:
            response["changes"] = await apply_retire(client, plan, journal)
            status = "success"
        finally:
            journal.end(status)
            await storage.async_close_journal(journal_file)
    except (ImmichError, JournalWriteError) as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="clean_up_failed",
            translation_placeholders={"title": entry.title, "error": str(err)},
        ) from err
    return response
