"""Async client for the Immich server API (no Home Assistant imports)."""
