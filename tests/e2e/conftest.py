"""End-to-end tests talk to the simulator over real loopback HTTP."""

import pytest
import pytest_socket


@pytest.fixture(autouse=True)
def loopback_sockets() -> None:
    """The HA test plugin blocks sockets; these tests need 127.0.0.1."""
    pytest_socket.enable_socket()
    pytest_socket.socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)
