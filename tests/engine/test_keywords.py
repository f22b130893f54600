"""Whole-word keyword matching: the permission-keyword table plus edge cases."""

import pytest

from custom_components.immich_autotag.engine.keywords import has_keyword, words


@pytest.mark.parametrize(
    ("name", "keyword", "match"),
    [
        ("2024-Familia-Navidad", "familia", True),
        ("Family-Photo-Album", "familia", False),
        ("2024 Family Xmas", "family", True),
        ("familyreunion 2024", "family", False),
        ("Trip.Family_2024", "FAMILY", True),
        ("Fam-ily", "family", False),
    ],
)
def test_keyword_table(name: str, keyword: str, match: bool) -> None:
    assert has_keyword(name, keyword) is match


@pytest.mark.parametrize(
    ("name", "keyword", "match"),
    [
        ("family", "family", True),
        ("  FAMILY  ", "family", True),
        ("Trip -- family__2024..x", "family", True),
        ("2024 Family Xmas", "family xmas", True),  # multi-word keyword: consecutive words
        ("2024 Xmas Family", "family xmas", False),
        ("2024 Family Xmas", "", False),
        ("", "family", False),
        ("Straße Familie", "STRASSE", True),  # casefold: full case-insensitive match
    ],
)
def test_keyword_edges(name: str, keyword: str, match: bool) -> None:
    assert has_keyword(name, keyword) is match


def test_words() -> None:
    assert words("Trip.Family_2024 a-b") == ("trip", "family", "2024", "a", "b")
    assert words("--") == ()
