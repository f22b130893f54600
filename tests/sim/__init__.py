"""The Immich simulator: a stateful aiohttp.web stand-in for Immich, plus a library generator."""

from .faults import Faults, SimStats
from .library import SimLibrary
from .records import SimAlbum, SimAsset, SimTag, SimUser
from .server import Simulator, assert_no_violations

__all__ = [
    "Faults",
    "SimAlbum",
    "SimAsset",
    "SimLibrary",
    "SimStats",
    "SimTag",
    "SimUser",
    "Simulator",
    "assert_no_violations",
]
