"""docs/date-cases.md and the tests agree: every row of a table is a case, every case a row.

Each section of the document names the test functions that check its table ("Checked by
`tests/…py::test_…`"). The rows of a parametrized function are rendered here into the cells
the table shows and compared as sets, both ways. A function without parameters checks rows of
its own: each such row's backticked inputs must appear in that function's source, and each
such function must have a row.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from custom_components.immich_autotag.engine.folder_albums import FolderAlbum

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "date-cases.md"
CHECKED_BY = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
TICKED = re.compile(r"`([^`]+)`")


def _when(value: datetime) -> str:
    """A UTC instant as the tables show it: `2024-07-15 10:10:10` (milliseconds when set)."""
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    return f"{text}.{value.microsecond // 1000:03d}" if value.microsecond else text


def _code(value: object) -> str:
    return f"`{value}`"


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _or_none(value: object) -> str:
    return "none" if value is None else _code(value)


def _album(value: FolderAlbum) -> str:
    if value.conflict:
        return "none + album-detection-conflict tag"
    return _or_none(value.name)


def _span(name: str, start: date, end: date) -> tuple[str, ...]:
    """An album name and its span: a day, `the month 2024-07`, `the year 2024`, or a range."""
    if start == end:
        shown = f"the day {start.isoformat()}"
    elif (start.month, start.day, end.month, end.day) == (1, 1, 12, 31):
        shown = f"the year {start.year}"
    elif start.day == 1 and (end + timedelta(days=1)).day == 1 and start.month == end.month:
        shown = f"the month {start:%Y-%m}"
    else:
        shown = f"{start.isoformat()} to {end.isoformat()}"
    return (_code(name), shown)


# "module::function" -> the cells a case shows (the table may add a last "why" column).
RENDER: dict[str, Callable[..., tuple[str, ...]]] = {
    "test_name_dates::test_camera_table": lambda name, want: (
        _code(name),
        "none" if want is None else str(want),
    ),
    "test_name_dates::test_camera_impossible_dates_and_leap_days": lambda name, want: (
        _code(name),
        "none" if want is None else str(want),
    ),
    "test_name_dates::test_whatsapp_table": lambda text, want: (_code(text), _or_none(want)),
    "test_dates::test_decision_table_single_assets": lambda _folder, name, immich, want: (
        _code(name),
        _when(immich),
        _code(want),
    ),
    "test_dates::test_dst_and_leap_days": lambda name, immich, want: (
        _code(name),
        _when(immich),
        _code(want),
    ),
    "test_dates::test_no_change_cases": lambda name, immich: (_code(name), _when(immich)),
    "test_dates::test_path_candidates_never_set": lambda folder, immich, ambiguous: (
        _code(folder),
        _when(immich),
        "ambiguous" if ambiguous else "kept",
    ),
    "test_folder_albums::test_reference_cases": lambda path, want: (_code(path), _album(want)),
    "test_keywords::test_keyword_table": lambda name, keyword, match: (
        _code(name),
        _code(keyword),
        _yes(match),
    ),
    "test_classification::test_reference_regexes": lambda album, first, second: (
        _code(album),
        _yes(first),
        _yes(second),
    ),
    "test_album_name_dates::test_spans": _span,
    "test_album_name_dates::test_unparseable": lambda name: (_code(name), "unparseable"),
}


def _sections() -> Iterator[tuple[str, list[tuple[str, str]], list[list[str]]]]:
    """(heading, the functions it names, its table rows as cells) for each `##` section."""
    heading, text = "", ""
    for line in [*DOC.read_text(encoding="utf-8").splitlines(), "## end"]:
        if line.startswith("## "):
            if heading:
                rows = [
                    [cell.strip() for cell in row.strip().strip("|").split("|")]
                    for row in text.splitlines()
                    if row.startswith("|") and not set(row) <= set("|-: ")
                ]
                yield heading, CHECKED_BY.findall(text), rows[1:]  # without the header
            heading, text = line[3:], ""
        else:
            text += line + "\n"


SECTIONS = list(_sections())


def _cases(function: Callable[..., Any]) -> list[tuple[Any, ...]]:
    """The parameter sets of a parametrized test (empty when it has none)."""
    cases: list[tuple[Any, ...]] = []
    for mark in getattr(function, "pytestmark", []):
        if mark.name == "parametrize":
            names = mark.args[0]
            single = isinstance(names, str) and "," not in names
            cases += [(v,) if single else tuple(v) for v in mark.args[1]]
    return cases


def _matches(cells: list[str], rendered: tuple[str, ...]) -> bool:
    """A row shows a case: equal cells; a cell may add a remark in parentheses."""
    return len(cells) >= len(rendered) and all(
        cell == want or cell.startswith(f"{want} (")
        for cell, want in zip(cells, rendered, strict=False)
    )


def test_every_section_names_its_tests_and_has_rows() -> None:
    assert SECTIONS, "docs/date-cases.md has no sections"
    for heading, checked_by, rows in SECTIONS:
        assert checked_by, f"{heading!r} names no test ('Checked by `tests/…py::test_…`')"
        assert rows, f"{heading!r} has no table"


@pytest.mark.parametrize(("heading", "checked_by", "rows"), SECTIONS, ids=[s[0] for s in SECTIONS])
def test_table_rows_are_the_test_cases(
    heading: str, checked_by: list[tuple[str, str]], rows: list[list[str]]
) -> None:
    unmatched = [list(row) for row in rows]
    sources: list[tuple[str, str]] = []
    for path, name in checked_by:
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        function = getattr(module, name, None)
        assert function is not None, f"{heading!r}: {path}::{name} does not exist"
        cases = _cases(function)
        if not cases:
            sources.append((name, inspect.getsource(function)))
            continue
        render = RENDER[f"{Path(path).stem}::{name}"]
        for case in cases:
            shown = render(*case)
            row = next((r for r in unmatched if _matches(r, shown)), None)
            assert row is not None, f"{heading!r}: no row for {name}{case} (expected {shown})"
            unmatched.remove(row)
    for name, source in sources:  # the rest belongs to the functions without parameters
        mine = [r for r in unmatched if all(t in source for t in TICKED.findall(r[0]))]
        assert mine, f"{heading!r}: no row shows {name}"
        for row in mine:
            unmatched.remove(row)
    assert not unmatched, f"{heading!r}: rows no test checks: {unmatched}"
