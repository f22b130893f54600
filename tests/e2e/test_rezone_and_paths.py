"""What a real server taught us, surfaced: naive EXIF dates re-zoned, upload-only paths.

Immich stores an EXIF date without an offset as UTC with no time zone, so with date
correction and an `extraction_timezone` a first run re-zones every such photo: the dry run,
the run and the headless output show those as `date_rezone` ("dates re-zoned from naive
EXIF: N"). Uploaded files live in Immich's storage (`upload/<user>/xx/yy/<uuid>.jpg`), so
folder albums can only come from external libraries: the report says so when none is there.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path

from custom_components.immich_autotag.engine.report import RunStatus
from tests.sim.generator import generate_library, generator_key
from tests.sim.library import SimLibrary
from tests.sim.server import Simulator, assert_no_violations

from .command import ROOT, headless
from .harness import run_once
from .test_metadata_race import RULES


async def test_naive_exif_dates_are_their_own_change_kind(tmp_path: Path) -> None:
    lib = generate_library(200, seed=4, naive_exif_ratio=0.5)
    key = generator_key(lib)
    sim = Simulator(lib, metadata_delay_s=0.05)
    async with sim.serve() as url:
        dry, _, _ = await run_once(sim, url, key, RULES, dry_run=True)
        rezoned = dry.changes["date_rezone"]
        assert rezoned >= 20
        assert dry.changes["date_set"] >= 1  # real corrections stay `date_set`
        listed = [c for c in dry.planned_changes if c["kind"] == "date_rezone"]
        assert len(listed) == rezoned
        for item in listed:  # the same wall clock, given the extraction zone
            old, new = datetime.fromisoformat(item["old"]), datetime.fromisoformat(item["new"])
            assert old.replace(tzinfo=None) == new.replace(tzinfo=None)
            assert new.utcoffset()
        base = ("--url", url, "--api-key", key, "--rules", str(ROOT / "examples" / "rules.yaml"))
        code, out, err = await headless(*base, home=tmp_path)
        assert code == 0, err
        assert f"dates re-zoned from naive EXIF: {rezoned}" in out
        code, out, err = await headless(*base, "--json", home=tmp_path)
        assert code == 0, err
        assert json.loads(out)["changes"] == {}
    assert_no_violations(sim)


async def test_folder_albums_without_an_external_library_are_explained() -> None:
    lib = SimLibrary()
    me = lib.add_user("me@example.com")
    key = lib.add_api_key(me)
    for day in range(1, 4):
        path = f"/data/upload/{me.id}/{day:02x}/cd/{uuid.uuid4()}.jpg"
        lib.add_asset(me, f"IMG_202405{day:02d}_101010.jpg", path, datetime(2024, 5, day, 10))
    sim = Simulator(lib, metadata_delay_s=0.05)
    async with sim.serve() as url:
        dry, _, _ = await run_once(sim, url, key, RULES, dry_run=True)
        notes = [w for w in dry.warnings if w["kind"] == "no_library_paths"]
        assert len(notes) == 1
        assert "upload/<user>/xx/yy/<uuid>.jpg" in (notes[0]["message"] or "")
        # One photo from an external library: folder albums have something to read.
        lib.add_asset(me, "DSC0001.jpg", "/mnt/photos/2024-05-01 Party/DSC0001.jpg")
        report, _, _ = await run_once(sim, url, key, RULES)
        assert report.status is RunStatus.SUCCESS
        assert "no_library_paths" not in [w["kind"] for w in report.warnings]
        assert lib.album_by_name("2024-05-01 Party")
