"""Immich AutoTag: keeps an Immich library organised by rules."""
