"""The OpenAPI request validator."""

from __future__ import annotations

from tests.sim.openapi import SPEC_V3_0, SPEC_V3_2, validator_for

U = "0b4a5c2e-1234-4abc-8def-0123456789ab"


def test_valid_search_and_writes() -> None:
    v = validator_for("3.0.3")
    assert (
        v.validate("POST", "/search/metadata", {}, {"page": 1, "size": 1000, "withExif": True})
        == []
    )
    assert v.validate("PUT", "/tags/assets", {}, {"tagIds": [U], "assetIds": [U]}) == []
    assert v.validate("PUT", f"/albums/{U}/assets", {}, {"ids": [U]}) == []
    assert v.validate("POST", "/search/metadata", {}, {"tagIds": None}) == []
    assert (
        v.validate(
            "PUT", "/assets", {}, {"ids": [U], "dateTimeOriginal": "2019-07-14T18:30:00.000+02:00"}
        )
        == []
    )


def test_body_violations() -> None:
    v = validator_for("3.0.3")
    errors = v.validate("POST", "/search/metadata", {}, {"size": 1001, "order": "up", "page": 0})
    assert len(errors) == 3
    assert any("size" in e for e in errors)
    assert v.validate("POST", "/search/metadata", {}, None) == [
        "POST /search/metadata: missing required request body"
    ]
    assert v.validate("PUT", f"/albums/{U}/assets", {}, {"ids": ["nope"]})
    assert v.validate("PUT", "/tags/assets", {}, {"tagIds": [U]})  # assetIds required
    assert v.validate("POST", "/search/metadata", {}, {"takenAfter": "2020-01-01T00:00:00"})


def test_routes_and_query() -> None:
    v = validator_for("3.0.3")
    assert v.validate("GET", "/nope", {}, None) == ["GET /nope: unknown route"]
    assert v.validate("PATCH", "/tags/assets", {}, None) == [
        "PATCH /tags/assets: method not allowed"
    ]
    assert v.validate("GET", "/albums", {"isOwned": "true", "name": "x"}, None) == []
    assert v.validate("GET", "/albums", {"isOwned": "yes"}, None)
    assert v.validate("GET", "/albums", {"shared": "true"}, None)
    assert validator_for("2.7.3").validate("GET", "/albums", {"shared": "true"}, None) == []
    assert v.validate("GET", "/albums/not-a-uuid", {}, None)
    match = v.match("PUT", "/albums/assets")
    assert match is not None
    assert match.template == "/albums/assets"
    assert match.permission == "albumAsset.create"


def test_v32_filter_and_caching() -> None:
    v = validator_for("3.2.2")
    body = {
        "filter": {"tagIds": {"any": [U]}, "trashedAt": {"eq": None}},
        "orderBy": {"field": "fileCreatedAt", "direction": "asc"},
        "size": 1000,
        "cursor": "eyJvZmZzZXQiOjEwMDB9",
    }
    assert v.validate("POST", "/search/metadata", {}, body) == []
    assert v.validate("POST", "/search/metadata", {}, {"filter": {"tagIds": {"any": ["x"]}}})
    assert validator_for("3.2.0") is v
    assert validator_for("3.0.3") is validator_for("3.1.0")
    assert SPEC_V3_0.exists()
    assert SPEC_V3_2.exists()
