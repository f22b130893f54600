"""Constants of the Immich AutoTag integration."""

from typing import Final

DOMAIN: Final = "immich_autotag"

CONF_RULES: Final = "rules"
CONF_RUN_INTERVAL: Final = "run_interval"  # minutes, 0 = off
CONF_MAX_CONCURRENCY: Final = "max_concurrency"
CONF_MAX_RPS: Final = "max_rps"  # 0 = unlimited

DEFAULT_RUN_INTERVAL: Final = 0
DEFAULT_MAX_CONCURRENCY: Final = 4
DEFAULT_MAX_RPS: Final = 0.0

EVENT_RUN_FINISHED: Final = f"{DOMAIN}_run_finished"

# SPEC §2: the minimal permission set of the API key.
REQUIRED_PERMISSIONS: Final = frozenset(
    {
        "user.read",
        "server.about",
        "asset.read",
        "asset.update",
        "tag.read",
        "tag.create",
        "tag.asset",
        "tag.delete",
        "album.read",
        "album.create",
        "album.update",
        "album.delete",
        "albumAsset.create",
        "albumAsset.delete",
        "albumUser.create",
        "albumUser.update",
        "albumUser.delete",
        "duplicate.read",
    }
)
