"""Fixtures for every test folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sim.server import recording_simulators


@pytest.fixture(autouse=True)
def simulators_speak_the_spec() -> Iterator[None]:
    """Every simulator a test creates sees and sends only spec-valid requests and responses.

    Requests are validated against the OpenAPI spec of the Immich version the simulator
    emulates, and so are its successful responses (tests/sim/openapi.py). A test that sends an
    invalid request on purpose asserts the violation and clears `sim.stats.violations`.
    """
    with recording_simulators() as created:
        yield
    problems = [v for sim in created for v in (*sim.stats.violations, *sim.response_violations)]
    assert not problems, "OpenAPI violations:\n" + "\n".join(dict.fromkeys(problems))
