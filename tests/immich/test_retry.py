"""The retry policy's decisions and its documented bounds, on a fake clock (no HTTP)."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace

import pytest

from custom_components.immich_autotag.immich.retry import (
    FAIL_FAST,
    RUN_POLICY,
    Failure,
    GiveUp,
    RequestRetry,
    RetryPolicy,
    ServerHealth,
    Timing,
    classify,
)

from .conftest import FakeTime


def _timing(fake_time: FakeTime) -> Timing:
    return Timing(fake_time.clock, fake_time.wall_clock, fake_time.sleep, random.Random(3))


class Probe:
    """A probe whose answer the test sets; counts how often it was asked."""

    def __init__(self, *, up: bool) -> None:
        self.up = up
        self.calls = 0

    async def __call__(self, _seconds: float) -> bool:
        self.calls += 1
        await asyncio.sleep(0)
        return self.up


def _health(fake_time: FakeTime, probe: Probe, *, answered: bool = True) -> ServerHealth:
    health = ServerHealth(_timing(fake_time), probe)
    if answered:
        health.success(fake_time.clock() - 1)  # the server answered before the failures
    return health


async def _drive(
    retry: RequestRetry, fake_time: FakeTime, failure: Failure, elapsed: float = 0.0
) -> tuple[int, GiveUp]:
    """Fail until the request gives up: (attempts, why)."""
    while True:
        fake_time.now += elapsed  # the failed attempt took this long
        outcome = await retry.next_delay(failure, None, elapsed)
        if isinstance(outcome, GiveUp):
            return retry.attempts, outcome
        await fake_time.sleep(outcome)


def test_classify() -> None:
    assert classify(429, None, None) is Failure.THROTTLED
    assert classify(503, None, 5.0) is Failure.THROTTLED
    assert classify(503, None, None) is Failure.ERROR  # no Retry-After: a proxy with no server
    assert classify(500, None, None) is Failure.ERROR
    assert classify(524, None, None) is Failure.ERROR
    assert classify(501, None, None) is Failure.FINAL
    assert classify(404, None, None) is Failure.FINAL
    assert classify(0, TimeoutError(), None) is Failure.NO_ANSWER
    assert classify(0, ConnectionResetError(), None) is Failure.ERROR


def test_timeouts_grow_with_the_size_of_the_request() -> None:
    assert RUN_POLICY.attempt_timeout() == 30.0
    assert RUN_POLICY.attempt_timeout(1000) == pytest.approx(50.0)  # a page, a bulk write
    assert RUN_POLICY.attempt_timeout(50_000) == RUN_POLICY.max_stall  # capped
    assert FAIL_FAST.attempt_timeout(1000) == 10.0


def test_documented_bounds() -> None:
    """The numbers docs/safety.md promises follow from the policies."""
    run, fast = RUN_POLICY, FAIL_FAST
    assert run.outage_ride_through >= 60  # a restart of at least a minute is ridden out
    backoffs = sum(run.delay(n, random.Random(0)) for n in range(run.error_attempts))
    assert run.max_stall + backoffs + run.probe_timeout <= 3 * 60  # a stall ends in 3 min
    assert fast.max_stall + fast.max_delay * (fast.error_attempts - 1) <= 12  # about 10 s
    assert fast.error_attempts == 2
    assert fast.outage_ride_through == 0


async def test_no_answer_stops_after_the_stall_budget(fake_time: FakeTime) -> None:
    """Pages of 1,000 (50 s an attempt) that never answer: 3 attempts, 150 s."""
    probe = Probe(up=True)
    retry = RequestRetry(
        RUN_POLICY, _timing(fake_time), _health(fake_time, probe), RUN_POLICY.attempt_timeout(1000)
    )
    attempts, why = await _drive(retry, fake_time, Failure.NO_ANSWER, elapsed=50.0)
    assert (attempts, why) == (3, GiveUp.NO_ANSWER)
    assert 150.0 <= retry.no_answer <= 150.0 + 2 * RUN_POLICY.base * 2  # plus two backoffs
    assert probe.calls == 0


async def test_the_last_attempt_gets_only_what_is_left_of_the_budget(fake_time: FakeTime) -> None:
    """The budget is wall time: waiting for a slot behind other stalled requests counts."""
    retry = RequestRetry(RUN_POLICY, _timing(fake_time), _health(fake_time, Probe(up=False)), 40)
    for _ in range(3):
        fake_time.now += 40  # the attempt
        assert isinstance(await retry.next_delay(Failure.NO_ANSWER, None, 40.0), float)
        fake_time.now += 1  # backoff and the wait for a slot
    assert retry.stall_left() == pytest.approx(150 - 3 * 41)
    assert retry.timeout == pytest.approx(150 - 3 * 40 - 2)


async def test_own_failure_gives_up_after_its_attempts(fake_time: FakeTime) -> None:
    probe = Probe(up=True)
    retry = RequestRetry(RUN_POLICY, _timing(fake_time), _health(fake_time, probe), 30)
    attempts, why = await _drive(retry, fake_time, Failure.ERROR)
    assert (attempts, why) == (RUN_POLICY.error_attempts, GiveUp.FINAL)
    assert probe.calls == 1


async def test_an_outage_is_ridden_out_for_its_time_then_reported(fake_time: FakeTime) -> None:
    probe = Probe(up=False)
    retry = RequestRetry(RUN_POLICY, _timing(fake_time), _health(fake_time, probe), 30)
    start = fake_time.clock()
    attempts, why = await _drive(retry, fake_time, Failure.ERROR)
    assert why is GiveUp.OUTAGE
    waited = fake_time.clock() - start
    assert RUN_POLICY.outage_ride_through - RUN_POLICY.max_delay < waited
    assert waited <= RUN_POLICY.outage_ride_through
    assert attempts > RUN_POLICY.error_attempts
    assert probe.calls == 1


async def test_a_server_that_never_answered_is_not_waited_for(fake_time: FakeTime) -> None:
    probe = Probe(up=False)
    health = _health(fake_time, probe, answered=False)
    retry = RequestRetry(RUN_POLICY, _timing(fake_time), health, 30)
    attempts, why = await _drive(retry, fake_time, Failure.ERROR)
    assert (attempts, why) == (RUN_POLICY.error_attempts, GiveUp.FINAL)
    assert probe.calls == 0


async def test_after_an_outage_the_budget_is_full_again(fake_time: FakeTime) -> None:
    """The server came back (a request sent later succeeded): 5 fresh attempts, no ride."""
    probe = Probe(up=False)
    health = _health(fake_time, probe)
    retry = RequestRetry(RUN_POLICY, _timing(fake_time), health, 30)
    for _ in range(RUN_POLICY.error_attempts + 2):  # into the outage
        delay = await retry.next_delay(Failure.ERROR, None, 0.0)
        assert isinstance(delay, float)
        await fake_time.sleep(delay)
    health.success(fake_time.clock() - 0.1)  # another request, sent just now, got through
    probe.up = True
    attempts_before = retry.attempts
    attempts, why = await _drive(retry, fake_time, Failure.ERROR)
    assert why is GiveUp.FINAL
    assert attempts - attempts_before == RUN_POLICY.error_attempts


async def test_a_success_of_a_request_sent_earlier_proves_nothing(fake_time: FakeTime) -> None:
    """Answers to requests sent before the failure do not make it the request's own."""
    probe = Probe(up=False)
    health = _health(fake_time, probe)
    retry = RequestRetry(RUN_POLICY, _timing(fake_time), health, 30)
    sent_before = fake_time.clock() - 0.5
    assert isinstance(await retry.next_delay(Failure.ERROR, None, 0.0), float)
    health.success(sent_before)  # in flight when the restart began, answered late
    _, why = await _drive(retry, fake_time, Failure.ERROR)
    assert why is GiveUp.OUTAGE


