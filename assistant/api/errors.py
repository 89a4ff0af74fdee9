"""The one place errors become HTTP responses, all in one JSON shape:
`{"error": code, "detail": message, "request_id": id}` (plus `fields` for validation).

Domain errors carry their status; the older domain errors are mapped here. Anything
unexpected is a 500 whose body says nothing about the cause; the cause is logged with the
request id. Messages never echo request values, which can hold PII.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID

import msgspec
import sqlalchemy.exc
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from assistant.errors import AppError, Unavailable
from assistant.estimates.drafts import EstimateError, VehicleNotFound
from assistant.logging import get_logger
from assistant.pii.reveal import InvalidRevealRequest
from assistant.tenants.passwords import WeakPassword
from assistant.tenants.service import TenantError
from retrieval.query import QuestionError
from retrieval.search import FilterError

log = get_logger("assistant.api")

# A fixed message where the domain's own could echo what was looked up.
_FIXED_DETAIL: dict[type[Exception], str] = {
    VehicleNotFound: "no such vehicle in this shop's records",
    # PostgreSQL's "data exception" class: a value it cannot hold, such as a NUL character
    # in text or a number beyond bigint. Its own message quotes SQL, so it is not shown.
    sqlalchemy.exc.DataError: (
        "a value in the request cannot be stored (a NUL character, or a number out of range)"
    ),
}
_DOMAIN: dict[type[Exception], tuple[int, str]] = {
    VehicleNotFound: (404, "not_found"),
    sqlalchemy.exc.DataError: (400, "bad_request"),
    EstimateError: (422, "unprocessable"),
    InvalidRevealRequest: (422, "unprocessable"),
    QuestionError: (422, "unprocessable"),
    FilterError: (422, "unprocessable"),
    WeakPassword: (422, "unprocessable"),
    TenantError: (422, "unprocessable"),
}
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "rate_limited",
}


class FieldProblem(msgspec.Struct):
    field: str | None
    message: str | None


class ErrorBody(msgspec.Struct, forbid_unknown_fields=True):
    """The body of every JSON error: what `error_response` writes, for the OpenAPI document."""

    error: str
    detail: str
    request_id: str
    fields: list[FieldProblem] | msgspec.UnsetType = msgspec.UNSET
    message_id: UUID | msgspec.UnsetType | None = msgspec.UNSET


_MEANING = {
    400: "Malformed: JSON that does not parse, a parameter of the wrong type or out of range,"
    " or a value the database cannot hold (a NUL character, a number beyond bigint).",
    401: "No valid token: log in (again). Also a disabled account or shop.",
    403: "The caller's role may not do this.",
    404: "No such object in the caller's shop (another shop's or user's looks the same).",
    409: "Conflicts with the current state of the object.",
    413: "The request body is larger than the service takes.",
    422: "Well-formed but refused; `fields` lists the fields at fault when there are any.",
    429: "Too many requests, logins or customer-detail lookups; `Retry-After` says when to"
    " try again where there is a fixed wait.",
    500: "Something failed on the service's side; the request id finds it in the logs.",
    502: "The chat model failed or answered incompletely; `message_id` is the stored,"
    " failed answer.",
    503: "The database is not answering or every connection is busy; nothing was changed:"
    " send it again after `Retry-After` seconds.",
    504: "The chat model did not answer in time; `message_id` is the stored, failed answer.",
}


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """The error statuses an operation can answer, each with the one error body, and the
    two any of them can: 500, and 503 (every request reaches the database, if only to count
    it against the rate limit)."""
    return {
        status: ResponseSpec(
            data_container=ErrorBody,
            description=_MEANING[status],
            generate_examples=False,
        )
        for status in sorted({*statuses, 500, 503})
    }


def _request_id(request: Request[Any, Any, Any]) -> str:
    """The request's id; routing errors (404, 405) happen before the request-context
    middleware runs, so they get one here."""
    state = request.scope.setdefault("state", {})
    if not state.get("request_id"):
        state["request_id"] = uuid.uuid4().hex
    return str(state["request_id"])


_ERROR_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>{status} · RO Assistant</title></head><body><main><h1>{status}</h1>"
    '<p>{detail}</p><p><a href="/chat">Back to the chat</a></p></main></body></html>'
)


def _wants_page(request: Request[Any, Any, Any]) -> bool:
    """A browser opening one of the web app's pages gets a page, not JSON."""
    return (
        not request.url.path.startswith("/api/")
        and "text/html" in request.headers.get("accept", "")
        and "hx-request" not in request.headers
    )


def error_response(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    detail: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    request_id = _request_id(request)
    if _wants_page(request):
        return Response(
            _ERROR_PAGE.format(status=status, detail=html.escape(detail)),
            status_code=status,
            media_type=MediaType.HTML,
            headers=(headers or {}) | {"x-request-id": request_id},
        )
    body: dict[str, Any] = {"error": code, "detail": detail, "request_id": request_id}
    return Response(
        body | (extra or {}),
        status_code=status,
        media_type=MediaType.JSON,
        headers=(headers or {}) | {"x-request-id": request_id},
    )


def app_error(request: Request[Any, Any, Any], exc: AppError) -> Response[dict[str, Any]]:
    return error_response(request, exc.status, exc.code, exc.message, exc.extra, exc.headers)


def domain_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    for kind, (status, code) in _DOMAIN.items():
        if isinstance(exc, kind):
            return error_response(request, status, code, _FIXED_DETAIL.get(kind, str(exc)))
    return internal_error(request, exc)


def validation_error(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[dict[str, Any]]:
    fields = [
        {"field": e.get("key"), "message": e.get("message")}
        for e in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(e, dict)
    ]
    detail = "the request is not valid" if fields else (exc.detail or "the request is not valid")
    status = 422 if request.method in {"POST", "PATCH", "PUT"} and fields else 400
    return error_response(request, status, _HTTP_CODES[status], detail, {"fields": fields})


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    if status >= 500:
        return internal_error(request, exc)
    headers = {k: str(v) for k, v in (exc.headers or {}).items()}
    return error_response(
        request, status, _HTTP_CODES.get(status, "error"), exc.detail, None, headers
    )


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.error("unhandled error", path=request.url.path, exc_info=exc)
    return error_response(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal_error",
        "something went wrong on our side; the request id helps us find it",
    )


DATABASE_DOWN = "the database is not answering; nothing was changed: try again shortly"
POOL_FULL = "every database connection is busy; nothing was changed: try again shortly"


def database_unavailable(
    request: Request[Any, Any, Any], exc: Exception
) -> Response[dict[str, Any]]:
    """A lost or refused connection, or a pool with no free connection for
    `RO_ASSISTANT_DB_POOL_TIMEOUT_SECONDS`: the request's transaction rolled back, so the
    client may send it again."""
    busy = isinstance(exc, sqlalchemy.exc.TimeoutError)
    log.warning(
        "database unavailable",
        path=request.url.path,
        reason="pool exhausted" if busy else type(getattr(exc, "orig", exc)).__name__,
    )
    return app_error(request, Unavailable(POOL_FULL if busy else DATABASE_DOWN, 2 if busy else 5))


HANDLERS: dict[int | type[Exception], Callable[[Request[Any, Any, Any], Any], Response[Any]]] = {
    sqlalchemy.exc.OperationalError: database_unavailable,
    sqlalchemy.exc.InterfaceError: database_unavailable,
    sqlalchemy.exc.TimeoutError: database_unavailable,
    AppError: app_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    **{kind: domain_error for kind in _DOMAIN},
    Exception: internal_error,
}
