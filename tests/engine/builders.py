"""Build `Library` objects by hand for pure engine tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime

from custom_components.immich_autotag.engine.library import AssetRecord, Library
from custom_components.immich_autotag.engine.state import State
from custom_components.immich_autotag.immich.models import Album, AlbumUser, Tag, User

ME = User(id="00000000-0000-4000-8000-000000000001", email="me@example.com", name="Me")
OTHER = User(id="00000000-0000-4000-8000-000000000002", email="other@example.com", name="Other")

_ids = itertools.count(1)


def new_id(kind: int = 0xA) -> str:
    """A fresh UUID-shaped id."""
    return f"{kind:08x}-0000-4000-8000-{next(_ids):012x}"


@dataclass
class LibraryBuilder:
    """Fluent builder: assets, tags (closure handled), albums, users."""

    me: User = ME
    lib: Library = field(init=False)
    _tag_direct: dict[str, set[int]] = field(default_factory=dict)
    _album_members: dict[str, set[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lib = Library(me=self.me, users=[self.me, OTHER])

    def asset(
        self,
        name: str = "IMG_0001.jpg",
        *,
        folder: str = "/photos",
        instant: datetime | None = None,
        time_zone: str | None = "UTC",
        duplicate_id: str | None = None,
        owned: bool = True,
        tags: tuple[str, ...] = (),
        albums: tuple[str, ...] = (),
        asset_id: str | None = None,
    ) -> int:
        """Add an asset; `albums` are album ids (see `album`)."""
        rec = AssetRecord(
            id=asset_id or new_id(0xA),
            file_name=name,
            folder=folder,
            instant=instant or datetime(2020, 1, 1, 12, tzinfo=UTC),
            time_zone=time_zone,
            duplicate_id=duplicate_id,
            owned=owned,
        )
        n = self.lib.add_asset(rec)
        for t in tags:
            self.tag(t, n)
        for a in albums:
            self._album_members.setdefault(a, set()).add(n)
        return n

    def tag(self, path: str, *assets: int) -> Tag:
        """Create the tag (and its parents) and tag assets with it."""
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            p = "/".join(parts[:i])
            if p not in self.lib.tags:
                self.lib.tags[p] = Tag(id=new_id(0xB), name=parts[i - 1], value=p)
        self._tag_direct.setdefault(path, set()).update(assets)
        return self.lib.tags[path]

    def album(
        self,
        name: str,
        *assets: int,
        owner: User = ME,
        users: tuple[AlbumUser, ...] = (),
        created_at: str = "2020-01-01T00:00:00.000Z",
        loaded: bool = True,
        foreign: int = 0,
    ) -> str:
        """Create an album with members; returns its id."""
        album_id = new_id(0xC)
        self.lib.albums[album_id] = Album(
            id=album_id,
            name=name,
            owner_id=owner.id,
            asset_count=len(assets) + foreign,
            updated_at=created_at,
            created_at=created_at,
            users=users,
        )
        if loaded:
            self._album_members[album_id] = set(assets)
            if foreign:
                self.lib.album_foreign[album_id] = foreign
        return album_id

    def build(self) -> Library:
        """Finish: closure of tag members, album members, duplicate groups."""
        members: dict[str, set[int]] = {p: set() for p in self.lib.tags}
        for path, assets in self._tag_direct.items():
            parts = path.split("/")
            for i in range(1, len(parts) + 1):
                members["/".join(parts[:i])].update(assets)
        self.lib.tag_members = {p: frozenset(s) for p, s in members.items()}
        self.lib.album_members = {a: frozenset(s) for a, s in self._album_members.items()}
        self.lib.finish()
        return self.lib

    def state(self) -> State:
        """Build and wrap in a State whose scope is every owned asset."""
        lib = self.build()
        return State(lib, [n for n, rec in enumerate(lib.assets) if rec.owned])