async def test_throttling_waits_what_the_server_asks_within_the_budget(
    fake_time: FakeTime,
) -> None:
    policy = replace(RUN_POLICY, throttle_wait_per_request=100.0, max_retry_after=30.0)
    retry = RequestRetry(policy, _timing(fake_time), _health(fake_time, Probe(up=True)), 30)
    waits = []
    while not isinstance(outcome := await retry.next_delay(Failure.THROTTLED, 45.0, 0), GiveUp):
        waits.append(outcome)
    assert waits == [30.0, 30.0, 30.0]  # clamped; a fourth would pass 100 s
    assert outcome is GiveUp.THROTTLED
    assert retry.errors == 0  # patience is not an error


async def test_a_run_stops_waiting_once_the_server_let_nothing_through_too_long(
    fake_time: FakeTime,
) -> None:
    """Per run: 30 min throttled without any success, summed over episodes."""
    policy = RetryPolicy(throttle_stuck_per_run=100.0, max_retry_after=60.0)
    health = _health(fake_time, Probe(up=True))
    health.start_run()
    for _ in range(2):  # two waits of 40 s, nothing succeeds: 80 s stuck
        since = fake_time.clock()
        await fake_time.sleep(40)
        health.throttled_until_now(since)
    assert health.stuck == 80.0
    health.success(fake_time.clock())  # progress: later waits start counting again from here
    since = fake_time.clock()
    await fake_time.sleep(10)
    health.throttled_until_now(since)
    assert health.stuck == 90.0
    retry = RequestRetry(policy, _timing(fake_time), health, 30)
    assert await retry.next_delay(Failure.THROTTLED, 5.0, 0) == 5.0
    assert await retry.next_delay(Failure.THROTTLED, 20.0, 0) is GiveUp.THROTTLED
    health.start_run()  # the next run has its budget again
    assert health.stuck == 0.0


async def test_concurrent_requests_share_one_probe(fake_time: FakeTime) -> None:
    probe = Probe(up=False)
    health = _health(fake_time, probe)
    results = await asyncio.gather(*(health.is_up(5.0, fresh_for=10.0) for _ in range(8)))
    assert results == [False] * 8
    assert probe.calls == 1
    assert await health.is_up(5.0, fresh_for=10.0) is False  # still fresh
    assert probe.calls == 1
    await fake_time.sleep(11)
    await health.is_up(5.0, fresh_for=10.0)
    assert probe.calls == 2
