"""The dashboard (issue 18.7): generated for any entry; docs/dashboard.yaml is the one for "Me"."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.template import Template
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.immich_autotag.const import CONF_RULES, DOMAIN

from .conftest import ENTRY_ID, SimServer, call_run, immich_entry, setup_integration
from .fake_runner import FakeRunner

ENTITY_ID = re.compile(r"\b(?:sensor|binary_sensor|button)\.[a-z0-9_]+")
RESULT = "sensor.immich_autotag_alice_last_run_result"
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


def _report_card(response: dict[str, object]) -> str:
    """The markdown card's template of a `dashboard` response."""
    view = response["view"]
    cards = [c for s in view["sections"] for c in s["cards"]]  # type: ignore[index]
    (card,) = [c for c in cards if c["type"] == "markdown"]
    return str(card["content"])


async def test_quick_links_on_the_last_run_sensors_and_the_report_card(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    """Against the simulator: the run's quick links (output tags, the rules' input tags and
    albums that exist, all albums) are attributes of the last-run sensors, link into the
    configured Immich, and the report card lists them after a dry run and after a run."""
    lib, alice = sim_server.lib, sim_server.user
    first, second, _ = list(lib.assets.values())
    lib.tag_asset(lib.add_tag(alice, "cat"), first)
    beach = lib.add_album(alice, "2024-07-15 Beach", [second])
    lib.add_album(alice, "Other")
    rules = (
        "classification:\n  autotag_unknown: to sort\n  rules:\n"
        "    - {tag_names: [cat, dog]}\n    - {album_name_patterns: ['^\\d{4}-\\d{2}']}\n"
    )
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(mock_config_entry, options={CONF_RULES: rules})
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    web = mock_config_entry.data[CONF_URL]
    inputs = [
        ("input_tag", "cat", f"{web}/tags?path=cat"),  # "dog" does not exist: no link
        ("input_album", "2024-07-15 Beach", f"{web}/albums/{beach.id}"),
        ("albums", "all albums", f"{web}/albums"),
    ]
    card = Template(_report_card(await _dashboard(hass)), hass)
    for dry_run in (True, False):
        await call_run(hass, dry_run=dry_run)
        for entity_id in (RESULT, "sensor.immich_autotag_alice_last_run"):
            state = hass.states.get(entity_id)
            assert state is not None
            links = [(x["kind"], x["name"], x["url"]) for x in state.attributes["links"]]
            assert ("output_tag", "to sort", f"{web}/tags?path=to%20sort") in links
            assert [x for x in links if x[0] != "output_tag"] == inputs
        text = card.async_render(parse_result=False)
        assert f"[to sort]({web}/tags?path=to%20sort)" in text
        assert f"[cat]({web}/tags?path=cat)" in text
        assert f"[2024-07-15 Beach]({web}/albums/{beach.id})" in text
        assert ("Dry run (nothing changed)" in text) is dry_run
    assert sim_server.lib.asset_tags(second.id) == set()  # classified by its album
