"""Domain errors and their RFC 9457 ``application/problem+json`` rendering."""

from __future__ import annotations

import errno
import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import (DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError, SQLAlchemyError,
                            StatementError)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.logs import mask_path

log = logging.getLogger("centralino.errors")
PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://centralino.dev/problems/"


class FieldError(BaseModel):
    """One bad input field; ``loc`` points at it, e.g. ``["body", "email"]``."""

    loc: list[str | int]
    msg: str
    type: str


class ProblemReferrer(BaseModel):
    """Something whose destination points at the resource a request wanted to delete."""

    type: str = Field(examples=["group"])
    id: str
    name: str
    field: str = Field(examples=["no_answer_destination"])


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(examples=[PROBLEM_TYPE_BASE + "validation-error"])
    title: str = Field(examples=["Validation error"])
    status: int = Field(examples=[422])
    detail: str | None = Field(default=None, examples=["Extension must be between 100 and 999"])
    errors: list[FieldError] | None = None
    referrers: list[ProblemReferrer] | None = Field(
        default=None, description="With a 409 `in-use`: what still points at the resource")


class DomainError(Exception):
    """Base of every error a service may raise; rendered as problem+json."""

    status_code = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, errors: Sequence[FieldError] | None = None, headers: dict[str, str] | None = None,
                 slug: str | None = None, extra: dict[str, Any] | None = None):
        super().__init__(detail)
        self.detail = detail
        if slug is not None:  # a more precise problem type, e.g. "extension-in-use", for clients to branch on
            self.slug = slug
        self.errors = list(errors) if errors else None
        self.headers = headers or {}
        self.extra = extra or {}  # more Problem members, e.g. "referrers"


class NotFound(DomainError):
    status_code, slug, title = 404, "not-found", "Not found"


class Conflict(DomainError):
    status_code, slug, title = 409, "conflict", "Conflict"

    @classmethod
    def field(cls, loc: Sequence[str | int], msg: str, slug: str) -> Conflict:
        """A conflict caused by one input field (a duplicate), so a form can show it next to the field."""
        return cls(msg, slug=slug, errors=[FieldError(loc=list(loc), msg=msg, type="conflict")])


class Forbidden(DomainError):
    status_code, slug, title = 403, "forbidden", "Forbidden"


class Unauthorized(DomainError):
    status_code, slug, title = 401, "unauthorized", "Unauthorized"

    def __init__(self, detail: str = "Not authenticated", **kwargs: Any):
        super().__init__(detail, **kwargs)
        self.headers.setdefault("WWW-Authenticate", 'Bearer realm="centralino"')


class PreconditionFailed(DomainError):
    status_code, slug, title = 412, "precondition-failed", "Precondition failed"


class TooManyRequests(DomainError):
    status_code, slug, title = 429, "too-many-requests", "Too many requests"


class ServiceUnavailable(DomainError):
    status_code, slug, title = 503, "service-unavailable", "Service unavailable"


class ValidationProblem(DomainError):
    """A business-rule 422: carries one entry per bad field."""

    status_code, slug, title = 422, "validation-error", "Validation error"

    @classmethod
    def field(cls, loc: Sequence[str | int], msg: str, type_: str = "value_error") -> ValidationProblem:
        return cls(msg, errors=[FieldError(loc=list(loc), msg=msg, type=type_)])


class FieldErrors:
    """Collects business validation errors so that all are reported at once."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, loc: Sequence[str | int], msg: str, type_: str = "value_error") -> None:
        self.items.append(FieldError(loc=list(loc), msg=msg, type=type_))

    def raise_if_any(self) -> None:
        if self.items:
            detail = self.items[0].msg if len(self.items) == 1 else f"{len(self.items)} fields are invalid"
            raise ValidationProblem(detail, errors=self.items)


def problem_response(status: int, detail: str | None, *, slug: str | None = None, title: str | None = None,
                     errors: list[FieldError] | None = None, headers: dict[str, str] | None = None,
                     extra: dict[str, Any] | None = None) -> JSONResponse:
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body = Problem(
        type=PROBLEM_TYPE_BASE + (slug or phrase.lower().replace(" ", "-")),
        title=title or phrase,
        status=status,
        detail=detail,
        errors=errors,
        **(extra or {}),
    ).model_dump(exclude_none=True)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _jsonable_loc(loc: Sequence[Any]) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


def _clean_msg(msg: str) -> str:
    # Pydantic prefixes messages from our validators with "Value error, ".
    return msg.removeprefix("Value error, ")


def install_error_handlers(app: FastAPI) -> None:
    """Render every error, FastAPI's and Starlette's included, as problem+json."""

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return problem_response(exc.status_code, exc.detail, slug=exc.slug, title=exc.title,
                                errors=exc.errors, headers=exc.headers, extra=exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            FieldError(loc=_jsonable_loc(e.get("loc", ())), msg=_clean_msg(str(e.get("msg", ""))), type=str(e.get("type", "")))
            for e in exc.errors()
        ]
        detail = errors[0].msg if len(errors) == 1 else f"{len(errors)} fields are invalid"
        return problem_response(422, detail, slug="validation-error", title="Validation error", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 404 and detail == "Not Found":
            detail = "No such resource or route"
        if exc.status_code == 405:
            # Starlette names only the first matching route's methods; RFC 9110 wants all of them.
            allowed = _allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            detail = f"{request.method} is not allowed here; use {', '.join(allowed)}"
        return problem_response(exc.status_code, detail, headers=headers)

    @app.exception_handler(SQLAlchemyError)
    async def _database(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        return _classified(request, exc)

    @app.exception_handler(OSError)
    async def _os(request: Request, exc: OSError) -> JSONResponse:
        # Connection refused, host unreachable, timeouts: the database went away mid-flight.
        return _classified(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return _classified(request, exc)


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot be reached now (a 503 to retry), not a bug or bad input."""
    if isinstance(exc, OperationalError) and type(exc.orig).__module__.startswith("sqlite3"):
        # SQLite reports outages and its own bugs alike as OperationalError: only the former are a 503.
        return any(symptom in str(exc.orig).lower() for symptom in _SQLITE_OUTAGES)
    if isinstance(exc, (ConnectionError, TimeoutError, PoolTimeout, OperationalError, InterfaceError)):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        # PostgreSQL SQLSTATE classes: 08 connection exception, 57P operator intervention (shutdown,
        # cannot connect now), 53 insufficient resources (too many connections), 3D000 no such database.
        code = str(getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or "")
        return code.startswith(("08", "57P", "53")) or code == "3D000"
    return isinstance(exc, OSError) and exc.errno is not None and exc.errno in _NETWORK_ERRNOS


