"""No deprecated Home Assistant usage through an entry's whole life (checked on every HA stack).

Home Assistant reports a custom integration's use of deprecated helpers through its frame
helper ("Detected that custom integration 'immich_autotag' ... will stop working") and through
`DeprecationWarning`s; either means the integration breaks on a future release. The life:
set-up, a run against the simulator, the options flow, reauth, reconfigure and unload.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.immich_autotag.const import (
    CONF_MAX_CONCURRENCY,
    CONF_MAX_RPS,
    CONF_RULES,
    CONF_RUN_INTERVAL,
    DOMAIN,
)

from .conftest import ENTRY_ID, SimServer, setup_integration

_DEPRECATION_WARNINGS = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)
_REPORT_MARKERS = ("detected that", "deprecat", "will stop working", "no longer supported")


def ours(text: str) -> bool:
    """A message about this integration (its domain or its package path)."""
    return DOMAIN in text or "custom_components/immich_autotag" in text


def deprecation_reports(
    records: list[logging.LogRecord], caught: list[warnings.WarningMessage]
) -> list[str]:
    """HA frame-helper reports and deprecation warnings that concern this integration."""
    found = [
        f"log {r.name}: {r.getMessage()}"
        for r in records
        if r.levelno >= logging.WARNING
        and ours(r.getMessage())
        and (
            r.name == "homeassistant.helpers.frame"
            or any(m in r.getMessage().lower() for m in _REPORT_MARKERS)
        )
    ]
    found.extend(
        f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})"
        for w in caught
        if issubclass(w.category, _DEPRECATION_WARNINGS) and ours(f"{w.filename} {w.message}")
    )
    return found


def _state(entry: ConfigEntry) -> ConfigEntryState:
    return entry.state  # read afresh: each step changes it


@contextmanager
def recorded_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Every warning raised inside, none filtered out."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def test_the_check_sees_reports() -> None:
    """The collector flags HA's frame report and an integration's DeprecationWarning."""
    frame = logging.LogRecord(
        "homeassistant.helpers.frame",
        logging.WARNING,
        "frame.py",
        1,
        "Detected that custom integration '%s' calls a deprecated helper. This will stop "
        "working in Home Assistant 2027.1",
        (DOMAIN,),
        None,
    )
    other = logging.LogRecord(
        "homeassistant.helpers.frame", logging.WARNING, "f", 1, "integration 'x' ...", (), None
    )
    with recorded_warnings() as caught:
        warnings.warn_explicit(
            "old API", DeprecationWarning, "custom_components/immich_autotag/sensor.py", 3
        )
        warnings.warn_explicit("unrelated", DeprecationWarning, "/usr/lib/other.py", 1)
    found = deprecation_reports([frame, other], caught)
    assert len(found) == 2
    assert "Detected that custom integration 'immich_autotag'" in found[0]
    assert "old API" in found[1]


async def test_entry_life_reports_no_deprecations(
    hass: HomeAssistant,
    sim_server: SimServer,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    with recorded_warnings() as caught:
        await setup_integration(hass, mock_config_entry)
        assert _state(mock_config_entry) is ConfigEntryState.LOADED

        response = await hass.services.async_call(
            DOMAIN, "run", {"config_entry_id": ENTRY_ID}, blocking=True, return_response=True
        )
        assert response is not None
        assert response["status"] == "success"

        result = await hass.config_entries.options.async_init(ENTRY_ID)
        assert result["type"] is FlowResultType.FORM
        result = await hass.config_entries.options.async_configure(
            result["flow_id"],
            {CONF_RULES: "", CONF_RUN_INTERVAL: 0, CONF_MAX_CONCURRENCY: 2, CONF_MAX_RPS: 0.0},
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()

        new_key = sim_server.lib.add_api_key(sim_server.user, permissions={"all"}, name="new")
        result = await mock_config_entry.start_reauth_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_API_KEY: new_key}
        )
        assert result["reason"] == "reauth_successful"
        await hass.async_block_till_done()

        result = await mock_config_entry.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_URL: sim_server.url, CONF_VERIFY_SSL: True}
        )
        assert result["reason"] == "reconfigure_successful"
        await hass.async_block_till_done()
        assert _state(mock_config_entry) is ConfigEntryState.LOADED

        assert await hass.config_entries.async_unload(ENTRY_ID)
        await hass.async_block_till_done()
        assert _state(mock_config_entry) is ConfigEntryState.NOT_LOADED
    assert deprecation_reports(caplog.records, caught) == []
