"""Reliability tests talk to the simulator over real loopback HTTP."""

import logging
from collections.abc import Iterator

import pytest

from tests.loopback import loopback_sockets, no_loop_debug  # noqa: F401 - autouse fixtures


@pytest.fixture(autouse=True)
def quiet_injected_resets() -> Iterator[None]:
    """Injected connection resets make aiohttp's server log a traceback each; hide them."""
    server_log = logging.getLogger("aiohttp.server")
    level = server_log.level
    server_log.setLevel(logging.CRITICAL)
    yield
    server_log.setLevel(level)
