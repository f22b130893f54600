"""`--explain ASSET`: why a run does what it does to one asset, as text or JSON (read-only)."""

from __future__ import annotations

import json
from typing import Any

from ..engine.explain import explain_asset
from ..engine.explain_load import AssetRefError
from ..engine.rules import Rules
from ..immich.client import ImmichClient
from ..immich.errors import (
    ImmichAuthError,
    ImmichConnectionError,
    ImmichError,
    ImmichPermissionError,
)

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_AUTH, EXIT_CONNECT = 0, 1, 2, 3, 4


async def explain_command(
    client: ImmichClient, rules: Rules, ref: str, *, as_json: bool
) -> tuple[int, str]:
    """The exit code and the text to print (the explanation, or the error)."""
    try:
        out = await explain_asset(client, rules, ref)
    except AssetRefError as err:
        return EXIT_INVALID, f"error: {err}"
    except (ImmichAuthError, ImmichPermissionError) as err:
        return EXIT_AUTH, f"error: {err}"
    except ImmichConnectionError as err:
        return EXIT_CONNECT, f"error: {err}"
    except ImmichError as err:
        return EXIT_FAILED, f"error: {err}"
    return EXIT_OK, json.dumps(out, indent=2, default=str) if as_json else format_explanation(out)


def _rule_line(rule: dict[str, Any]) -> str:
    mark = "matches" if rule["matched"] else "no match"
    return f"    {rule['rule']}: {mark} ({rule['why']})"


def format_explanation(out: dict[str, Any]) -> str:
    """The explanation in words, one decision per line."""
    asset, scope = out["asset"], out["scope"]
    lines = [
        f"Asset {asset['id']}: {asset['path']}",
        (
            f"  date {asset['date']} ({asset['time_zone'] or 'no zone'});"
            f" tags {asset['tags'] or 'none'}; albums {asset['albums'] or 'none'}"
        ),
        f"  scope: {'in' if scope['in_scope'] else 'out'} ({scope['why']})",
    ]
    if out["conversions"]:
        lines.append("  conversions:")
        lines.extend(_rule_line(c) for c in out["conversions"])
    date = out.get("date") or {}
    if date.get("decision"):
        chosen = date.get("chosen") or date.get("nearest")
        lines.append(
            f"  date decision: {date['decision']}"
            + (f" {chosen}" if chosen else "")
            + f" ({date.get('why')})"
        )
        lines.extend(
            f"    candidate {c['value']} from the {c['kind']} of {c['asset_id']}"
            for c in date.get("candidates", [])
        )
    dup = out.get("duplicates")
    if dup:
        lines.append(f"  duplicate group {dup['group']}: {dup['decision']}")
        lines.extend(
            f"    {m['asset_id']} {m['file_name']}: tags {m['classification_tags']},"
            f" albums {m['albums']}"
            for m in dup["members"]
        )
    if "rules" in out:
        lines.append("  classification rules:")
        lines.extend(_rule_line(r) for r in out["rules"])
    lines.append(f"  status: {out['status']}")
    folder = out.get("folder_album") or {}
    if folder.get("enabled", True):
        lines.append(f"  folder album: {folder.get('name') or 'none'} ({folder.get('why')})")
    lines.append(f"  temporary album: {out['temp_album'] or 'none'}")
    changes = out["changes"]
    count = f"{len(changes)} changes to it:" if changes else "no change to it"
    lines.append(f"  a run would make {count}")
    lines.extend(
        f"    {c['kind']} {c.get('target') or ''} {c.get('new') or ''}".rstrip() for c in changes
    )
    lines.extend(f"  note: {note}" for note in out["notes"])
    lines.append(f"  ({out['requests']} requests, Immich {out['server_version']})")
    return "\n".join(lines)
