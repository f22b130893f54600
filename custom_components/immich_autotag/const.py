"""Constants of the Immich AutoTag integration."""

from typing import Final

from .engine.permissions import WRITE_PERMISSIONS
from .immich import limiter

DOMAIN: Final = "immich_autotag"

CONF_RULES: Final = "rules"
CONF_RUN_INTERVAL: Final = "run_interval"  # minutes, 0 = off
CONF_MAX_CONCURRENCY: Final = "max_concurrency"  # the ceiling of the adaptive in-flight limit
CONF_MAX_RPS: Final = "max_rps"  # 0 = unlimited
CONF_NOTIFY: Final = "notify"  # persistent notification when a run needs attention
CONF_WATCH_INTERVAL: Final = "watch_interval"  # minutes between checks for new photos, 0 = off
CONF_WATCH_SETTLE: Final = "watch_settle"  # minutes new photos must stay unchanged before a run

DEFAULT_RUN_INTERVAL: Final = 0
DEFAULT_MAX_CONCURRENCY: Final = limiter.DEFAULT_MAX_CONCURRENCY  # 32
MAX_CONCURRENCY: Final = limiter.MAX_CONCURRENCY  # 64
# Before the limit adapted, 4 was the default number of requests in flight; options saved
# with it move to the new default ceiling (config entry minor version 2).
LEGACY_DEFAULT_MAX_CONCURRENCY: Final = 4
DEFAULT_MAX_RPS: Final = 0.0
MAX_RPS: Final = limiter.MAX_RPS
DEFAULT_NOTIFY: Final = False
DEFAULT_WATCH_INTERVAL: Final = 0
DEFAULT_WATCH_SETTLE: Final = 10

EVENT_RUN_FINISHED: Final = f"{DOMAIN}_run_finished"

# The API key's permissions. Without a required one a run cannot read the library; each
# optional one enables a feature and is only used when the key holds it (the engine leaves
# out the writes a key may not do; `asset.statistics` lets pages be fetched concurrently).
REQUIRED_PERMISSIONS: Final = frozenset({"user.read", "asset.read", "tag.read", "album.read"})
SLOW_READS: Final = "asset pages are read one after another (slower on large libraries)"
OPTIONAL_PERMISSIONS: Final = frozenset({*WRITE_PERMISSIONS, "asset.statistics"})
