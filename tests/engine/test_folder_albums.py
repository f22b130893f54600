"""Folder path -> album: every row of docs/date-cases.md, plus edge cases."""

import re

import pytest

from custom_components.immich_autotag.engine.folder_albums import FolderAlbum, folder_album

EXCLUDED = (re.compile("whatsapp", re.IGNORECASE),)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/photos/2020-05-01 Party/Sub/IMG_0009.jpg", FolderAlbum("2020-05-01 Party/Sub")),
        ("/photos/2020-05-01/IMG_0001.jpg", FolderAlbum()),
        ("/photos/2020-05-01/Trip/a.jpg", FolderAlbum("2020-05-01/Trip")),
        ("/photos/2020-05-01 Party/a/b/c/d/IMG.jpg", FolderAlbum("2020-05-01 Party/a/b/c")),
        ("/photos/Party/IMG.jpg", FolderAlbum()),
        ("/photos/2020-05-01 A/2020-06-01 B/x.jpg", FolderAlbum(conflict=True)),
        ("/photos/WhatsApp/2020-05-01 x/IMG.jpg", FolderAlbum()),
        ("/photos/2020-05-01x/IMG.jpg", FolderAlbum("2020-05-01x")),
        ("/photos/2020/2020-05-01 Party/IMG.jpg", FolderAlbum("2020-05-01 Party")),
        ("/photos/2020-05-01 Party/IMG", FolderAlbum("2020-05-01 Party")),
    ],
)
def test_reference_cases(path: str, expected: FolderAlbum) -> None:
    assert folder_album(path.rpartition("/")[0], EXCLUDED) == expected


def test_bare_date_followed_by_folders_is_kept() -> None:
    assert folder_album("/p/2020-05-01/a/b/c/d").name == "2020-05-01/a/b/c"


def test_exclusion_is_a_case_insensitive_search() -> None:
    assert folder_album("/x/WHATSAPP Images/2020-05-01 a", EXCLUDED) == FolderAlbum()
    assert folder_album("/x/whats app/2020-05-01 a", EXCLUDED).name == "2020-05-01 a"


def test_no_folder() -> None:
    assert folder_album("") == FolderAlbum()
