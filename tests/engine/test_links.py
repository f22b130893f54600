"""Quick links: output tags, the rules' input tags and albums (those that exist), all albums."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from custom_components.immich_autotag.engine import links as links_module
from custom_components.immich_autotag.engine.links import quick_links
from custom_components.immich_autotag.engine.report import RunReport
from custom_components.immich_autotag.engine.rules_loader import load_rules

from .builders import LibraryBuilder

RULES = load_rules(
    """
conversions:
  enabled: true
  conversions:
    - source: {tag_names: [meme/old], album_name_patterns: ['^Memes$']}
      destination: {album_names: [autotag_input_meme]}
classification:
  rules:
    - {tag_names: [autotag_input_meme, never_created], album_name_patterns: ['^autotag_input_meme$']}
    - {album_name_patterns: ['^\\d{4}-\\d{2}']}
"""
)
WEB = "https://photos.example.org"


def test_links_name_outputs_and_the_inputs_that_exist() -> None:
    b = LibraryBuilder()
    a = b.asset()
    b.tag("meme/old", a)
    b.tag("autotag_input_meme")
    trip = b.album("2024-07 Trip", a)
    memes = b.album("Memes", a)
    b.album("2024-07-01-autotag-temp-unclassified", a)  # temporary albums are no input
    b.album("Holidays", a)  # matches no rule
    got = quick_links(WEB, RULES, b.build())
    by_kind: dict[str, list[tuple[str, str]]] = {}
    for link in got:
        by_kind.setdefault(link["kind"], []).append((link["name"], link["url"]))
    assert ("autotag_output_unknown", f"{WEB}/tags?path=autotag_output_unknown") in by_kind[
        "output_tag"
    ]
    assert by_kind["input_tag"] == [
        ("autotag_input_meme", f"{WEB}/tags?path=autotag_input_meme"),
        ("meme/old", f"{WEB}/tags?path=meme%2Fold"),
    ]
    assert by_kind["input_album"] == [
        ("2024-07 Trip", f"{WEB}/albums/{trip}"),
        ("Memes", f"{WEB}/albums/{memes}"),
    ]
    assert by_kind["albums"] == [("all albums", f"{WEB}/albums")]
    assert [link["kind"] for link in got][-1] == "albums"


def test_album_links_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    b = LibraryBuilder()
    for day in range(1, 8):
        b.album(f"2024-07-0{day} Day")
    monkeypatch.setattr(links_module, "MAX_ALBUM_LINKS", 3)
    got = quick_links(WEB, RULES, b.build())
    assert [link["name"] for link in got if link["kind"] == "input_album"] == [
        "2024-07-01 Day",
        "2024-07-02 Day",
        "2024-07-03 Day",
    ]


def test_without_a_library_only_outputs() -> None:
    kinds = {link["kind"] for link in quick_links(WEB, RULES, None)}
    assert kinds == {"output_tag", "albums"}


def test_stored_reports_with_the_old_links_shape_still_load() -> None:
    stored = RunReport(id="r", started_at=datetime(2026, 1, 1, tzinfo=UTC), dry_run=False)
    data = stored.to_dict() | {"links": {"albums": f"{WEB}/albums"}}
    assert RunReport.from_dict(data).links == [
        {"kind": "link", "name": "albums", "url": f"{WEB}/albums"}
    ]
