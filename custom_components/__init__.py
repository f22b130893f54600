"""Custom integrations (lets tests import custom_components.immich_autotag)."""
