"""Errors raised by the Immich client: a small hierarchy the engine and HA map to outcomes."""

from .models import NEWEST_TESTED

SUPPORTED_TEXT = " and ".join(f"v{major}.x" for major in sorted(NEWEST_TESTED))


class ImmichError(Exception):
    """Base class of every error the client raises."""


class ImmichConnectionError(ImmichError):
    """The server could not be reached (DNS, refused, reset, timeout) after retries."""


class ImmichAuthError(ImmichError):
    """401: the API key is missing, invalid or revoked."""


class ImmichPermissionError(ImmichError):
    """403: the key lacks a permission; `permission` names it when the server said which."""

    def __init__(self, message: str, permission: str | None = None) -> None:
        super().__init__(message)
        self.permission = permission


class ImmichNotFoundError(ImmichError):
    """400/404 "not found or no access" for a resource."""


class ImmichBadRequestError(ImmichError):
    """400 validation failure: the request was rejected as invalid."""


class ImmichRateLimitedError(ImmichError):
    """429/503 persisted after every retry."""


class ImmichServerError(ImmichError):
    """5xx persisted after every retry."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class ImmichInvalidResponseError(ImmichError):
    """The server answered with malformed JSON or an unexpected shape."""


class ImmichUnsupportedVersionError(ImmichError):
    """The server is older than v2.0 or of a major version the client does not know."""

    def __init__(self, version: str) -> None:
        super().__init__(f"Immich {version} is not supported (supported: {SUPPORTED_TEXT})")
        self.version = version


# The errors that mean "the server cannot be used right now" (try again later).
CONNECT_ERRORS: tuple[type[ImmichError], ...] = (
    ImmichConnectionError,
    ImmichServerError,
    ImmichRateLimitedError,
    ImmichInvalidResponseError,
)
