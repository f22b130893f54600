"""In-memory Immich state for the simulator: users, keys, assets, tags, albums.

The records it holds are compact for large libraries (`records.py`). A fluent builder API makes
hand-built scenarios short, and the read-back helpers (`asset_tags`, `album_by_name`,
`album_assets`, ...) serve assertions.

Metadata jobs model what a real Immich (measured on v3.1) does after a date write: it writes an
XMP sidecar holding the asset's tags of that moment and re-extracts the metadata about half a
second later. The re-extraction moves `fileCreatedAt`/`localDateTime` to the new date and resets
the asset's tags to the sidecar's, so tags added (or removed) between the date write and the
re-extraction are undone (upstream immich-app/immich issue 16747).
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import datetime

from .dates import to_ms, zone_offset_ms
from .records import SimAlbum, SimApiKey, SimAsset, SimTag, SimUser

_NOW_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z, the simulator's fixed "upload" clock


@dataclass(slots=True)
class MetadataJob:
    """A queued re-extraction after a date write; `sidecar` = asset id -> its tags then.

    `sidecar` is None when the job leaves tags alone (the race model switched off).
    """

    asset_ids: tuple[str, ...]
    sidecar: dict[str, frozenset[str]] | None


class SimLibrary:
    """The simulator's whole state, with a builder API for tests."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)
        self.users: dict[str, SimUser] = {}
        self.keys: dict[str, SimApiKey] = {}
        self.assets: dict[str, SimAsset] = {}
        self.tags: dict[str, SimTag] = {}
        self.albums: dict[str, SimAlbum] = {}
        self.clock_ms = _NOW_MS
        self.revision = 0  # bumped by every mutation (search caches key on it)
        self.pending_ids: set[str] = set()  # assets awaiting a metadata job (O(pending) jobs)
        self.metadata_jobs: list[MetadataJob] = []  # queued, oldest first
        self.tags_reset = 0  # tag links a re-extraction added or removed (the race, counted)

    # -- ids and clock ---------------------------------------------------------------------
    def new_id(self) -> str:
        """A deterministic UUID v4 string."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    @staticmethod
    def duplicate_group(label: str) -> str:
        """Immich's duplicate ids are UUID v4s: a label such as "g1" stands for one (per label)."""
        try:
            return str(uuid.UUID(label))
        except ValueError:
            digest = hashlib.sha256(label.encode()).digest()[:16]
            return str(uuid.UUID(bytes=digest, version=4))

    def tick(self) -> int:
        """Advance the library clock by one second and return it (ms)."""
        self.clock_ms += 1000
        self.revision += 1
        return self.clock_ms

    # -- builders --------------------------------------------------------------------------
    def add_user(self, email: str, name: str | None = None) -> SimUser:
        """Add a user."""
        user = SimUser(self.new_id(), email, name or email.split("@", 1)[0])
        self.users[user.id] = user
        self.revision += 1
        return user

    def add_api_key(
        self,
        user: SimUser,
        permissions: set[str] | frozenset[str] = frozenset({"all"}),
        name: str = "autotag",
    ) -> str:
        """Create an API key for `user`; returns the secret to send as `x-api-key`."""
        secret = f"sim-{self._rng.getrandbits(64):016x}"
        self.keys[secret] = SimApiKey(self.new_id(), secret, user.id, name, frozenset(permissions))
        return secret

    def add_asset(  # noqa: PLR0917
        self,
        owner: SimUser,
        file_name: str,
        path: str | None = None,
        taken: datetime | None = None,
        time_zone: str | None = "UTC",
        duplicate_id: str | None = None,
        visibility: str = "timeline",
        *,
        exif: bool = True,
        trashed: bool = False,
        asset_id: str | None = None,
    ) -> SimAsset:
        """Add an asset. `taken` naive = wall clock in `time_zone`; aware = the instant.

        With `exif=False` (or `time_zone=None` and no `taken`), the asset has no exif date.
        """
        taken = taken or datetime(2020, 1, 1, 12, 0, 0)
        if taken.tzinfo is None:
            wall_ms = to_ms(taken)
            offset = zone_offset_ms(time_zone, wall_ms)
            instant = wall_ms - zone_offset_ms(time_zone, wall_ms - offset)
        else:
            instant = to_ms(taken)
        local = instant + zone_offset_ms(time_zone, instant)
        asset = SimAsset(
            asset_id or self.new_id(),
            owner.id,
            file_name,
            path or f"/photos/{file_name}",
            instant,
            local,
            instant if exif else None,
            time_zone if exif else None,
            self.duplicate_group(duplicate_id) if duplicate_id else None,
            visibility,
            trashed,
            self.clock_ms,
        )
        self.assets[asset.id] = asset
        self.revision += 1
        return asset

    def add_tag(self, owner: SimUser | str, path: str) -> SimTag:
        """Upsert a tag path (creating parents) for a user; returns the leaf."""
        owner_id = owner if isinstance(owner, str) else owner.id
        parent: SimTag | None = None
        value = ""
        for part in path.strip("/").split("/"):
            value = f"{value}/{part}" if value else part
            found = self.tag_by_value(owner_id, value)
            if found is None:
                found = SimTag(
                    self.new_id(),
                    owner_id,
                    value,
                    parent.id if parent else None,
                    self.clock_ms,
                    self.clock_ms,
                )
                self.tags[found.id] = found
                self.revision += 1
            parent = found
        assert parent is not None
        return parent

    def tag_asset(self, tag: SimTag, *assets: SimAsset | str) -> int:
        """Link assets to a tag; returns the number of new links."""
        before = len(tag.assets)
        tag.assets.update(a if isinstance(a, str) else a.id for a in assets)
        self.revision += 1
        return len(tag.assets) - before

    def add_album(
        self,
        owner: SimUser,
        name: str,
        assets: list[SimAsset] | list[str] | tuple[SimAsset | str, ...] = (),
        users: list[tuple[SimUser, str]] | None = None,
        description: str = "",
    ) -> SimAlbum:
        """Add an album with members and shares (`users=[(user, "editor"|"viewer")]`)."""
        now = self.tick()
        album = SimAlbum(self.new_id(), owner.id, name, now, now, description)
        for item in assets:
            album.assets[item if isinstance(item, str) else item.id] = None
        for user, role in users or []:
            album.users[user.id] = role
        album.thumbnail_id = next(iter(album.assets), None)
        self.albums[album.id] = album
        return album

    # -- read-back helpers -----------------------------------------------------------------
    def user_by_email(self, email: str) -> SimUser:
        """The user with that email."""
        return next(u for u in self.users.values() if u.email == email)

    def asset(self, asset_id: str) -> SimAsset:
        """One asset (current dates)."""
        return self.assets[asset_id]

    def tag_by_value(self, owner: SimUser | str, value: str) -> SimTag | None:
        """A user's tag by full path."""
        owner_id = owner if isinstance(owner, str) else owner.id
        for tag in self.tags.values():
            if tag.owner_id == owner_id and tag.value == value:
                return tag
        return None

    def tags_of_user(self, owner: SimUser | str) -> dict[str, SimTag]:
        """A user's tags by path."""
        owner_id = owner if isinstance(owner, str) else owner.id
        return {t.value: t for t in self.tags.values() if t.owner_id == owner_id}

    def asset_tags(self, asset_id: str) -> set[str]:
        """Paths of the tags directly linked to an asset."""
        return {t.value for t in self.tags.values() if asset_id in t.assets}

    def tag_closure(self, tag_id: str) -> set[str]:
        """A tag and all its descendants (ids)."""
        root = self.tags[tag_id]
        prefix = root.value + "/"
        return {
            t.id
            for t in self.tags.values()
            if t.owner_id == root.owner_id and (t.id == tag_id or t.value.startswith(prefix))
        }

    def album_by_name(self, name: str) -> list[SimAlbum]:
        """All albums with that name."""
        return [a for a in self.albums.values() if a.name == name]

    def album_assets(self, album_id: str) -> set[str]:
        """Asset ids of an album."""
        return set(self.albums[album_id].assets)

    def asset_albums(self, asset_id: str) -> set[str]:
        """Names of the albums holding an asset."""
        return {a.name for a in self.albums.values() if asset_id in a.assets}

    # -- metadata jobs (the date/tag race of a real server) ---------------------------------
    def queue_metadata_job(self, asset_ids: list[str], *, reset_tags: bool) -> MetadataJob:
        """Queue the re-extraction that follows a date write; the sidecar holds today's tags."""
        sidecar: dict[str, frozenset[str]] | None = None
        if reset_tags:
            wanted = set(asset_ids)
            found: dict[str, set[str]] = {a: set() for a in asset_ids}
            for tag in self.tags.values():
                for asset_id in tag.assets & wanted:
                    found[asset_id].add(tag.value)
            sidecar = {a: frozenset(v) for a, v in found.items()}
        job = MetadataJob(tuple(asset_ids), sidecar)
        self.metadata_jobs.append(job)
        return job

    def run_metadata_job(self, job: MetadataJob) -> int:
        """Run one queued job (no-op when it already ran); returns the assets whose dates moved."""
        try:
            self.metadata_jobs.remove(job)
        except ValueError:
            return 0
        moved = 0
        now = self.tick()
        for asset_id in job.asset_ids:
            asset = self.assets.get(asset_id)
            if asset is None:
                continue
            if asset.pending is not None:
                asset.file_created_ms, asset.local_ms = asset.pending
                asset.pending = None
                self.pending_ids.discard(asset_id)
                moved += 1
            if job.sidecar is not None:
                self._reset_tags(asset, job.sidecar.get(asset_id, frozenset()))
            asset.updated_ms = now
        return moved

    def _reset_tags(self, asset: SimAsset, sidecar: frozenset[str]) -> None:
        """Set the asset's direct tags to the sidecar's (recreating deleted ones by value)."""
        mine = [t for t in self.tags.values() if t.owner_id == asset.owner_id]
        for tag in mine:
            linked = asset.id in tag.assets
            if linked != (tag.value in sidecar):
                (tag.assets.discard if linked else tag.assets.add)(asset.id)
                self.tags_reset += 1
        for value in sidecar - {t.value for t in mine}:
            self.add_tag(asset.owner_id, value).assets.add(asset.id)
            self.tags_reset += 1

    def run_metadata_jobs(self) -> int:
        """Run every queued job now; returns the assets whose dates moved."""
        done = sum(self.run_metadata_job(job) for job in list(self.metadata_jobs))
        for asset_id in self.pending_ids:  # pending without a job (set up by hand in tests)
            asset = self.assets.get(asset_id)
            if asset is not None and asset.pending is not None:
                asset.file_created_ms, asset.local_ms = asset.pending
                asset.pending = None
                done += 1
        self.pending_ids.clear()
        self.revision += 1
        return done

    def summary(self) -> dict[str, int]:
        """Counts for `/__sim/state`."""
        return {
            "users": len(self.users),
            "assets": len(self.assets),
            "tags": len(self.tags),
            "tagLinks": sum(len(t.assets) for t in self.tags.values()),
            "albums": len(self.albums),
            "albumLinks": sum(len(a.assets) for a in self.albums.values()),
            "pendingDates": len(self.pending_ids),
            "metadataJobs": len(self.metadata_jobs),
            "tagsReset": self.tags_reset,
        }
