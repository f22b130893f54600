"""Tests of the Immich simulator."""
