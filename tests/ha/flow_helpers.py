"""What the config and options flow tests share: a form's placeholders, keys, URLs, an answer."""

from __future__ import annotations

from collections.abc import Mapping

from homeassistant.config_entries import ConfigFlowResult

from custom_components.immich_autotag.immich.models import (
    ApiKeyInfo,
    ServerInfo,
    ServerVersion,
    User,
)

from .conftest import SimServer

CLOSED_URL = "http://localhost:9"  # discard port: connection refused
READ_ONLY = {"user.read", "asset.read", "tag.read", "album.read"}  # a key's permissions


def placeholders(result: ConfigFlowResult) -> Mapping[str, str]:
    """The description placeholders of a flow's result (which must have them)."""
    placeholders = result.get("description_placeholders")
    assert placeholders is not None
    return placeholders


def server_info(sim_server: SimServer) -> ServerInfo:
    """What a patched `connect()` answers: the simulator's user on v3.0.3 with every permission."""
    return ServerInfo(
        version=ServerVersion(3, 0, 3),
        user=User(sim_server.user.id, sim_server.user.email, sim_server.user.name),
        api_key=ApiKeyInfo("k", "autotag", frozenset({"all"})),
    )
