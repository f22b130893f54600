"""User regular expressions with a bounded cost (album name patterns, excluded paths).

Python's `re` cannot be interrupted and holds the GIL while it matches, so one catastrophic
pattern (`(a|a)+$` against a long album name) would freeze Home Assistant. User patterns are
therefore run with the `regex` engine, which can be stopped after a time: a pattern that
exceeds its budget of CPU time is an error naming the rule, never a hang. `regex` measures the
clock, so a match whose thread was kept waiting (another thread holding the GIL, a busy
machine) and used little CPU is tried again with more time (up to `MAX_WAIT`).

- `MATCH_BUDGET`: CPU seconds one match of one pattern on one text may take.
- `TOTAL_BUDGET`: CPU seconds one pattern may spend in all (many slow-but-legal matches).
- Each distinct text is matched once per pattern (results are kept), so a library of a million
  assets costs one match per distinct album name or folder, not one per asset.
- `check_cost` tries a pattern on adversarial texts when the rules are validated, so most
  catastrophic patterns are refused before any run.
"""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

import regex

from .rules import RulesError

MATCH_BUDGET = 0.05
TOTAL_BUDGET = 2.0
MAX_WAIT = 3.2  # seconds of clock a match may take while its thread waits (the CPU bound holds)
_CACHE_LIMIT = 200_000  # texts remembered per pattern (then it starts over)
_PROBE_LENGTH = 64
_PROBE_CHARS = "a0 -_."


class PatternTooSlowError(RulesError):
    """A user pattern exceeded its time budget (catastrophic backtracking)."""


def _shorten(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:37]}…"  # noqa: PLR2004


class UserPattern:
    """A compiled user pattern: `re` semantics (checked with `re`), run by `regex` with a budget.

    `match` is anchored at the start like `re.match`; `search` looks anywhere. Both return a
    bool and raise `PatternTooSlowError` (naming `label`) when the budget is exceeded.
    """

    __slots__ = ("_cache", "_compiled", "_spent", "ignore_case", "label", "pattern")

    def __init__(self, source: str, *, ignore_case: bool = False, label: str = "") -> None:
        re.compile(source, re.IGNORECASE if ignore_case else 0)  # the contract: Python syntax
        self.pattern = source
        self.ignore_case = ignore_case
        self.label = label
        flags = regex.VERSION0 | (regex.IGNORECASE if ignore_case else 0)
        self._compiled: Any = regex.compile(source, flags)
        self._cache: dict[tuple[bool, str], bool] = {}
        self._spent = 0.0

    def labelled(self, label: str) -> UserPattern:
        """The same pattern, named for error messages (`classification.rules[1]…`)."""
        return UserPattern(self.pattern, ignore_case=self.ignore_case, label=label)

    def __repr__(self) -> str:
        return (
            f"UserPattern({self.pattern!r}, ignore_case={self.ignore_case}, label={self.label!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UserPattern):
            return NotImplemented
        return (self.pattern, self.ignore_case, self.label) == (
            other.pattern,
            other.ignore_case,
            other.label,
        )

    def __hash__(self) -> int:
        return hash((self.pattern, self.ignore_case, self.label))

    def match(self, text: str) -> bool:
        """True when the pattern matches at the start of `text`."""
        return self._run(anchored=True, text=text)

    def search(self, text: str) -> bool:
        """True when the pattern matches anywhere in `text`."""
        return self._run(anchored=False, text=text)

    def _run(self, *, anchored: bool, text: str) -> bool:
        key = (anchored, text)
        known = self._cache.get(key)
        if known is not None:
            return known
        method = self._compiled.match if anchored else self._compiled.search
        wall = MATCH_BUDGET
        while True:
            started = time.thread_time()
            try:
                found = method(text, timeout=wall) is not None
                break
            except TimeoutError:
                # `regex` times out by the clock: a thread kept waiting (for the GIL, or on a
                # busy machine) is not a slow pattern. Only the CPU the match used counts.
                cpu = time.thread_time() - started
                if cpu >= MATCH_BUDGET / 2 or wall >= MAX_WAIT:
                    how = f"more than {MATCH_BUDGET:g} s on {_shorten(text)!r}"
                    raise self._too_slow(how) from None
                wall *= 4
            finally:
                self._spent += time.thread_time() - started
        if self._spent > TOTAL_BUDGET:
            raise self._too_slow(f"more than {TOTAL_BUDGET:g} s in all")
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = found
        return found

    def _too_slow(self, how: str) -> PatternTooSlowError:
        return PatternTooSlowError(
            f"the regular expression {self.pattern!r} is too slow ({how}): it backtracks "
            "catastrophically; simplify it (e.g. avoid nested repeats like '(a+)+')",
            self.label,
        )


def probe_texts(source: str) -> list[str]:
    """Texts that make backtracking patterns explode.

    Runs of the pattern's own characters (and common ones), alone and followed by a character
    that fails the match.
    """
    chars = sorted({c for c in source if c.isalnum()} | set(_PROBE_CHARS))[:32]
    runs = [c * _PROBE_LENGTH for c in chars]
    runs += [(a + b) * (_PROBE_LENGTH // 2) for a, b in itertools.pairwise(chars)]
    return [t for run in runs for t in (run, run + "\x00", run + "!")]


def check_cost(pattern: UserPattern, *, anchored: bool) -> None:
    """Raise `PatternTooSlowError` when the pattern is too slow on the probe texts.

    Each probe has the match budget, and all probes together have it too (so validating a
    pattern costs at most about twice the budget). `anchored`: tried like `match`, as album
    name patterns are; else like `search`.
    """
    method = pattern._compiled.match if anchored else pattern._compiled.search  # noqa: SLF001
    started = time.thread_time()
    for text in probe_texts(pattern.pattern):
        try:
            method(text, timeout=MATCH_BUDGET)
        except TimeoutError:
            how = f"more than {MATCH_BUDGET:g} s on {_shorten(text)!r}"
            raise pattern._too_slow(how) from None  # noqa: SLF001
        if time.thread_time() - started > MATCH_BUDGET:
            how = f"more than {MATCH_BUDGET:g} s on {_PROBE_LENGTH}-character test names"
            raise pattern._too_slow(how)  # noqa: SLF001
