"""Runs converge on a server whose metadata jobs reset tags after date writes (Immich v3.1).

The simulator's default profile has the race of a real server: a date write queues a
re-extraction 0.5 s later that resets the asset's tags to those it had at the write. Every
run must end with every tag in place, and the next run must write nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from custom_components.immich_autotag.engine.report import RunStatus
from custom_components.immich_autotag.engine.rules_loader import load_rules
from custom_components.immich_autotag.engine.verify import VerifyPolicy
from tests.sim.faults import Faults
from tests.sim.generator import generate_library, generator_key
from tests.sim.library import MetadataJob, SimLibrary
from tests.sim.server import Simulator, assert_no_violations

from .harness import run_once

VERSIONS = ["2.7.0", "3.0.3", "3.1.0", "3.2.2"]
RULES = load_rules((Path(__file__).resolve().parents[2] / "examples" / "rules.yaml").read_text())
UNKNOWN = "autotag_output_unknown"
type Hook = Callable[[MetadataJob], None]


def race_library() -> tuple[SimLibrary, str]:
    """A generated library where a run re-dates many assets and tags many of them."""
    lib = generate_library(300, seed=5, wrong_date_ratio=0.3)
    return lib, generator_key(lib)


def tag_links(lib: SimLibrary) -> dict[str, set[str]]:
    """Every tag's direct members, by path (the key user's tags)."""
    me = lib.user_by_email("me@example.com")
    return {t.value: set(t.assets) for t in lib.tags_of_user(me).values()}


@pytest.mark.parametrize("version", VERSIONS)
async def test_tags_survive_the_metadata_jobs_and_run_two_writes_nothing(version: str) -> None:
    lib, key = race_library()
    sim = Simulator(lib, version=version, faults=Faults(latency_ms=3.0))  # 0.5 s jobs
    async with sim.serve() as url:
        dry, _, _ = await run_once(sim, url, key, RULES, dry_run=True)
        report, _, _ = await run_once(sim, url, key, RULES)
        assert report.status is RunStatus.SUCCESS, report.errors[:5]
        assert report.changes == dry.changes  # the dry run planned exactly what was applied
        assert report.changes["date_set"] >= 50
        assert report.changes["tag_add"] >= 50
        assert sim.lib.summary()["metadataJobs"] == 0  # the run waited for Immich's jobs
        assert lib.tags_reset == 0  # every tag was written before the dates: nothing undone
        assert report.repaired_after_reread == 0
        # The check after apply reads pages, never one request per re-dated asset.
        searches = report.api.by_endpoint["POST /search/metadata"]
        assert searches < report.changes["date_set"] / 2
        links = tag_links(lib)
        again, _, writes = await run_once(sim, url, key, RULES)
        await sim.metadata_settled()
        assert again.status is RunStatus.SUCCESS
        assert writes == 0, again.changes
        assert tag_links(lib) == links
    assert_no_violations(sim)


def drop_from_sidecar(path: str, jobs: int = 1) -> tuple[list[int], Hook]:
    """A hook that removes `path` from the sidecars of the first `jobs` re-extractions
    holding it; returns a one-item list counting the tag links dropped, and the hook."""
    dropped, spoiled = [0], [0]

    def hook(job: MetadataJob) -> None:
        if spoiled[0] >= jobs or job.sidecar is None:
            return
        hits = [a for a, tags in job.sidecar.items() if path in tags]
        for asset_id in hits:
            job.sidecar[asset_id] -= {path}
        dropped[0] += len(hits)
        spoiled[0] += bool(hits)

    return dropped, hook


@pytest.mark.parametrize("version", VERSIONS)
async def test_tags_the_server_lost_are_repaired_in_the_same_run(version: str) -> None:
    """Whatever Immich resets anyway is found by the re-read and re-applied at once."""
    lib, key = race_library()
    sim = Simulator(lib, version=version, metadata_delay_s=0.2)
    dropped, hook = drop_from_sidecar(UNKNOWN, jobs=3)
    sim.before_metadata_job = hook
    async with sim.serve() as url:
        report, _, _ = await run_once(sim, url, key, RULES)
        assert dropped[0] > 0
        assert report.status is RunStatus.SUCCESS, report.errors[:5]
        assert report.repaired_after_reread == dropped[0]
        assert lib.tags_reset == dropped[0]  # what the server undid ...
        again, _, writes = await run_once(sim, url, key, RULES)  # ... is back already
        assert writes == 0, again.changes
    assert_no_violations(sim)


async def test_what_cannot_be_repaired_is_reported_and_the_next_run_finishes() -> None:
    lib, key = race_library()
    sim = Simulator(lib, metadata_delay_s=0.2)
    dropped, drop = drop_from_sidecar(UNKNOWN)

    def hook(job: MetadataJob) -> None:
        drop(job)
        sim.faults.fail_route = "PUT /tags/assets"  # and the repair cannot be sent

    sim.before_metadata_job = hook
    async with sim.serve() as url:
        report, _, _ = await run_once(sim, url, key, RULES)
        assert dropped[0] > 0
        assert report.status is RunStatus.PARTIAL
        assert report.failed_changes == {"tag_add": dropped[0]}
        assert any("still differ on the server" in (e["message"] or "") for e in report.errors)
        assert report.repaired_after_reread == 0
        sim.faults.fail_route = None
        sim.before_metadata_job = None
        repair, _, _ = await run_once(sim, url, key, RULES)
        assert repair.changes == {"tag_add": dropped[0]}
        again, _, writes = await run_once(sim, url, key, RULES)
        assert writes == 0, again.changes


async def test_immich_lagging_behind_ends_with_a_warning_not_a_hang() -> None:
    """When the metadata jobs do not run in time, the run says so and still finishes."""
    lib, key = race_library()
    sim = Simulator(lib, metadata_delay_s=None)  # Immich's queue is stuck
    async with sim.serve() as url:
        report, _, _ = await run_once(sim, url, key, RULES, verify=VerifyPolicy(settle_timeout=0.5))
        assert report.status is RunStatus.SUCCESS
        kinds = [w["kind"] for w in report.warnings]
        assert "metadata_not_settled" in kinds
        sim.run_metadata_jobs()  # the queue catches up: the tags were written first, so kept
        assert lib.tags_reset == 0
        again, _, writes = await run_once(sim, url, key, RULES)
        assert writes == 0, again.changes
