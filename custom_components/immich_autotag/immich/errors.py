"""Errors raised by the Immich client: a small hierarchy the engine and HA map to outcomes."""

from .models import NEWEST_TESTED

SUPPORTED_TEXT = " and ".join(f"v{major}.x" for major in sorted(NEWEST_TESTED))


class ImmichError(Exception):
    """Base class of every error the client raises."""


class ImmichConnectionError(ImmichError):
    """The server could not be used (DNS, refused, reset, timeout, outage) after retries.

    It stops a run: nothing more can be done until the server is back.
    """


class ImmichTimeoutError(ImmichConnectionError):
    """The server accepted the request but did not answer in time, over every attempt."""


class ImmichServerUnavailableError(ImmichConnectionError):
    """Every request failed (5xx, refused, reset) for longer than a restart takes."""


class ImmichRedirectError(ImmichConnectionError):
    """The server answered with a redirect; the client never follows one.

    `target` is where it points; `suggested_url` the server URL to configure instead, when
    the target is this same API at another address (else None).
    """

    def __init__(self, message: str, target: str, suggested_url: str | None) -> None:
        super().__init__(message)
        self.target = target
        self.suggested_url = suggested_url


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


class ImmichRateLimitedError(ImmichConnectionError):
    """The server kept asking to wait (429/503) beyond the retry budget."""


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
