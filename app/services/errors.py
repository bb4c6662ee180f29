"""Exceptions of the service layer. The web layer maps each to an HTTP status and the JSON
error shape ``{"error": {"code", "message", "fields"}}`` (docs/api.md)."""

from __future__ import annotations


class ServiceError(Exception):
    """Base class: ``code`` is a stable machine-readable string, the message is for people."""

    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})


class NotFoundError(ServiceError):
    """The object does not exist, or it belongs to someone else (indistinguishable on purpose)."""

    code = "not_found"


class ConflictError(ServiceError):
    """The request clashes with the current state (email taken, stale version, run finished)."""

    code = "conflict"


class InvalidInputError(ServiceError):
    """Well-formed JSON with wrong values; ``fields`` maps a path to what is allowed."""

    code = "validation_failed"


class NotAvailableError(ServiceError):
    """A valid request for a feature that is not available in this version or configuration."""

    code = "not_available"


class UpstreamUnavailableError(ServiceError):
    """A data provider we depend on cannot be reached right now; retrying later may work."""

    code = "upstream_unavailable"


class RateLimitedError(ServiceError):
    """Too many attempts; retry after ``retry_after`` seconds."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthenticationError(ServiceError):
    """Wrong email or password (never says which)."""

    code = "invalid_credentials"
