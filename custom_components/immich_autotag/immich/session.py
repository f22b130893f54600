"""The HTTP session for running outside Home Assistant (the headless runner, scripts).

Name resolution uses `aiohttp.ThreadedResolver` (the system's `getaddrinfo` in a thread), so a
host name in the URL resolves whatever optional resolver packages (`aiodns`/`pycares`) happen to
be installed and however well their versions fit together. Inside Home Assistant the integration
uses Home Assistant's shared session instead.
"""

from __future__ import annotations

import aiohttp


def new_session() -> aiohttp.ClientSession:
    """A client session that resolves host names with the system resolver.

    Call it from a running event loop and close the session when done (`async with`).
    """
    connector = aiohttp.TCPConnector(resolver=aiohttp.ThreadedResolver())
    return aiohttp.ClientSession(connector=connector)
