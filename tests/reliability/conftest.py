"""Reliability tests talk to the simulator over real loopback HTTP."""

import asyncio
import logging
from collections.abc import Iterator

import pytest

from tests.loopback import loopback_sockets  # noqa: F401 - an autouse fixture here


@pytest.fixture(autouse=True)
async def enable_event_loop_debug() -> None:
    """Override the HA plugin's debug loop: it makes these HTTP-heavy tests ~10x slower."""
    asyncio.get_running_loop().set_debug(False)


@pytest.fixture(autouse=True)
def quiet_injected_resets() -> Iterator[None]:
    """Injected connection resets make aiohttp's server log a traceback each; hide them."""
    server_log = logging.getLogger("aiohttp.server")
    level = server_log.level
    server_log.setLevel(logging.CRITICAL)
    yield
    server_log.setLevel(level)
