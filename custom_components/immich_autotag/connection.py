"""How an entry reaches its server: its client on HA's session and the server's one limiter.

Every entry on the same server URL (several Immich users) shares one `Limiter`, so the
server sees one concurrency ceiling. Its limits are the strictest of those entries' options,
read again whenever a client is handed out: an options change applies at the next run,
with or without a reload. The limiter is released when the last entry on the server unloads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util.hass_dict import HassKey

from .const import (
    CONF_MAX_CONCURRENCY,
    CONF_MAX_RPS,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RPS,
    DOMAIN,
)
from .immich.client import ImmichClient
from .immich.limiter import Limiter
from .immich.models import ServerInfo

type Limits = tuple[int, float | None]  # (max concurrency, max requests/second or None)


@dataclass
class ServerLimiter:
    """The limiter of one server and the entries that use it."""

    limiter: Limiter
    limits: Limits
    entries: dict[str, ConfigEntry] = field(default_factory=dict)


LIMITERS: HassKey[dict[str, ServerLimiter]] = HassKey(f"{DOMAIN}_limiters")


def entry_limits(entry: ConfigEntry) -> Limits:
    """(max concurrency, max requests per second or None) from the options."""
    concurrency = int(entry.options.get(CONF_MAX_CONCURRENCY, DEFAULT_MAX_CONCURRENCY))
    rps = float(entry.options.get(CONF_MAX_RPS, DEFAULT_MAX_RPS))
    return max(1, concurrency), (rps if rps > 0 else None)


def strictest(limits: list[Limits]) -> Limits:
    """The lowest concurrency and the lowest request rate (None = unlimited) of `limits`."""
    rates = [rps for _, rps in limits if rps is not None]
    return min(c for c, _ in limits), (min(rates) if rates else None)


class EntryConnection:
    """One entry's client, rebuilt when its server's limiter is."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        self._hass = hass
        self._entry = entry
        self._url: str = entry.data[CONF_URL]
        shared = hass.data.setdefault(LIMITERS, {}).get(self._url)
        if shared is None:
            limits = entry_limits(entry)
            shared = ServerLimiter(Limiter(*limits), limits)
            hass.data[LIMITERS][self._url] = shared
        shared.entries[entry.entry_id] = entry
        self._shared = shared
        self._server: ServerInfo | None = None  # kept across client rebuilds
        self.client = self._build(self._async_limiter())

    @property
    def limiter(self) -> Limiter:
        """The limiter of the entry's current client (shared with the server's other entries)."""
        return self.client.limiter

    @property
    def server(self) -> ServerInfo | None:
        """What the latest connection learned (version, user, key), once connected."""
        return self.client.server or self._server

    @callback
    def async_client(self) -> ImmichClient:
        """The client for the next run, on a limiter that has the server's current limits."""
        limiter = self._async_limiter()
        if limiter is not self.client.limiter:
            self._server = self.server
            self.client = self._build(limiter)
        return self.client

    @callback
    def async_release(self) -> None:
        """The entry unloads: forget it; the last entry of a server releases its limiter."""
        self._shared.entries.pop(self._entry.entry_id, None)
        limiters = self._hass.data.get(LIMITERS, {})
        if not self._shared.entries and limiters.get(self._url) is self._shared:
            del limiters[self._url]

    @callback
    def _async_limiter(self) -> Limiter:
        """The server's limiter, replaced when the strictest limits of its entries changed."""
        shared = self._shared
        limits = strictest([entry_limits(e) for e in shared.entries.values()])
        if limits != shared.limits:
            # Requests in flight finish on the old limiter; new clients take the new one.
            shared.limiter, shared.limits = Limiter(*limits), limits
        return shared.limiter

    def _build(self, limiter: Limiter) -> ImmichClient:
        verify_ssl = bool(self._entry.data[CONF_VERIFY_SSL])
        return ImmichClient(
            async_get_clientsession(self._hass, verify_ssl),
            self._url,
            self._entry.data[CONF_API_KEY],
            limiter=limiter,
            verify_ssl=verify_ssl,
        )
