"""Retiring output tags journals every asset the tag left, also after a lost answer."""

from __future__ import annotations

from unittest.mock import create_autospec

from custom_components.immich_autotag.engine.journal import Journal
from custom_components.immich_autotag.engine.retire import RetiredTag, RetirePlan, apply_retire
from custom_components.immich_autotag.immich.client import ImmichClient
from custom_components.immich_autotag.immich.models import BulkIdResult

A, B, C = (f"00000000-0000-4000-8000-00000000000{n}" for n in (1, 2, 3))


async def test_a_resent_untag_journals_the_assets_the_lost_answer_untagged() -> None:
    client = create_autospec(ImmichClient, instance=True)
    client.untag_assets.return_value = [  # the resend: A and B were untagged by the lost request
        BulkIdResult(A, success=False, error="not_found"),
        BulkIdResult(B, success=False, error="not_found"),
        BulkIdResult(C, success=False, error="no_permission"),
    ]
    journal = Journal()
    plan = RetirePlan(tags=[RetiredTag("autotag_output_unknown", "t1", (A, B, C))])
    done = await apply_retire(client, plan, journal)
    removes = [e for e in journal.entries if e["kind"] == "tag_remove"]
    assert [e["ids"] for e in removes] == [[A, B]]  # C kept its tag: not journaled
    assert done["tag_remove"] == 2
    client.delete_tag.assert_awaited_once_with("t1")
