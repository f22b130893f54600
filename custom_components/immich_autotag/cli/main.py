"""The headless command: the same engine outside Home Assistant (cron, systemd, docker).

immich-autotag --url URL --api-key KEY --rules FILE [--dry-run] [--json] ...
(or `python -m custom_components.immich_autotag ...` from a checkout)

Progress goes to stderr, the report to stdout. Exit codes: 0 ok, 2 invalid rules or
arguments, 3 authentication, 4 cannot connect, 1 any other failure.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..engine.album_cache import AlbumCache
from ..engine.journal import Journal
from ..engine.report import ErrorKind, RunStatus
from ..engine.rules import Rules
from ..engine.rules_loader import RulesError, load_rules, load_rules_file
from ..engine.runner import run
from ..engine.scope import InvalidAssetIdError, parse_asset_ids
from ..immich.client import ImmichClient
from ..immich.limiter import Limiter
from ..immich.session import new_session
from .output import format_report
from .progress import ProgressBar
from .version import version

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_AUTH, EXIT_CONNECT = 0, 1, 2, 3, 4
_EXIT_BY_KIND = {
    ErrorKind.AUTH: EXIT_AUTH,
    ErrorKind.PERMISSION: EXIT_AUTH,
    ErrorKind.CONNECTION: EXIT_CONNECT,
    ErrorKind.INVALID_INPUT: EXIT_INVALID,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(
        prog="immich-autotag",
        description="Organise an Immich library by rules (the Immich AutoTag engine).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    parser.add_argument("--url", help="Immich URL, with or without /api")
    parser.add_argument("--api-key", help="Immich API key (or IMMICH_API_KEY)")
    parser.add_argument("--rules", type=Path, help="rules YAML (default rules when omitted)")
    parser.add_argument("--dry-run", action="store_true", help="plan only; write nothing")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--max-concurrency", type=int, default=4, help="in-flight requests")
    parser.add_argument("--max-rps", type=float, default=0, help="requests/second (0 = no cap)")
    parser.add_argument("--asset-id", action="append", dest="asset_ids", help="limit the run")
    parser.add_argument("--cache", type=Path, help="album membership cache file")
    parser.add_argument("--no-cache", action="store_true", help="do not use the album cache")
    parser.add_argument("--journal", type=Path, help="append applied changes (JSON lines)")
    parser.add_argument("--insecure", action="store_true", help="do not verify TLS")
    args = parser.parse_args(argv)
    if args.max_concurrency < 1 or args.max_rps < 0:
        parser.error("--max-concurrency must be >= 1 and --max-rps >= 0")
    if args.asset_ids is not None:
        try:
            args.asset_ids = parse_asset_ids(args.asset_ids)
        except InvalidAssetIdError as err:
            parser.error(str(err))
    return args


def default_cache_path(url: str) -> Path:
    """Per-server cache file under $XDG_CACHE_HOME/immich-autotag."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return base / "immich-autotag" / f"albums-{digest}.json"


async def main_async(args: argparse.Namespace, rules: Rules, url: str, api_key: str) -> int:
    """Run once; print the report; return the exit code."""
    limiter = Limiter(args.max_concurrency, args.max_rps or None)
    cache_path = None if args.no_cache else (args.cache or default_cache_path(url))
    cache = AlbumCache.load_file(cache_path) if cache_path else None
    journal = Journal()
    bar = ProgressBar(sys.stderr)
    async with new_session() as session:
        try:
            client = ImmichClient(
                session, url, api_key, limiter=limiter, verify_ssl=not args.insecure
            )
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return EXIT_INVALID
        report = await run(
            client,
            rules,
            dry_run=args.dry_run,
            asset_ids=args.asset_ids,
            progress=bar,
            album_cache=cache,
            journal=journal,
        )
    bar.close()
    if cache is not None and cache_path is not None and report.status != RunStatus.FAILED:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        cache.save_file(cache_path)
    if args.journal and journal.entries:
        journal.write_jsonl(args.journal, header={"id": report.id, "at": str(report.started_at)})
    output: Any = report.to_dict() if args.json else format_report(report)
    print(json.dumps(output, indent=2, default=str) if args.json else output)
    if report.status in (RunStatus.SUCCESS, RunStatus.CANCELLED):
        return EXIT_OK
    if report.error_kind is None:
        return EXIT_FAILED
    return _EXIT_BY_KIND.get(report.error_kind, EXIT_FAILED)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    try:
        rules = load_rules_file(args.rules) if args.rules else load_rules("")
    except RulesError as err:
        print(f"error: invalid rules: {err}", file=sys.stderr)
        return EXIT_INVALID
    except OSError as err:
        print(f"error: cannot read rules: {err}", file=sys.stderr)
        return EXIT_INVALID
    for warning in rules.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    url = args.url or (rules.server.url if rules.server else None)
    api_key = args.api_key or os.environ.get("IMMICH_API_KEY")
    api_key = api_key or (rules.server.api_key if rules.server else None)
    if not url or not api_key:
        print("error: --url and --api-key are required (or a server block)", file=sys.stderr)
        return EXIT_INVALID
    return asyncio.run(main_async(args, rules, url, api_key))
