"""The human-readable report."""

from __future__ import annotations

from ..engine.report import RunReport


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
    lines.append(f"  assets: {report.assets_total} read, {report.assets_in_scope} in scope")
    if report.status_counts:
        lines.append("  status: " + ", ".join(f"{k} {v}" for k, v in report.status_counts.items()))
    lines.append(
        f"  ambiguous dates {report.ambiguous_dates}, date mismatches {report.date_mismatches},"
        f" duplicate conflicts {report.duplicate_conflicts}"
    )
    verb = "planned" if report.dry_run else "applied"
    changes = ", ".join(f"{k} {v}" for k, v in sorted(report.changes.items())) or "none"
    lines.append(f"  changes {verb}: {changes}")
    if report.failed_changes:
        failed = ", ".join(f"{k} {v}" for k, v in sorted(report.failed_changes.items()))
        lines.append(f"  failed: {failed}")
    api = report.api
    lines.append(
        f"  requests: {api.requests} ({api.writes} writes, {api.retries} retries,"
        f" {api.throttled_seconds:.1f} s throttled)"
    )
    lines.extend(f"    {endpoint}: {n}" for endpoint, n in api.by_endpoint.items())
    lines.extend(f"  warning: {w['message']}" for w in report.warnings[:10])
    if len(report.warnings) > 10:  # noqa: PLR2004
        lines.append(f"  ... {len(report.warnings) - 10} more warnings")
    lines.extend(f"  error: {e['message']}" for e in report.errors[:10])
    if report.links:
        lines.append("  links:")
        lines.extend(f"    {name}: {url}" for name, url in report.links.items())
    return "\n".join(lines)
