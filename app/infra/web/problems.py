"""RFC 9457 problem details: one `type` and one title per kind of problem, whoever
raised it (a domain refusal, the edge's own checks, Litestar's routing), in one table."""

from __future__ import annotations

import logging
import re
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from app.errors import Conflict, Invalid, NotFound, Refusal
from app.infra.auth import Unauthenticated

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

# status -> (the type's last segment, the title). Each kind of problem has one of each.
KINDS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Unauthenticated"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    412: ("position-not-reached", "Consistency position not reached"),
    413: ("body-too-large", "Request body too large"),
    422: ("validation", "Unprocessable content"),
    431: ("headers-too-large", "Request header fields too large"),
    500: ("internal", "Internal server error"),
    503: ("unavailable", "Service unavailable"),
}
# A domain refusal's kind.
REFUSAL_STATUS: dict[type[Refusal], int] = {NotFound: 404, Conflict: 409, Invalid: 422}


def problem_type(status: int) -> str:
    return f"/problems/{KINDS[status][0]}" if status in KINDS else f"/problems/{status}"


def problem_body(status: int, detail: str, instance: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem_type(status),
        "title": KINDS[status][1] if status in KINDS else "Error",
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body


def head_too_large_response(limit: int) -> bytes:
    """A whole HTTP/1.1 431 answer, for the protocol layer to write before any request exists."""
    body = msgspec.json.encode(problem_body(431, f"the request's line and headers are larger than {limit} bytes"))
    head = f"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: {PROBLEM_JSON}\r\n"
    return head.encode() + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode() + body


def refusal_status(kind: type[Refusal]) -> int:
    for cls in kind.__mro__:
        if cls in REFUSAL_STATUS:
            return REFUSAL_STATUS[cls]
    raise TypeError(f"no problem kind for {kind.__name__}")


def refusal_body(refusal: Refusal, instance: str) -> dict[str, Any]:
    return problem_body(refusal_status(type(refusal)), refusal.detail, instance, **refusal.extra)


class Problem(Exception):
    """A refusal only the HTTP edge makes (a malformed request, a position not reached);
    `headers` go with the answer."""

    status = 400

    def __init__(self, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers
        self.extra = extra


class BadRequest(Problem):
    status = 400


class PreconditionFailed(Problem):
    status = 412


class NotInView(Problem):
    """An id a view does not hold (answered with the view's position, like any read)."""

    status = 404


class StoredProblem(Exception):
    """A refusal whose body is already rendered (and maybe stored under an Idempotency-Key)."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


_encoder = msgspec.json.Encoder()


def _answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(_encoder.encode(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def on_problem(request: Request[Any, Any, Any], exc: Problem) -> Response[bytes]:
    return _answer(exc.status, problem_body(exc.status, exc.detail, request.url.path, **exc.extra), exc.headers)


def on_unauthenticated(request: Request[Any, Any, Any], exc: Unauthenticated) -> Response[bytes]:
    # RFC 6750 3: no error code when no credentials were presented
    challenge = 'Bearer error="invalid_token"' if exc.presented else "Bearer"
    return _answer(401, problem_body(401, exc.detail, request.url.path), {"WWW-Authenticate": challenge})


def on_refusal(request: Request[Any, Any, Any], exc: Refusal) -> Response[bytes]:
    status = refusal_status(type(exc))
    return _answer(status, problem_body(status, exc.detail, request.url.path, **exc.extra))


def on_stored_problem(_: Request[Any, Any, Any], exc: StoredProblem) -> Response[bytes]:
    return Response(exc.body, status_code=exc.status, media_type=PROBLEM_JSON)


_MISSING = re.compile(r"Missing required (\w+) parameter '([^']+)'")


def _public_name(request: Request[Any, Any, Any], key: str) -> str:
    """A parameter as the API names it (`from`), not as its handler's argument (`from_`)."""
    field = request.route_handler.parsed_fn_signature.parameters.get(key)
    definition = getattr(field, "kwarg_definition", None)
    return str(getattr(definition, "name", None) or getattr(definition, "query", None) or key)


def on_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[bytes]:
    """Litestar's own checks of path, query and header parameters."""
    errors = [
        {
            "field": _public_name(request, e["key"]) if e.get("key") else e.get("source") or "request",
            "message": e.get("message", ""),
        }
        for e in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(e, dict)
    ]
    if not errors and (missing := _MISSING.search(exc.detail)):
        errors = [{"field": missing[2], "message": f"the {missing[1]} parameter {missing[2]} is required"}]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "the request does not match the schema"
    return _answer(400, problem_body(400, detail, request.url.path, errors=errors))


def on_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    return _answer(exc.status_code, problem_body(exc.status_code, exc.detail, request.url.path), exc.headers)


def on_statement_timeout(request: Request[Any, Any, Any], _: asyncpg.QueryCanceledError) -> Response[bytes]:
    """A statement cancelled by STATEMENT_TIMEOUT_MS: its transaction rolled back, nothing acknowledged."""
    log.warning("a statement took longer than STATEMENT_TIMEOUT_MS on %s %s", request.method, request.url.path)
    detail = "the database took too long to answer; nothing was changed, try again"
    return _answer(503, problem_body(503, detail, request.url.path), {"Retry-After": "1"})


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _answer(500, problem_body(500, "the server failed; nothing was acknowledged", request.url.path))


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    Problem: on_problem,
    Unauthenticated: on_unauthenticated,
    Refusal: on_refusal,
    StoredProblem: on_stored_problem,
    ValidationException: on_validation,
    HTTPException: on_http,
    asyncpg.QueryCanceledError: on_statement_timeout,
    Exception: on_unexpected,
}
