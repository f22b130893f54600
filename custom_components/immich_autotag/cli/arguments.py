"""The headless command's arguments: parsed, and every bad value refused before any request.

Numbers must be finite, ids well-formed, and flags that contradict each other are named;
`parse_args` exits 2 (argparse's error) with the message. `client_for` makes the client the
flags ask for.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import aiohttp

from ..engine.scope import InvalidAssetIdError, parse_asset_ids
from ..immich.client import ImmichClient
from ..immich.limiter import DEFAULT_MAX_CONCURRENCY, MAX_CONCURRENCY, MAX_RPS, Limiter
from .version import version

DEFAULT_SETTLE = 600.0  # seconds new photos stay unchanged before --watch runs


def number(text: str) -> float:
    """A finite number (`nan`, `inf` and the like are refused, as argparse refuses `x`)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def limiter_for(args: argparse.Namespace) -> Limiter:
    """The request limits the flags ask for."""
    return Limiter(args.max_concurrency, args.max_rps or None)


def client_for(
    args: argparse.Namespace,
    session: aiohttp.ClientSession,
    url: str,
    api_key: str,
    limiter: Limiter | None = None,
) -> ImmichClient:
    """A client with the flags' limits (or `limiter`'s), TLS checked unless `--insecure`."""
    return ImmichClient(
        session, url, api_key, limiter=limiter or limiter_for(args), verify_ssl=not args.insecure
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(
        prog="immich-autotag",
        description="Organise an Immich library by rules (the Immich AutoTag engine).",
    )
    add = parser.add_argument
    add("--version", action="version", version=f"%(prog)s {version()}")
    add("--url", help="Immich URL, with or without /api")
    add("--api-key", help="Immich API key (or IMMICH_API_KEY)")
    add("--rules", type=Path, help="rules YAML (default rules when omitted)")
    add("--dry-run", action="store_true", help="plan only; write nothing")
    add(
        "--migrate-outputs",
        action="store_true",
        help="move assets off output tags the rules renamed, and delete those tags",
    )
    add("--json", action="store_true", help="print the report as JSON")
    add(
        "--max-concurrency",
        type=int,
        default=DEFAULT_MAX_CONCURRENCY,
        help="ceiling of the adaptive in-flight limit",
    )
    add("--max-rps", type=number, default=0, help="requests/second (0 = no cap)")
    add("--asset-id", action="append", dest="asset_ids", help="limit the run")
    add("--cache", type=Path, help="album membership cache file")
    add("--no-cache", action="store_true", help="do not use the album cache")
    add("--journal", type=Path, help="journal of applied changes (JSON lines, appended)")
    add("--no-journal", action="store_true", help="do not journal applied changes")
    add("--links", type=Path, metavar="FILE", help="write the report's quick links as Markdown")
    add("--insecure", action="store_true", help="do not verify TLS")
    add(
        "--undo",
        metavar="RUN_ID",
        help="revert an applied run (its id, or 'last') from the journal; with --dry-run: show",
    )
    add("--explain", metavar="ASSET", help="explain one asset (id or Immich link); read-only")
    add(
        "--watch",
        type=number,
        metavar="SECONDS",
        help="keep running: check every SECONDS for new photos and run once they settle",
    )
    add("--settle", type=number, metavar="SECONDS", help="with --watch (600)")
    noise = parser.add_mutually_exclusive_group()
    noise.add_argument("--quiet", "-q", action="store_true", help="no progress or warnings")
    noise.add_argument("--verbose", "-v", action="store_true", help="more progress, and logs")
    args = parser.parse_args(argv)
    _check(parser, args)
    return args


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse bad values and contradicting flags (argparse's error: exit 2 with the message)."""
    if not 1 <= args.max_concurrency <= MAX_CONCURRENCY or not 0 <= args.max_rps <= MAX_RPS:
        parser.error(
            f"--max-concurrency must be 1 to {MAX_CONCURRENCY} and --max-rps 0 to {MAX_RPS:g}"
        )
    if args.settle is not None and args.watch is None:
        parser.error("--settle is how long --watch waits for new photos: it needs --watch")
    if args.asset_ids is not None:
        try:
            args.asset_ids = parse_asset_ids(args.asset_ids)
        except InvalidAssetIdError as err:
            parser.error(str(err))
    if args.journal and args.no_journal:
        parser.error("--journal and --no-journal exclude each other")
    if args.watch is not None and (args.watch <= 0 or (args.settle or 0) < 0):
        parser.error("--watch must be > 0 and --settle >= 0")
    if args.watch is not None and args.settle is None:
        args.settle = DEFAULT_SETTLE
    if args.watch is not None and (
        args.undo is not None or args.explain is not None or args.dry_run
    ):
        parser.error("--watch runs the rules: it takes no --undo, --explain or --dry-run")
    if args.watch is not None and args.asset_ids:  # new photos would never be in scope
        parser.error("--watch runs the rules on new photos: it takes no --asset-id")
    if args.explain is not None and (args.undo is not None or args.asset_ids):
        parser.error("--explain reads one asset: it takes no --undo or --asset-id")
    if args.undo is not None and not args.undo.strip():
        parser.error("--undo needs a run id, or 'last'")
    if args.undo is not None and (args.no_journal or args.asset_ids or args.migrate_outputs):
        parser.error(
            "--undo reads the journal: it takes no --no-journal, --asset-id or --migrate-outputs"
        )
