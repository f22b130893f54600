"""The headless command `immich-autotag` (no Home Assistant).

This package, `engine/` and `immich/` are what `pip install .` ships, as the `immich_autotag`
package (see docs/architecture.md). It must never import Home Assistant.
"""
