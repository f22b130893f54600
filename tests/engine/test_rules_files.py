"""Rules files read from disk: a missing file, text that is not UTF-8, the encodings editors
save."""

import codecs
from pathlib import Path

import pytest

from custom_components.immich_autotag.engine.rules import RulesError
from custom_components.immich_autotag.engine.rules_loader import load_rules, load_rules_file


def test_load_rules_file_errors(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read rules file"):
        load_rules_file(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"# ok\nclassification: \xff\xfe\n")
    with pytest.raises(
        RulesError, match=r"not UTF-8 text \(byte 0xff on line 2\): save it as UTF-8"
    ):
        load_rules_file(bad)
    good = tmp_path / "good.yaml"
    good.write_text("create_album_from_date_if_missing: false\n", encoding="utf-8")
    assert load_rules_file(good).create_album_from_date_if_missing is False


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])
def test_rules_files_in_the_encodings_editors_save(tmp_path: Path, encoding: str) -> None:
    """UTF-8 with or without a byte order mark, UTF-16 with one (Windows "Unicode"), CRLF
    line ends: the same rules."""
    text = "# Fotos von Zoë\r\nskip:\r\n  tag_names: [privé]\r\n"
    path = tmp_path / "rules.yaml"
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(encoding, b"")
    path.write_bytes(bom + text.encode(encoding))
    assert load_rules_file(path) == load_rules(text.replace("\r\n", "\n"))
