"""End-to-end tests talk to the simulator over real loopback HTTP."""

from tests.loopback import loopback_sockets, no_loop_debug  # noqa: F401 - autouse fixtures
