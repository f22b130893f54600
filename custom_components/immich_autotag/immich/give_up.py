"""What one attempt got (`Answer`), and the error of a request the transport gives up on.

The error says why the transport stopped (`retry.GiveUp`): no answer in time, the server kept
asking to wait, an outage that outlasted its budget, an unreachable server, or a final error
status (`answers.map_error`).
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from .answers import map_error
from .errors import (
    ImmichConnectionError,
    ImmichError,
    ImmichRateLimitedError,
    ImmichServerUnavailableError,
    ImmichTimeoutError,
)
from .retry import GiveUp, RequestRetry


@dataclass(frozen=True, slots=True)
class Answer:
    """What one attempt got: a status and body, or the error that stopped it."""

    status: int = 0
    raw: bytes = b""
    retry_after: str | None = None
    location: str | None = None
    error: BaseException | None = None
    sent: float = 0.0  # when it was sent (monotonic), once it had a limiter slot
    elapsed: float = 0.0  # how long it took from there


def give_up_error(why: GiveUp, endpoint: str, answer: Answer, state: RequestRetry) -> ImmichError:
    """The error of a request that is not retried again."""
    error = answer.error
    attempts = f"{state.attempts} attempt{'s' if state.attempts != 1 else ''}"
    if isinstance(error, TimeoutError):
        return _no_answer(why, endpoint, error, state, attempts)
    if why is GiveUp.THROTTLED:
        return ImmichRateLimitedError(
            f"{endpoint}: the server kept asking to wait (HTTP {answer.status}) for"
            f" {state.throttled:.0f} s ({attempts}); giving up"
        )
    if why is GiveUp.OUTAGE:
        return ImmichServerUnavailableError(
            f"{endpoint}: the server failed every request for"
            f" {state.elapsed_in_outage:.0f} s (last: {describe(answer)}, {attempts})"
        )
    if error is not None:
        return ImmichConnectionError(f"{endpoint}: cannot reach the server ({describe(answer)})")
    return map_error(answer.status, answer.raw, endpoint)


def _no_answer(
    why: GiveUp, endpoint: str, error: TimeoutError, state: RequestRetry, attempts: str
) -> ImmichTimeoutError:
    """The error of a request whose last attempt got no answer in time."""
    waited = state.no_answer
    if why is GiveUp.OUTAGE:
        waited = max(waited, state.elapsed_in_outage)
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return ImmichTimeoutError(
            f"{endpoint}: could not connect to the server within {waited:.0f} s ({attempts})"
        )
    return ImmichTimeoutError(f"{endpoint} did not answer within {waited:.0f} s ({attempts})")


def describe(answer: Answer) -> str:
    """A short description of a failed attempt, for logs and messages."""
    if answer.error is None:
        return f"HTTP {answer.status}"
    text = str(answer.error)
    return f"{type(answer.error).__name__}: {text}" if text else type(answer.error).__name__
