"""End-to-end tests talk to the simulator over real loopback HTTP."""

from tests.loopback import loopback_sockets  # noqa: F401 - an autouse fixture here
