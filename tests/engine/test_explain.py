"""Explanations on the reference tables: classification, dates, duplicates, scope. Each
explanation agrees with what the phases decide (the same code runs)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from custom_components.immich_autotag.engine.explain import explain_focus
from custom_components.immich_autotag.engine.explain_load import (
    AssetFocus,
    AssetRefError,
    asset_ref,
)
from custom_components.immich_autotag.engine.rules import (
    Classification,
    DateCorrection,
    DuplicateProcessing,
    Filters,
    Rule,
    Rules,
)

from .builders import LibraryBuilder

MADRID = "Europe/Madrid"
MEME = Rule(tag_names=("autotag_input_meme",), label="classification.rules[0]")
DATED = Rule(album_name_patterns=(re.compile(r"^\d{4}-\d{2}"),), label="classification.rules[1]")
RULES = Rules(
    classification=Classification(rules=(MEME, DATED)),
    duplicates=DuplicateProcessing(date_correction=DateCorrection(timezone=MADRID)),
)


def explain(b: LibraryBuilder, n: int, rules: Rules = RULES) -> dict[str, Any]:
    lib = b.build()
    return explain_focus(AssetFocus(lib, n), rules)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


@pytest.mark.parametrize(
    ("name", "immich", "decision", "value", "why"),
    [
        (
            "IMG_20240715_101010.jpg",
            utc(2024, 7, 15, 10, 10, 10),
            "set",
            "2024-07-15T10:10:10+02:00",
            "with a time of day",
        ),
        (
            "20170808_121314.jpg",
            utc(2017, 8, 10, 12),
            "set",
            "2017-08-08T12:13:14+02:00",
            "more than 1.1 days",
        ),
        (
            "IMG-20190512-WA0003.jpg",
            utc(2023, 1, 1, 12),
            "set",
            "2019-05-12T00:00:00+02:00",
            "more than 1.1 days",
        ),
        (
            "IMG-20150601-WA0002.jpg",
            utc(2015, 6, 2, 20),
            "set",
            "2015-06-01T00:00:00+02:00",
            "more than 1.1 days",
        ),
        (
            "IMG_20240715_101010.jpg",
            utc(2024, 7, 15, 8, 10, 10),
            "keep",
            "2024-07-15T10:10:10+02:00",
            "earliest",
        ),
        (
            "IMG-20240715-WA0001.jpg",
            utc(2024, 7, 15, 10),
            "keep",
            "2024-07-15T00:00:00+02:00",
            "same calendar day",
        ),
        ("DSC0001.jpg", utc(2024, 7, 15, 10), "keep", None, "no candidate"),
    ],
)
def test_date_table(
    name: str, immich: datetime, decision: str, value: str | None, why: str
) -> None:
    b = LibraryBuilder()
    n = b.asset(name, instant=immich, time_zone=MADRID)
    out = explain(b, n)
    date = out["date"]
    assert isinstance(date, dict)
    assert date["decision"] == decision
    assert why in date["why"]
    if value is not None:
        assert date["chosen" if decision == "set" else "nearest"] == value
    changes = out["changes"]
    assert isinstance(changes, list)
    written = [datetime.fromisoformat(c["new"]) for c in changes if c["kind"] == "date_set"]
    assert written == ([datetime.fromisoformat(value)] if decision == "set" and value else [])


def test_ambiguous_folder_date_is_explained() -> None:
    b = LibraryBuilder()
    n = b.asset("DSC0011.jpg", folder="/IMG-20100101-WA0001", instant=utc(2015, 6, 1, 12))
    date = explain(b, n)["date"]
    assert isinstance(date, dict)
    assert (date["decision"], date["why"]) == ("ambiguous", "earlier, but no rule decides")
    assert [c["kind"] for c in date["candidates"]] == ["folder path"]


def test_classification_table() -> None:
    b = LibraryBuilder()
    none = b.asset()
    by_tag = b.asset(tags=("autotag_input_meme/funny",))
    both = b.asset(tags=("autotag_input_meme",))
    two_albums = b.asset()
    b.album("2024-01 A", both, two_albums)
    b.album("2024-02 B", two_albums)
    expected = {
        none: ("unclassified", [False, False]),
        by_tag: ("classified", [True, False]),
        both: ("conflict", [True, True]),
        two_albums: ("conflict", [False, True]),
    }
    for n, (status, matched) in expected.items():
        out = explain(b, n)
        assert out["status"] == status
        rules = out["rules"]
        assert isinstance(rules, list)
        assert [r["matched"] for r in rules] == matched
    out = explain(b, two_albums)
    dated = out["rules"][1]
    assert [m["album"] for m in dated["albums"]] == ["2024-01 A", "2024-02 B"]
    assert "2024-01 A (^\\d{4}-\\d{2})" in dated["why"]
    assert explain(b, by_tag)["rules"][0]["tags"] == ["autotag_input_meme"]
    assert explain(b, none)["temp_album"] == "2020-01-01-autotag-temp-unclassified"


def test_duplicate_table() -> None:
    b = LibraryBuilder()
    tagged = b.asset(duplicate_id="d1", tags=("autotag_input_meme",))
    bare = b.asset(duplicate_id="d1")
    other = b.asset(duplicate_id="d2", tags=("autotag_input_meme",))
    b.asset(duplicate_id="d2", tags=("autotag_input_ignore",))
    rules = Rules(
        classification=Classification(
            rules=(MEME, Rule(tag_names=("autotag_input_ignore",), label="ignore"))
        )
    )
    copied = explain(b, bare, rules)
    assert copied["duplicates"]["decision"] == "copies ['autotag_input_meme'] from the group"
    assert [(c["kind"], c["target"]) for c in copied["changes"]] == [
        ("tag_add", "autotag_input_meme")
    ]
    assert explain(b, tagged, rules)["duplicates"]["decision"] == "nothing to copy"
    assert "conflict" in explain(b, other, rules)["duplicates"]["decision"]


def test_scope_decisions() -> None:
    b = LibraryBuilder()
    private = b.asset(tags=("private",))
    theirs = b.asset(owned=False)
    rules = Rules(
        filters=Filters(filter_out=(Rule(tag_names=("private",), label="filters.filter_out[0]"),))
    )
    out = explain(b, private, rules)
    assert out["scope"]["in_scope"] is False
    assert "filters.filter_out[0]" in out["scope"]["why"]
    assert out["changes"] == []
    assert "never changes it" in explain(b, theirs, rules)["scope"]["why"]


def test_asset_references() -> None:
    asset = "1c0d6b1e-8b4f-4a4e-9d2c-3f5a6b7c8d9e"
    assert asset_ref(asset.upper()) == asset
    assert asset_ref(f"https://immich.example/photos/{asset}") == asset
    album = "00000000-0000-4000-8000-000000000001"
    assert asset_ref(f"https://immich.example/albums/{album}/photos/{asset}?x=1") == asset
    assert asset_ref(f"https://immich.example/share/Xy3_k-9/photos/{asset}/") == asset
    assert asset_ref(f"https://immich.example/api/assets/{asset}/thumbnail?size=preview") == asset
    assert asset_ref(f" https://immich.example/photos/{asset}?at={album}#top ") == asset


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("https://immich.example/albums/00000000-0000-4000-8000-000000000001", "not to one asset"),
        ("https://immich.example/people/00000000-0000-4000-8000-000000000002", "not to one asset"),
        (
            (
                "https://immich.example/people/00000000-0000-4000-8000-000000000002"
                "?previousRoute=/photos/1c0d6b1e-8b4f-4a4e-9d2c-3f5a6b7c8d9e"
            ),
            "not to one asset",
        ),
        ("https://immich.example/share/Xy3_k-9", "neither an asset id"),
        ("x1c0d6b1e-8b4f-4a4e-9d2c-3f5a6b7c8d9e", "neither an asset id"),
        ("", "neither an asset id"),
    ],
)
def test_links_to_no_single_asset_are_refused(text: str, words: str) -> None:
    """An album's or a person's link names no asset: its UUID is no asset id to look up."""
    with pytest.raises(AssetRefError, match=words):
        asset_ref(text)
