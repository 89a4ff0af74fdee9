"""Errors a client can cause, each carrying the HTTP status it maps to.

Domain code raises these (or the older domain errors mapped in `assistant.api.errors`);
the API turns them into one JSON shape. Messages are shown to the client, so they never
name another shop's or user's objects or hold PII.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra
        self.headers = headers


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class NotFound(AppError):
    """Also what another shop's or user's object looks like: it exists for nobody else."""

    status = 404
    code = "not_found"


class Conflict(AppError):
    status = 409
    code = "conflict"


class Unprocessable(AppError):
    status = 422
    code = "unprocessable"


class RateLimited(AppError):
    """Too many attempts of one kind; `Retry-After` says when to try again."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after))})
        self.retry_after = retry_after


class Unavailable(AppError):
    """The database cannot be reached, or every connection is busy: nothing was changed,
    and the same request may be sent again after `Retry-After`."""

    status = 503
    code = "unavailable"

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after))})


class UpstreamFailed(AppError):
    status = 502
    code = "model_failed"


class UpstreamTimeout(AppError):
    status = 504
    code = "model_timeout"
