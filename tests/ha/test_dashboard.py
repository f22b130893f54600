"""The dashboard (issue 18.7): generated for any entry; docs/dashboard.yaml is the one for "Me"."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.template import Template
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.immich_autotag.const import DOMAIN

from .conftest import ENTRY_ID, SimServer, call_run, immich_entry, setup_integration
from .fake_runner import FakeRunner

ENTITY_ID = re.compile(r"\b(?:sensor|binary_sensor|button)\.[a-z0-9_]+")
DOCS = Path(__file__).parent.parent.parent / "docs" / "dashboard.yaml"


async def _dashboard(hass: HomeAssistant) -> dict[str, object]:
    response = await hass.services.async_call(
        DOMAIN, "dashboard", {"config_entry_id": ENTRY_ID}, blocking=True, return_response=True
    )
    assert response is not None
    return dict(response)


def _entities(node: object) -> set[str]:
    """Every entity id a view names (cards, targets, templates)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for value in node.values():
            found |= _entities(value)
    elif isinstance(node, list):
        for value in node:
            found |= _entities(value)
    elif isinstance(node, str):
        found |= set(ENTITY_ID.findall(node)) - {"button.press"}
    return found


async def test_docs_dashboard_is_the_view_of_the_me_entry(
    hass: HomeAssistant, sim_server: SimServer, fake_runner: FakeRunner
) -> None:
    """An entry titled "Me" (scripts/develop's): the action returns docs/dashboard.yaml."""
    entry = immich_entry(
        sim_server.url, sim_server.key, sim_server.user.id, title="Me", entry_id=ENTRY_ID
    )
    await setup_integration(hass, entry)
    response = await _dashboard(hass)
    docs = yaml.safe_load(DOCS.read_text(encoding="utf-8"))
    assert docs["views"] == [response["view"]]
    assert yaml.safe_load(str(response["yaml"])) == {"views": [response["view"]]}
    names = _entities(response["view"])
    assert names
    assert all(hass.states.get(entity_id) is not None for entity_id in names), names
    cards = [c for s in response["view"]["sections"] for c in s["cards"]]  # type: ignore[index]
    (graph,) = [c for c in cards if c["type"] == "history-graph"]
    assert [e["entity"] for e in graph["entities"]] == [
        "sensor.immich_autotag_me_unclassified",
        "sensor.immich_autotag_me_conflicts",
        "sensor.immich_autotag_me_date_mismatches",
    ]


async def test_dashboard_follows_renamed_entities(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Ids from the entity registry: an old entry's ids, or ids the user renamed, just work."""
    registry = er.async_get(hass)
    registry.async_update_entity(
        "sensor.immich_autotag_alice_unclassified", new_entity_id="sensor.photos_to_sort"
    )
    view = (await _dashboard(hass))["view"]
    names = _entities(view)
    assert "sensor.photos_to_sort" in names
    assert "sensor.immich_autotag_alice_unclassified" not in names
    assert all(hass.states.get(entity_id) is not None for entity_id in names), names
    assert loaded_entry.title == "Alice"


async def test_report_card_renders_after_a_dry_run_and_a_run(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """The markdown card's template renders, and says which kind of run it shows."""
    view = (await _dashboard(hass))["view"]
    cards = [c for s in view["sections"] for c in s["cards"]]  # type: ignore[index]
    (card,) = [c for c in cards if c["type"] == "markdown"]
    template = Template(card["content"], hass)
    assert "No run yet" in template.async_render(parse_result=False)
    await call_run(hass, dry_run=True)
    dry = template.async_render(parse_result=False)
    assert "Dry run (nothing changed)" in dry
    assert "| Change | Planned |" in dry
    assert "/photos/" in dry  # the planned changes link to the assets
    await call_run(hass)
    real = template.async_render(parse_result=False)
    assert "## Applied" in real
    assert "| Change | Applied |" in real
    assert "| tags added to assets | 4 |" in real
    assert loaded_entry.title == "Alice"
