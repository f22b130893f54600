"""Home Assistant's repairs platform of the integration: the fix flows of its repair issues.

HA loads this module (by its name) when the user opens a fixable issue. The issues themselves
are raised and cleared by `issues.py` after each run; only `renamed_outputs` is fixable here
(the others are fixed in the options or in Immich). Its form lists the old output tags and
what replaces them; submitting starts a real run with `migrate_outputs` (the same as the
action `immich_autotag.run` with `migrate_outputs: true`), which applies the rules and then
moves the assets off the old tags and deletes them.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN
from .issues import ISSUE_RENAMED_OUTPUTS


class RenamedOutputsFlow(RepairsFlow):
    """Confirm, then start the run that moves the old output tags."""

    def __init__(self, entry_id: str) -> None:
        """The flow of one entry's issue."""
        self._entry_id = entry_id

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> FlowResult:  # noqa: ARG002 - the issue's id, not a submission
        """Go to the confirmation."""
        return await self.async_step_confirm()

    async def async_step_confirm(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """List the old tags; on submit start the run (its outcome goes where every run's does)."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="entry_not_loaded")
        if user_input is not None:
            try:
                entry.runtime_data.coordinator.async_start_run(migrate_outputs=True)
            except ServiceValidationError as err:
                return self.async_abort(
                    reason=err.translation_key or "run_refused",
                    description_placeholders=err.translation_placeholders,
                )
            return self.async_create_entry(data={})
        issue = ir.async_get(self.hass).async_get_issue(DOMAIN, self.issue_id)
        placeholders = dict(issue.translation_placeholders or {}) if issue else {}
        return self.async_show_form(
            step_id="confirm", data_schema=vol.Schema({}), description_placeholders=placeholders
        )


async def async_create_fix_flow(
    hass: HomeAssistant,  # noqa: ARG001 - the platform's signature
    issue_id: str,
    data: dict[str, str | int | float | None] | None,
) -> RepairsFlow:
    """The fix flow of a `renamed_outputs` issue (its data names the entry).

    Any other issue id gets a plain confirmation (none of them is fixable today).
    """
    if issue_id.startswith(f"{ISSUE_RENAMED_OUTPUTS}_"):
        return RenamedOutputsFlow(str((data or {}).get("entry_id", "")))
    return ConfirmRepairFlow()
