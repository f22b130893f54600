"""The predecessor's Python YAML tags: its conversion mode is read as a value, every other
tag is an error, and no Python object is ever built."""

from pathlib import Path

import pytest

from custom_components.immich_autotag.engine.rules import ConversionMode, RulesError
from custom_components.immich_autotag.engine.rules_loader import load_rules

PREDECESSOR_MODE = """
conversions:
  enabled: true
  conversions:
    - source: {tag_names: [meme]}
      destination: {album_names: [autotag_input_meme]}
      mode: !!python/object/apply:immich_autotag.config.models.ConversionMode
      - {mode}
"""


@pytest.mark.parametrize("mode", [ConversionMode.MOVE, ConversionMode.COPY])
def test_predecessor_conversion_mode_tag_is_read_as_the_mode(mode: ConversionMode) -> None:
    """0.81.0 dumps its enum with a Python tag; the value is read, no object is built."""
    (conversion,) = load_rules(PREDECESSOR_MODE.replace("{mode}", mode.value)).conversions
    assert conversion.mode is mode
    flow = PREDECESSOR_MODE.replace(
        "ConversionMode\n      - {mode}", f"ConversionMode [{mode.value}]"
    )
    assert load_rules(flow).conversions[0].mode is mode


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("x: !!python/object/apply:os.system ['touch /tmp/autotag-pwned']\n", "YAML tag"),
        ("x: !!python/name:os.system\n", "YAML tag"),
        ("x: !!python/object:os.Foo {}\n", "YAML tag"),
        (PREDECESSOR_MODE.replace("{mode}", "teleport"), "mode"),
        (
            PREDECESSOR_MODE.replace(
                "ConversionMode\n      - {mode}", "ConversionMode [move, copy]"
            ),
            "YAML tag",
        ),
        (
            PREDECESSOR_MODE.replace("config.models.ConversionMode", "evil.ConversionModeX"),
            "YAML tag",
        ),
        ("conversions: !!python/object/apply:a.ConversionMode [move]\n", "conversions"),
    ],
)
def test_other_python_tags_are_errors_never_objects(text: str, problem: str) -> None:
    with pytest.raises(RulesError) as caught:
        load_rules(text)
    assert problem in str(caught.value)
    assert caught.value.line is not None
    assert not Path("/tmp/autotag-pwned").exists()  # noqa: S108
