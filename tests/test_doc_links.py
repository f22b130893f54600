"""The repository's docs stand alone: every reference stays inside it and leads somewhere.

- No file cites a text outside the repository (the behaviour contract, API notes and reference
  tables live in `docs/`). Tests and scripts may name the folder of captured server responses
  beside the checkout (data they read, skipping when it is absent); docs and the product may not.
- Every relative link of the Markdown files at the root and in `docs/` leads to a file of the
  repository, and a `#fragment` to a heading of the Markdown file it names.
- Every `docs/….md#…` or `README.md#…` a source file mentions exists.
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
THIS = Path(__file__).resolve()
# Texts that exist only beside the repository, never in it.
OUTSIDE = re.compile(
    r"SPEC\s*§|\bSPEC\.md|IMMICH-API\.md|HA-CONVENTIONS\.md|ARCHITECTURE\.md"
    r"|reference/(?:date-cases|predecessor-[\w-]+)\.md"
)
# The folder beside the checkout that holds data (captured responses) some tests read.
SHARED_DATA = re.compile(r"real-payloads|\.\./shared\b|/work/shared|\$repo/\.\./shared")
DATA_READERS = ("tests/", "scripts/")
SKIPPED = ("tests/sim/specs/",)  # the vendored OpenAPI specs (Immich's own text)
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CITED = re.compile(r"(?<![\w/.-])((?:docs/[\w.-]+|README|CONTRIBUTING|CHANGELOG)\.md)(#[\w-]+)?")
MARKDOWN = sorted([*ROOT.glob("*.md"), *(ROOT / "docs").glob("*.md")])


def _repository_files() -> list[Path]:
    """Tracked and new (not ignored) files; without git, every file outside build folders."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode()
        paths = [ROOT / name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        ignored = {".git", ".venv", ".venv-dev", "config", "__pycache__"}
        paths = [
            p
            for p in ROOT.rglob("*")
            if not ignored & set(p.relative_to(ROOT).parts)
            and not any(part.endswith("_cache") for part in p.parts)
        ]
    return sorted(p for p in paths if p.is_file())


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None  # images and other binaries


@cache
def _anchors(path: Path) -> frozenset[str]:
    """The fragments GitHub makes for the headings of a Markdown file."""
    seen: dict[str, int] = {}
    anchors: set[str] = set()
    for line in FENCE.sub("", path.read_text(encoding="utf-8")).splitlines():
        heading = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading is None:
            continue
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.group(1))
        slug = re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
        anchors.add(f"{slug}-{seen[slug]}" if slug in seen else slug)  # repeats get -1, -2
        seen[slug] = seen.get(slug, 0) + 1
    return frozenset(anchors)


def _resolves(target: Path, fragment: str) -> str | None:
    """None when `target` (and `#fragment`) exists in the repository; else what is wrong."""
    target = target.resolve()
    if not target.is_relative_to(ROOT):
        return "leads outside the repository"
    if not target.exists():
        return "no such file"
    if fragment and target.suffix == ".md" and fragment not in _anchors(target):
        return f"no heading #{fragment} in {target.relative_to(ROOT)}"
    return None


def test_no_file_cites_a_text_outside_the_repository() -> None:
    found = []
    for path in _repository_files():
        relative = path.relative_to(ROOT).as_posix()
        if path == THIS or relative.startswith(SKIPPED):
            continue
        text = _text(path)
        for number, line in enumerate((text or "").splitlines(), 1):
            data_reader = relative.startswith(DATA_READERS)
            if OUTSIDE.search(line) or (not data_reader and SHARED_DATA.search(line)):
                found.append(f"{relative}:{number}: {line.strip()}")
    assert found == [], "cite docs/ instead:\n" + "\n".join(found)


@pytest.mark.parametrize("doc", MARKDOWN, ids=[p.relative_to(ROOT).as_posix() for p in MARKDOWN])
def test_relative_links_of_the_docs_lead_to_files(doc: Path) -> None:
    broken = []
    for link in LINK.findall(FENCE.sub("", doc.read_text(encoding="utf-8"))):
        if re.match(r"[a-z][a-z0-9+.-]*:", link):  # https:, mailto:
            continue
        path, _, fragment = link.partition("#")
        problem = _resolves(doc.parent / path if path else doc, fragment)
        if problem:
            broken.append(f"{link}: {problem}")
    assert broken == []


def test_docs_cited_in_files_exist() -> None:
    broken = []
    for path in _repository_files():
        if path.relative_to(ROOT).as_posix().startswith(SKIPPED):
            continue
        for name, fragment in CITED.findall(_text(path) or ""):
            problem = _resolves(ROOT / name, fragment.lstrip("#"))
            if problem:
                broken.append(f"{path.relative_to(ROOT)}: {name}{fragment}: {problem}")
    assert broken == []


def test_the_checks_see_what_they_check() -> None:
    """The patterns catch the citations they are for (a check that cannot fail is a defect)."""
    outside = ["SPEC " + "§5.2", "see IMMICH" + "-API.md", "HA-CONVENTIONS" + ".md", "SPEC.md"]
    assert all(OUTSIDE.search(text) for text in outside)
    assert all(SHARED_DATA.search(t) for t in ["../" + "shared/reference", "real-" + "payloads/"])
    assert not SHARED_DATA.search("the shared session")
    assert not "custom_components/x.py".startswith(DATA_READERS)
    assert not OUTSIDE.search("docs/engine.md#dates and docs/immich-api.md")
    assert LINK.findall("[a](b.md#c) ![i](images/x.png)") == ["b.md#c", "images/x.png"]
    assert CITED.findall("see docs/engine.md#dates, README.md") == [
        ("docs/engine.md", "#dates"),
        ("README.md", ""),
    ]
    assert _resolves(ROOT / "docs" / "engine.md", "dates") is None
    assert _resolves(ROOT / "docs" / "engine.md", "no-such-heading") is not None
    assert _resolves(ROOT / "docs" / "nothing.md", "") == "no such file"
    assert _resolves(ROOT / ".." / "shared", "") == "leads outside the repository"
    assert "headless-runner-cron" in _anchors(ROOT / "README.md")
    assert len(_repository_files()) > 100
