"""End-to-end tests talk to the simulator over real loopback HTTP."""

import pytest

from tests.loopback import allow_loopback


@pytest.fixture(autouse=True)
def loopback_sockets() -> None:
    """The HA test plugin blocks sockets; these tests reach the simulator on localhost."""
    allow_loopback()
