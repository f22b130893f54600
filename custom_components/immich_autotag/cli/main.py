"""The headless command: the same engine outside Home Assistant (cron, systemd, docker).

immich-autotag --url URL --api-key KEY --rules FILE [--dry-run] [--migrate-outputs] [--json] ...
(or `python -m custom_components.immich_autotag ...` from a checkout)

Progress goes to stderr, the report to stdout. Exit codes: 0 ok, 2 invalid rules, arguments or
an unwritable journal/cache path (checked before anything is sent), 3 authentication, 4 cannot
connect, 5 skipped (another run of the same Immich user was working), 1 any other failure or an
undo that left changes alone (each listed); 130/143 when stopped by SIGINT/SIGTERM.
`--undo RUN_ID|last` reverts a journaled run instead of running rules.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from functools import partial
from pathlib import Path
from typing import Self

from ..engine.album_cache import AlbumCache
from ..engine.journal import Journal, JournalFile, JournalWriteError, discard
from ..engine.journal_read import JournalContents, JournalReadError, read_journal
from ..engine.output_names import OutputHistory, OutputRecord, journal_outputs
from ..engine.progress import CancelToken
from ..engine.report import ErrorKind, RunReport, RunStatus
from ..engine.rules import Rules, RulesError
from ..engine.rules_loader import load_rules, load_rules_file
from ..engine.runner import run
from ..engine.undo import undo
from ..immich.session import new_session
from ..immich.transport import normalize_url
from .arguments import client_for, limiter_for, parse_args
from .explain import EXIT_AUTH, EXIT_CONNECT, EXIT_FAILED, EXIT_INVALID, EXIT_OK, explain_command
from .output import format_report, links_markdown
from .paths import check_writable_folder, default_cache_path, default_journal_path
from .progress import ProgressPrinter
from .watch import watch

EXIT_SKIPPED = 5  # another run of the same Immich user was working: nothing written
_EXIT_BY_KIND = {
    ErrorKind.AUTH: EXIT_AUTH,
    ErrorKind.PERMISSION: EXIT_AUTH,
    ErrorKind.CONNECTION: EXIT_CONNECT,
    ErrorKind.INVALID_INPUT: EXIT_INVALID,
}
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _say(message: str) -> None:
    """A line on stderr (which may be a pipe nobody reads any more)."""
    with contextlib.suppress(OSError, ValueError):
        print(message, file=sys.stderr, flush=True)


def _error(message: str) -> None:
    _say(f"error: {message}")


class _PathError(Exception):
    """A file the run needs cannot be written (the message says which and what to do)."""


def _unwritable(what: str, path: Path, err: OSError, hint: str) -> _PathError:
    return _PathError(f"cannot write the {what} {path}: {err.strerror or err}{hint}")


def open_files(args: argparse.Namespace, url: str) -> tuple[Path | None, JournalFile | None]:
    """The album cache path and the opened journal, all files checked writable before the run."""
    cache = None if args.no_cache else (args.cache or default_cache_path(url))
    journal = None if args.dry_run or args.no_journal else (args.journal or default_journal_path())
    checks = [("links file", args.links, "")] if args.links is not None else []
    if cache is not None:
        hint = " (choose a writable file with --cache FILE, or run with --no-cache)"
        checks.append(("album cache", cache, hint))
    for what, path, hint in checks:
        try:
            check_writable_folder(path)
        except OSError as err:
            raise _unwritable(what, path, err, hint) from err
    if journal is None:
        return cache, None
    try:
        return cache, JournalFile(journal)
    except OSError as err:
        hint = " (choose a writable file with --journal FILE, or run with --no-journal)"
        raise _unwritable("journal", journal, err, hint) from err


def output_history(args: argparse.Namespace) -> OutputHistory:
    """The output names of the user's last run that changed something, from the journal.

    Read even for a dry run (which writes no journal); with --no-journal, no record: the
    default names stand in.
    """
    path = None if args.no_journal else (args.journal or default_journal_path())

    async def history(server: str, user_id: str) -> OutputRecord | None:
        if path is None:
            return None
        return await asyncio.to_thread(journal_outputs, path, server, user_id)

    return history


class _Stopper:
    """SIGINT/SIGTERM: the first asks the run to stop at a safe point, the second stops it."""

    def __init__(self, cancel: CancelToken, *, quiet: bool) -> None:
        self.cancel = cancel
        self.quiet = quiet
        self.signal: signal.Signals | None = None
        self._task = asyncio.current_task()
        self._loop = asyncio.get_running_loop()

    def __enter__(self) -> Self:
        for sig in STOP_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
                self._loop.add_signal_handler(sig, self._on_signal, sig)
        return self

    def __exit__(self, *_: object) -> None:
        for sig in STOP_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                self._loop.remove_signal_handler(sig)

    def _on_signal(self, sig: signal.Signals) -> None:
        if self.signal is None:
            self.signal = sig
            self.cancel.cancel()
            if not self.quiet:
                _say(f"\n{sig.name}: stopping after the requests in flight (again to stop now)")
        elif self._task is not None:
            self._task.cancel()


async def main_async(
    args: argparse.Namespace,
    rules: Rules,
    url: str,
    api_key: str,
    reports: list[RunReport] | None = None,
) -> int:
    """Run once (or undo a run); print the report; return the exit code.

    `reports` (for `--watch`) receives the report.
    """
    try:
        contents = await _undo_source(args)
        cache_path, journal_file = open_files(args, url)
    except (JournalReadError, _PathError) as err:
        _error(str(err))
        return EXIT_INVALID
    cache = AlbumCache.load_file(cache_path) if cache_path else None
    cancel = CancelToken()
    printer = (
        None if args.quiet else ProgressPrinter(sys.stderr, interval=2 if args.verbose else 10)
    )
    limiter = limiter_for(args)
    report: RunReport | None = None
    with _Stopper(cancel, quiet=args.quiet) as stopper:
        try:
            async with new_session() as session:
                client = client_for(args, session, url, api_key, limiter)
                job = (
                    partial(undo, client, contents, args.undo)
                    if contents is not None
                    else partial(
                        run,
                        client,
                        rules,
                        asset_ids=args.asset_ids,
                        output_history=output_history(args),
                        migrate_outputs=args.migrate_outputs,
                    )
                )
                report = await job(
                    dry_run=args.dry_run,
                    progress=printer,
                    cancel=cancel,
                    album_cache=cache,
                    journal=Journal(journal_file if journal_file is not None else discard),
                )
        except asyncio.CancelledError:
            _error("stopped: requests in flight were abandoned (journaled as uncertain)")
        finally:
            if printer is not None:
                printer.close()
            _close_journal(journal_file, report)
    if report is None:  # a second signal stopped it in the middle
        return 128 + (stopper.signal or signal.SIGINT)
    if reports is not None:
        reports.append(report)
    if cache is not None and cache_path is not None and report.status != RunStatus.FAILED:
        try:
            cache.save_file(cache_path)
        except OSError as err:
            _error(f"cannot save the album cache {cache_path}: {err}")
    text = json.dumps(report.to_dict(), indent=2, default=str) if args.json else None
    _print_report(text or format_report(report))
    if args.links is not None:
        try:
            args.links.write_text(links_markdown(report, normalize_url(url)[0]), encoding="utf-8")
        except OSError as err:
            _error(f"cannot write the links file {args.links}: {err}")
            return EXIT_FAILED
    return exit_code(report, stopper.signal)


async def _undo_source(args: argparse.Namespace) -> JournalContents | None:
    """For `--undo`: the journal, read before anything is sent (None for a rules run)."""
    if args.undo is None:
        return None
    return await asyncio.to_thread(read_journal, args.journal or default_journal_path())


def _print_report(text: str) -> None:
    """The report on stdout; a reader that stopped early (`| head`) is no error."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit: point it at nothing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _close_journal(journal_file: JournalFile | None, report: RunReport | None) -> None:
    """Write the journal's last lines; a failure there fails the run."""
    if journal_file is None:
        return
    try:
        journal_file.close()
    except JournalWriteError as err:
        _error(str(err))
        if err.unwritten:  # applied changes the file does not hold: keep them on stderr
            _error("lines not written to the journal (applied changes; keep them to undo):")
            for line in err.unwritten:
                print(line, file=sys.stderr, flush=True)
        if report is not None:
            report.status = RunStatus.FAILED
            report.error_kind = report.error_kind or ErrorKind.JOURNAL
            report.error_message = report.error_message or str(err)