_NETWORK_ERRNOS = {getattr(errno, name) for name in ("ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH",
                                                     "ETIMEDOUT", "EPIPE", "ECONNABORTED") if hasattr(errno, name)}
_SQLITE_OUTAGES = ("database is locked", "unable to open database", "no such table", "disk i/o error",
                   "database disk image is malformed", "attempt to write a readonly database",
                   "database or disk is full")
RETRY_AFTER_SECONDS = "5"


def _classified(request: Request, exc: BaseException) -> JSONResponse:
    if database_unavailable(exc):
        log.error("database unavailable on %s %s: %s", request.method, mask_path(request.url.path),
                  type(exc).__name__)
        return problem_response(503, "The database is unavailable; retry later", slug="service-unavailable",
                                headers={"Retry-After": RETRY_AFTER_SECONDS})
    if isinstance(exc, IntegrityError):
        # Services translate the constraints they know; this is the safety net
        # for a race they did not foresee: still a conflict, never a 500.
        log.warning("unhandled integrity error: %s", type(exc.orig).__name__)
        return problem_response(409, "The request conflicts with the current state of the resource", slug="conflict")
    if isinstance(exc, DataError) or (isinstance(exc, StatementError) and not isinstance(exc, DBAPIError)):
        # A value the database or its driver cannot take (out of range, malformed) is bad input.
        log.warning("database refused a value: %s", type(getattr(exc, "orig", exc)).__name__)
        return problem_response(422, "A value is not acceptable (out of range or malformed)",
                                slug="validation-error", title="Validation error")
    log.error("unhandled error on %s %s", request.method, mask_path(request.url.path), exc_info=exc)
    return problem_response(500, "Internal error; it has been logged")


HEADER_DOCS: dict[str, dict[str, Any]] = {
    "ETag": {"description": "Version of the resource; send it back in If-Match to change it safely",
             "schema": {"type": "string"}},
    "Location": {"description": "URL of the created resource", "schema": {"type": "string", "format": "uri"}},
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}},
    "X-Request-ID": {"description": "The request's id (the caller's X-Request-ID when it sent one); in the "
                                    "audit log and the server's logs", "schema": {"type": "string"}},
    "WWW-Authenticate": {"description": "The authentication scheme to use", "schema": {"type": "string"}},
}
_ERROR_HEADERS = {401: ("WWW-Authenticate",), 429: ("Retry-After",), 503: ("Retry-After",)}
_DESCRIPTIONS = {
    400: "Bad request", 401: "Missing or invalid credentials", 403: "The principal lacks the required permission",
    404: "No such resource in this organization", 409: "Conflict with the current state (duplicate, range full)",
    412: "If-Match does not match the current ETag", 413: "The request body is larger than the service accepts",
    422: "Invalid input; one entry per bad field", 429: "Too many requests; retry after the Retry-After delay",
    502: "An upstream server (the SMTP server) refused the request or could not be reached",
    503: "The database (or another dependency) is unavailable; retry after the Retry-After delay",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting the problem+json errors of a route."""
    return {
        status: {"model": Problem, "description": _DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
                 "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                 **({"headers": {name: HEADER_DOCS[name] for name in _ERROR_HEADERS[status]}}
                    if status in _ERROR_HEADERS else {})}
        for status in statuses
    }


def _allowed_methods(request: Request) -> list[str]:
    path = request.url.path
    methods: set[str] = set()
    for pattern, route_methods in getattr(request.app.state, "route_methods", ()):
        if pattern.match(path):
            methods |= route_methods
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)
