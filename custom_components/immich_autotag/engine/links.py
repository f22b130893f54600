"""Quick links into Immich's web UI for a run's report.

Outputs are the tags the run writes; inputs are the tags and albums the rules read
(classification rules and conversion sources).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from .library import Library
from .rules import Rules, is_temp_album

MAX_ALBUM_LINKS = 500  # a dated-albums rule can match thousands; the report keeps the first


def tag_url(web_url: str, path: str) -> str:
    """Immich's page of the assets carrying a tag."""
    return f"{web_url}/tags?path={quote(path, safe='')}"


def asset_url(web_url: str, asset_id: str) -> str:
    """Immich's page of one asset."""
    return f"{web_url}/photos/{asset_id}"


def with_urls(web_url: str, items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """A dry run's listing with a link to each asset (`url`) and tag (`target_url`)."""
    linked: list[dict[str, Any]] = []
    for item in items:
        if item.get("asset_id"):
            item["url"] = asset_url(web_url, item["asset_id"])
        if str(item.get("kind", "")).startswith("tag_") and item.get("target"):
            item["target_url"] = tag_url(web_url, item["target"])
        linked.append(item)
    return linked


def quick_links(web_url: str, rules: Rules, lib: Library | None) -> list[dict[str, str]]:
    """`{kind, name, url}` records: output tags, input tags, input albums, all albums.

    Input tags and albums are those that exist in the library (a link to a missing one would
    lead nowhere); without a library (the run stopped before reading it) only outputs.
    """
    links = [
        {"kind": "output_tag", "name": tag, "url": tag_url(web_url, tag)}
        for tag in sorted(rules.output_tags())
    ]
    if lib is not None:
        inputs = [*rules.classification.rules, *(c.source for c in rules.conversions)]
        tags = sorted({t for rule in inputs for t in rule.tag_names if t in lib.tags})
        links += [{"kind": "input_tag", "name": t, "url": tag_url(web_url, t)} for t in tags]
        albums = sorted(
            (album.name, album.id)
            for album in lib.albums.values()
            if not is_temp_album(album.name) and any(r.album_matches(album.name) for r in inputs)
        )
        links += [
            {"kind": "input_album", "name": name, "url": f"{web_url}/albums/{album_id}"}
            for name, album_id in albums[:MAX_ALBUM_LINKS]
        ]
    links.append({"kind": "albums", "name": "all albums", "url": f"{web_url}/albums"})
    return links
