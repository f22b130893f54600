"""Asset links in rules: the forms accepted (an id, Immich photo URLs) and the ones refused."""

import pytest

from custom_components.immich_autotag.engine.rules import RulesError
from custom_components.immich_autotag.engine.rules_loader import load_rules


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("3F2504E0-4F89-11D3-9A0C-0305E82C3301", "3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
        ("  3f2504e0-4f89-11d3-9a0c-0305e82c3301 ", "3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
        (
            "https://immich.example/photos/3F2504E0-4F89-11D3-9A0C-0305E82C3301",
            "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        ),
        (
            "http://192.168.1.10:2283/photos/3f2504e0-4f89-11d3-9a0c-0305e82c3301/",
            "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        ),
        (
            (
                "https://i.example/albums/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee/photos/"
                "3f2504e0-4f89-11d3-9a0c-0305e82c3301?at=1#top"
            ),
            "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        ),
        (
            "https://i.example/share/KEY/photos/3f2504e0-4f89-11d3-9a0c-0305e82c3301#x",
            "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        ),
    ],
)
def test_asset_link_forms(link: str, expected: str) -> None:
    rules = load_rules(f"classification:\n  rules:\n    - asset_links: ['{link}']\n")
    assert rules.classification.rules[0].asset_links == {expected}


@pytest.mark.parametrize(
    "link",
    [
        "3f2504e0-4f89-11d3-9a0c-0305e82c330",  # too short
        "3f2504e0-4f89-11d3-9a0c-0305e82c33011",  # too long
        "zf2504e0-4f89-11d3-9a0c-0305e82c3301",
        "https://i.example/albums/3f2504e0-4f89-11d3-9a0c-0305e82c3301",  # an album
        "https://i.example/photos/3f2504e0-4f89-11d3-9a0c-0305e82c3301x",
        "https://i.example/photos/",
        "",
    ],
)
def test_bad_asset_links_are_errors(link: str) -> None:
    with pytest.raises(RulesError) as caught:
        load_rules(
            f"filters:\n  filter_out:\n    - tag_names: [a]\n      asset_links: ['{link}']\n"
        )
    assert caught.value.path == "filters.filter_out[0].asset_links[0]"
    assert caught.value.line == 4
