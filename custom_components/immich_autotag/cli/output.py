"""The human-readable report, and the quick links as Markdown (`--links FILE`)."""

from __future__ import annotations

from ..engine.report import RunReport

SHOWN = 10  # warnings, errors and links of one kind printed in the text report
LINK_GROUPS = (
    ("output_tag", "Output tags"),
    ("input_tag", "Input tags"),
    ("input_album", "Input albums"),
    ("albums", "All albums"),
    ("link", "Links"),  # reports stored before links had kinds
)


def format_report(report: RunReport) -> str:
    """The human-readable report."""
    lines = [
        (
            f"Run {report.id}: {report.status}{' (dry run)' if report.dry_run else ''}"
            f" in {report.duration:.1f} s against Immich {report.server_version or '?'}"
        ),
    ]
    if report.error_message:
        lines.append(f"  error ({report.error_kind}): {report.error_message}")
    if report.undo_of is not None:  # an undo reads assets but applies no rules
        lines.append(f"  assets: {report.assets_total} read")
    else:
        lines.extend(_rules_lines(report))
    verb = "planned" if report.dry_run else "applied"
    changes = ", ".join(f"{k} {v}" for k, v in sorted(report.changes.items())) or "none"
    lines.append(f"  changes {verb}: {changes}")
    if report.failed_changes:
        failed = ", ".join(f"{k} {v}" for k, v in sorted(report.failed_changes.items()))
        lines.append(f"  failed: {failed}")
    if report.changes.get("date_rezone"):
        lines.append(
            f"  dates re-zoned from naive EXIF: {report.changes['date_rezone']}"
            f"{' (planned)' if report.dry_run else ''}"
        )
    if not report.dry_run:
        lines.append(f"  repaired after server re-read: {report.repaired_after_reread}")
    lines.extend(_undo_lines(report))
    api = report.api
    lines.append(
        f"  requests: {api.requests} ({api.writes} writes, {api.retries} retries,"
        f" {api.throttled_seconds:.1f} s throttled)"
    )
    lines.extend(f"    {endpoint}: {n}" for endpoint, n in api.by_endpoint.items())
    if api.concurrency:
        c = api.concurrency
        lines.append(
            f"  in flight: adaptive limit {c['limit']:g} (during the run {c['min']:g}-{c['max']:g},"
            f" mean {c['mean']:g})"
        )
    lines.extend(_renamed_lines(report))
    warnings = [w for w in report.warnings if w["kind"] != "renamed_output"]  # listed above
    lines.extend(f"  warning: {w['message']}" for w in warnings[:SHOWN])
    if len(warnings) > SHOWN:
        lines.append(f"  ... {len(warnings) - SHOWN} more warnings")
    lines.extend(f"  error: {e['message']}" for e in report.errors[:SHOWN])
    lines.extend(_link_lines(report))
    return "\n".join(lines)


def _rules_lines(report: RunReport) -> list[str]:
    lines = [f"  assets: {report.assets_total} read, {report.assets_in_scope} in scope"]
    if report.status_counts:
        lines.append("  status: " + ", ".join(f"{k} {v}" for k, v in report.status_counts.items()))
    lines.append(
        f"  ambiguous dates {report.ambiguous_dates}, date mismatches {report.date_mismatches},"
        f" duplicate conflicts {report.duplicate_conflicts}"
    )
    return lines


def _undo_lines(report: RunReport) -> list[str]:
    """An undo's outcome: what was already as before, and every skipped change listed."""
    if report.undo_of is None:
        return []
    lines = [
        (
            f"  undo of run {report.undo_of}: {report.unchanged} changes already as before,"
            f" {report.skipped_total} skipped (changed after the run: kept as they are)"
        )
    ]
    for skip in report.skipped:
        item = f" {skip['id']}" if skip.get("id") else ""
        lines.append(f"    skipped {skip['kind']} {skip['target'] or ''}{item}: {skip['reason']}")
    if report.skipped_total > len(report.skipped):
        lines.append(f"    ... {report.skipped_total - len(report.skipped)} more skipped")
    return lines


def _renamed_lines(report: RunReport) -> list[str]:
    """Old output tags the run found (engine/migration.py), one line each."""
    if not report.output_migration:
        return []
    lines = ["  old output tags (the rules renamed or turned off their output):"]
    for item in report.output_migration:
        new = item["new"] or "(off)"
        why = f": {item['reason']}" if item.get("reason") else ""
        lines.append(
            f"    {item['old']} → {new} ({item['output']}): {item['assets']:,} assets,"
            f" {item['state']}{why}"
        )
    if any(item["state"] == "pending" for item in report.output_migration):
        lines.append(
            "    --migrate-outputs (try it with --dry-run first) moves the assets off them"
            " and deletes them"
        )
    return lines


def _link_lines(report: RunReport) -> list[str]:
    lines = ["  links:"] if report.links else []
    for kind, title in LINK_GROUPS:
        group = [link for link in report.links if link["kind"] == kind]
        if not group:
            continue
        if kind == "albums":
            lines.append(f"    all albums: {group[0]['url']}")
            continue
        lines.append(f"    {title.lower()}:")
        lines.extend(f"      {link['name']}: {link['url']}" for link in group[:SHOWN])
        if len(group) > SHOWN:
            lines.append(f"      ... {len(group) - SHOWN} more (--links FILE writes them all)")
    return lines


def _markdown_text(text: str) -> str:
    """Text that Markdown shows as it is inside a link's label."""
    for char in "\\[]*_`<>":
        text = text.replace(char, "\\" + char)
    return text


def links_markdown(report: RunReport, server: str) -> str:
    """Every quick link of the report as a Markdown page."""
    lines = [
        "# Immich AutoTag: quick links",
        "",
        (
            f"Run `{report.id}` ({report.status}{', dry run' if report.dry_run else ''})"
            f" against {server}, started {report.started_at.isoformat(timespec='seconds')}."
        ),
    ]
    for kind, title in LINK_GROUPS:
        group = [link for link in report.links if link["kind"] == kind]
        if group:
            lines += ["", f"## {title}", ""]
            lines += [f"- [{_markdown_text(link['name'])}]({link['url']})" for link in group]
    return "\n".join(lines) + "\n"