def exit_code(report: RunReport, stopped_by: signal.Signals | None = None) -> int:
    """The process's exit code for a finished run."""
    if stopped_by is not None:
        return 128 + stopped_by
    if report.status is RunStatus.SUCCESS and report.skipped_total:
        return EXIT_FAILED  # an undo that left changes alone (listed in the report)
    if report.status in (RunStatus.SUCCESS, RunStatus.CANCELLED):
        return EXIT_OK
    if report.status is RunStatus.SKIPPED:  # another run holds the lease: nothing written
        return EXIT_SKIPPED
    if report.error_kind is None:
        return EXIT_FAILED
    return _EXIT_BY_KIND.get(report.error_kind, EXIT_FAILED)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        rules = load_rules_file(args.rules) if args.rules else load_rules("")
    except RulesError as err:
        _error(f"invalid rules: {err}")
        return EXIT_INVALID
    except OSError as err:
        _error(f"cannot read rules: {err}")
        return EXIT_INVALID
    if not args.quiet:
        for warning in rules.warnings:
            _say(f"warning: {warning}")
    url = args.url or (rules.server.url if rules.server else None)
    api_key = args.api_key or os.environ.get("IMMICH_API_KEY")
    api_key = api_key or (rules.server.api_key if rules.server else None)
    if not url or not api_key:
        _error("--url and --api-key are required (or a server block)")
        return EXIT_INVALID
    try:
        normalize_url(url)
    except ValueError as err:
        _error(str(err))
        return EXIT_INVALID
    return asyncio.run(_command(args, rules, url, api_key))


async def _command(args: argparse.Namespace, rules: Rules, url: str, api_key: str) -> int:
    """The command asked for: explain, watch, or one run (or undo)."""
    if args.explain is not None:
        return await explain_async(args, rules, url, api_key)
    if args.watch is not None:
        return await watch(args, url, api_key, partial(main_async, args, rules, url, api_key), _say)
    return await main_async(args, rules, url, api_key)


async def explain_async(args: argparse.Namespace, rules: Rules, url: str, api_key: str) -> int:
    """`--explain`: print why a run does what it does to one asset."""
    async with new_session() as session:
        client = client_for(args, session, url, api_key)
        code, text = await explain_command(client, rules, args.explain, as_json=args.json)
    if code == EXIT_OK:
        _print_report(text)
    else:
        _say(text)
    return code
