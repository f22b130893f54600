"""Tests that talk to the simulator over real HTTP: loopback sockets only, no loop debug.

The Home Assistant test plugin blocks sockets in every test. The simulator's URL names the
server `localhost` (see `Simulator.serve`), which resolves to 127.0.0.1 and, on many machines,
to ::1 as well; connections anywhere else stay blocked.
"""

from __future__ import annotations

import asyncio

import pytest
import pytest_socket

LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "::1"]


def allow_loopback() -> None:
    """Allow connections to the loopback addresses (and Unix sockets, which asyncio uses)."""
    pytest_socket.enable_socket()
    pytest_socket.socket_allow_hosts(LOOPBACK_HOSTS, allow_unix_socket=True)


@pytest.fixture(autouse=True)
def loopback_sockets() -> None:
    """Autouse in the folders whose conftest imports it: loopback HTTP is allowed."""
    allow_loopback()


@pytest.fixture(autouse=True)
async def no_loop_debug() -> None:
    """Autouse where imported: the HA plugin's debug loop records a stack per callback and task,
    which made these HTTP-heavy tests 2-10 times slower. The Home Assistant tests keep it."""
    asyncio.get_running_loop().set_debug(False)
