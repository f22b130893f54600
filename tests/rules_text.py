"""Rules YAML the end-to-end, reliability and idempotency tests build theirs from.

Most of them start with the same two steps: tagged memes move to the `autotag_input_meme`
album (a conversion), and assets are classified by that album or by a dated album name.
"""

from __future__ import annotations

MEME_CONVERSION = """\
    - source: {tag_names: [meme]}
      destination: {album_names: [autotag_input_meme]}
      mode: move
"""
MEME_RULE = "{tag_names: [autotag_input_meme], album_name_patterns: ['^autotag_input_meme$']}"
DATED_ALBUM_RULE = r"{album_name_patterns: ['^\d{4}-\d{2}']}"
DATE_CORRECTION = """\
duplicate_processing:
  date_correction: {enabled: true, extraction_timezone: Europe/Madrid}
"""


def conversions(*items: str) -> str:
    """The `conversions` section with these items (YAML list entries, indented)."""
    return "conversions:\n  enabled: true\n  conversions:\n" + "".join(items)


def classification(*rules: str) -> str:
    """The `classification` section with these rules (one flow mapping each)."""
    return "classification:\n  rules:\n" + "".join(f"    - {rule}\n" for rule in rules)


MEME_MOVE = conversions(MEME_CONVERSION) + classification(MEME_RULE)
MEME_AND_DATED_ALBUMS = conversions(MEME_CONVERSION) + classification(MEME_RULE, DATED_ALBUM_RULE)
