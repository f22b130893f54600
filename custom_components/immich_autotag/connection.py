"""How an entry reaches its server: one limiter per server URL, the client on HA's session."""

from __future__ import annotations

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

LIMITERS: HassKey[dict[str, Limiter]] = HassKey(f"{DOMAIN}_limiters")

type Limits = tuple[int, float | None]


def entry_limits(entry: ConfigEntry) -> Limits:
    """(max concurrency, max requests per second or None) from the options."""
    concurrency = int(entry.options.get(CONF_MAX_CONCURRENCY, DEFAULT_MAX_CONCURRENCY))
    rps = float(entry.options.get(CONF_MAX_RPS, DEFAULT_MAX_RPS))
    return max(1, concurrency), (rps if rps > 0 else None)


@callback
def async_shared_limiter(hass: HomeAssistant, url: str, limits: Limits) -> Limiter:
    """The limiter of a server, shared by every entry that talks to it (created lazily)."""
    limiters = hass.data.setdefault(LIMITERS, {})
    limiter = limiters.get(url)
    if limiter is None:
        limiter = limiters[url] = Limiter(limits[0], limits[1])
    return limiter


def build_client(hass: HomeAssistant, entry: ConfigEntry, limiter: Limiter) -> ImmichClient:
    """An Immich client on Home Assistant's shared session."""
    verify_ssl = bool(entry.data[CONF_VERIFY_SSL])
    return ImmichClient(
        async_get_clientsession(hass, verify_ssl),
        entry.data[CONF_URL],
        entry.data[CONF_API_KEY],
        limiter=limiter,
        verify_ssl=verify_ssl,
    )
