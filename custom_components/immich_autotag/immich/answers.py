"""Reading the server's answers: JSON, error statuses, redirects, and the server URL.

`map_error` turns a final non-2xx answer into the client's error; `redirect_error` turns a
3xx into a clear error naming where the server points (the client never follows a redirect,
so the API key is only ever sent to the configured origin).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

from yarl import URL

from .errors import (
    ImmichAuthError,
    ImmichBadRequestError,
    ImmichError,
    ImmichInvalidResponseError,
    ImmichNotFoundError,
    ImmichPermissionError,
    ImmichRateLimitedError,
    ImmichRedirectError,
    ImmichServerError,
)

try:
    import orjson

    def dumps(value: Any) -> bytes:
        """JSON bytes."""
        return orjson.dumps(value)

    def loads(raw: bytes) -> Any:
        """Parsed JSON (raises ValueError)."""
        return orjson.loads(raw)

except ImportError:  # pragma: no cover - orjson ships with Home Assistant

    def dumps(value: Any) -> bytes:
        """JSON bytes."""
        return json.dumps(value, separators=(",", ":")).encode()

    def loads(raw: bytes) -> Any:
        """Parsed JSON (raises ValueError)."""
        return json.loads(raw)


_PERMISSION_RE: Final = re.compile(r"Missing required permission:\s*([A-Za-z0-9_.\-]+)")
_USERINFO: Final = re.compile(r"//[^/?#]*@")
_NOT_FOUND_RE: Final = re.compile(r"not found|no access|no .*access|not have access", re.IGNORECASE)


class UrlCredentialsError(ValueError):
    """A URL carrying `user:password@`: refused rather than silently dropped."""


def normalize_url(url: str) -> tuple[str, str]:
    """User input -> (web_url, api_url); accepts `/api` or not, trailing slashes, http(s).

    Without a scheme, `http://` is assumed (`192.168.1.10:2283`, `immich.local:2283`).
    Credentials in the URL (`user:password@`) are refused: the API key is the only sign-in.
    """
    text = url.strip() if isinstance(url, str) else ""
    if text and "://" not in text:
        text = f"http://{text}"
    shown = _USERINFO.sub("//", text.split("?")[0].split("#")[0])  # no password in messages
    try:
        parsed = URL(text)
    except (ValueError, TypeError) as err:
        raise ValueError(f"invalid URL: {shown!r}") from err
    host = parsed.host or ""
    if parsed.raw_user is not None or parsed.raw_password is not None:
        # Dropping them silently would leave a proxy's basic auth failing with a puzzling 401.
        raise UrlCredentialsError(
            f"invalid URL: it must not contain a user name or password (user:password@): {shown!r};"
            " Immich AutoTag signs in with the API key only"
        )
    if parsed.scheme not in {"http", "https"} or not host or any(c.isspace() for c in host):
        raise ValueError(f"invalid URL (need http(s)://host[:port]): {shown!r}")
    try:
        port = parsed.port
    except ValueError as err:
        raise ValueError(f"invalid port in URL: {shown!r}") from err
    path = parsed.path.rstrip("/")
    if path.lower().endswith("/api"):
        path = path[:-4].rstrip("/")
    if port is None:
        raise ValueError(f"invalid URL: {shown!r}")
    web = f"{str(parsed.origin()).rstrip('/')}{path}"
    return web, f"{web}/api"


def decode(raw: bytes, endpoint: str) -> Any:
    """A 2xx body as JSON (None when empty)."""
    if not raw.strip():
        return None
    try:
        return loads(raw)
    except ValueError as err:
        raise ImmichInvalidResponseError(f"{endpoint}: malformed JSON response") from err


def _message(body: Any) -> str:
    """The server's error message (v2 `message` may be a list; v3 has `errors`)."""
    if isinstance(body, Mapping):
        msg = body.get("message")
        if isinstance(msg, list):
            return "; ".join(str(m) for m in msg)[:500]
        if msg is not None:
            return str(msg)[:500]
    return ""


def map_error(status: int, raw: bytes, where: str) -> ImmichError:
    """Non-2xx status -> the client's error (final: after retries where retried)."""
    try:
        body = loads(raw) if raw else None
    except ValueError:
        body = None
    msg = _message(body) or raw[:200].decode("utf-8", "replace")
    text = f"{where}: HTTP {status}: {msg}"
    if status == 401:  # noqa: PLR2004
        return ImmichAuthError(text)
    if status == 403:  # noqa: PLR2004
        match = _PERMISSION_RE.search(msg)
        return ImmichPermissionError(text, match.group(1) if match else None)
    if status == 404 or (status == 400 and _NOT_FOUND_RE.search(msg)):  # noqa: PLR2004
        return ImmichNotFoundError(text)
    if status == 429 or status == 503:  # noqa: PLR2004, PLR1714
        return ImmichRateLimitedError(text)
    if status >= 500:  # noqa: PLR2004
        return ImmichServerError(text, status)
    return ImmichBadRequestError(text)


def redirect_error(
    endpoint: str, status: int, request_url: str, rel: str, location: str | None
) -> ImmichRedirectError:
    """A 3xx answer -> an error naming the target and, when it is this API elsewhere, the URL.

    `rel` is the request's path below `/api` (e.g. `/users/me`): a target ending in
    `/api/users/me` means the whole API moved, and its base is the URL to configure.
    """
    if not location:
        return ImmichRedirectError(
            f"{endpoint}: the server answers HTTP {status} (a redirect) without a target; "
            "check the server URL",
            "",
            None,
        )
    try:
        target = URL(request_url).join(URL(location))
    except ValueError:
        target = None
    shown = str(target.with_query(None).with_fragment(None)) if target is not None else location
    suggested = None
    if target is not None and target.scheme in {"http", "https"} and target.host:
        path = target.path.rstrip("/")
        if path.endswith(f"/api{rel}"):
            base = path[: -len(f"/api{rel}")]
            suggested = f"{str(target.origin()).rstrip('/')}{base}"
    if suggested is not None:
        message = f"the server redirects to {suggested}; use that URL"
    else:
        message = f"the server redirects to {shown} (not this Immich API); check the server URL"
    return ImmichRedirectError(f"{endpoint}: {message}", shown, suggested)
