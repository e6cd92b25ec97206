"""The OpenAPI document at /schema and /schema/openapi.json, served as JSON only (no page
that loads scripts from elsewhere: it works offline).

Litestar writes the skeleton from the route handlers (paths, path and query parameters
with their limits, the views' answers). Each handler's `opt` then completes its entry:
a command's declaration (commands.py) gives its body and reply as msgspec writes their
JSON Schema (every limit declared on a field), its success headers and every error it
can answer; a view read (`opt=view_read(...)`) gets the read-your-writes header, the 412,
X-View-Position and its errors. Every error is `application/problem+json` with one
ProblemDetails schema."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.routes import HTTPRoute

from app.infra.web.access import roles_of
from app.infra.web.problems import PROBLEM_JSON, problem_type

REF = "#/components/schemas/{name}"
PROBLEM_REF = {"$ref": REF.format(name="ProblemDetails")}


@dataclass(frozen=True)
class OperationDoc:
    """What a command's declaration tells its OpenAPI entry."""

    status: int
    body: type[Any] | None
    reply: Any
    errors: tuple[int, ...]
    headers: tuple[str, ...]
    idempotency_key: bool
    example: dict[str, Any] | None = None


@dataclass(frozen=True)
class ReadDoc:
    """What a query's (or an operations endpoint's) handler tells its OpenAPI entry."""

    errors: tuple[int, ...] = ()
    view: bool = True  # reads a view: X-Min-Position, 412, X-View-Position
    # Statuses answered with the success's document (e.g. 503 from /health/ready).
    also: tuple[tuple[int, str], ...] = ()
    # Query parameters checked in the handler (a 422 outside): name -> (minimum, maximum).
    limits: tuple[tuple[str, tuple[float, float]], ...] = ()


def view_read(*errors: int, limits: dict[str, tuple[float, float]] | None = None) -> dict[str, Any]:
    """`opt` of a GET that reads a view and may also answer `errors` (400 and 503, a
    statement past STATEMENT_TIMEOUT_MS, are implied); `limits`: the ranges of query
    parameters the handler checks itself."""
    return {"doc": ReadDoc(errors=tuple(sorted({400, 503, *errors})), limits=tuple((limits or {}).items()))}


def plain_read(*errors: int, also: dict[int, str] | None = None) -> dict[str, Any]:
    """`opt` of a GET that reads no view (health, metrics); `also`: statuses answered with
    the success's document, and what they mean."""
    return {"doc": ReadDoc(errors=tuple(sorted(errors)), view=False, also=tuple((also or {}).items()))}


HEADERS: dict[str, dict[str, Any]] = {
    "X-Position": {
        "description": "The position of the command's last event: send it as X-Min-Position to read your write",
        "schema": {"type": "string", "pattern": r"^-?\d+\.\d+$"},
    },
    "X-View-Position": {
        "description": "The position the view had applied when it was read",
        "schema": {"type": "string", "pattern": r"^-?\d+\.\d+$"},
    },
    "X-Request-Id": {"description": "The caller's X-Request-Id, or a new one", "schema": {"type": "string"}},
    "Location": {"description": "Where the created resource is read", "schema": {"type": "string"}},
    "WWW-Authenticate": {"description": "Bearer (RFC 6750)", "schema": {"type": "string"}},
}
SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A JWT with `sub`, `roles` (admin, user, consumer, restaurant, courier) and `exp`",
    }
}

PROBLEM_DETAILS: dict[str, Any] = {
    "title": "ProblemDetails",
    "description": "RFC 9457 problem details. `type` and `title` name the kind of problem (see the README).",
    "type": "object",
    "properties": {
        "type": {"type": "string", "examples": [problem_type(404)]},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "The offending fields, for 400 and 422",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                "required": ["field", "message"],
            },
        },
        "view": {"type": "string", "description": "412: the view that was read"},
        "view_position": {"type": "string", "description": "412: the position it had applied"},
    },
    "required": ["type", "title", "status", "detail"],
    "additionalProperties": True,
}


_WAIT_MS_SCHEMA = {"type": "integer", "minimum": 0, "maximum": 10000, "default": 2000}


def _error_responses(statuses: Sequence[int]) -> dict[str, Any]:
    return {
        str(s): {
            "description": f"{HTTPStatus(s).phrase} ({problem_type(s)})",
            "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
        }
        for s in statuses
    }


def _headers(names: Sequence[str]) -> dict[str, Any]:
    return {name: HEADERS[name] for name in names}


def _complete_command(operation: dict[str, Any], doc: OperationDoc, refs: dict[Any, Any]) -> None:
    if doc.body is not None:
        media: dict[str, Any] = {"schema": refs[doc.body]}
        if doc.example is not None:
            media["example"] = doc.example
        operation["requestBody"] = {"required": True, "content": {"application/json": media}}
    if doc.idempotency_key:
        operation.setdefault("parameters", []).append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": (
                    "A repeat with the same key and body answers as the first time, with no second effect; the same "
                    "key with another body is 409. A key is the caller's own, and expires IDEMPOTENCY_KEY_TTL_S after "
                    "its first use (default 86400 s, 24 hours): a repeat after that is a new request."
                ),
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
            }
        )
    success: dict[str, Any] = {"description": HTTPStatus(doc.status).phrase, "headers": _headers(doc.headers)}
    if doc.reply is not None:
        success["content"] = {"application/json": {"schema": refs[doc.reply]}}
    operation["responses"] = {str(doc.status): success, **_error_responses(doc.errors)}


def _complete_read(operation: dict[str, Any], doc: ReadDoc) -> None:
    responses = operation.setdefault("responses", {})
    for status in [s for s in responses if s.startswith(("4", "5"))]:
        del responses[status]
    errors = (*doc.errors, 412) if doc.view else doc.errors
    for ok in (s for s in responses if s.startswith("2")):
        names = ("X-View-Position", "X-Request-Id") if doc.view else ("X-Request-Id",)
        responses[ok]["headers"] = _headers(names)
    responses.update(_error_responses(sorted(errors)))
    success = next((responses[s] for s in responses if s.startswith("2")), None)
    for status, meaning in doc.also:
        responses[str(status)] = {**(success or {}), "description": meaning}
    if doc.view and "404" in responses:
        responses["404"]["headers"] = _headers(("X-View-Position", "X-Request-Id"))
    limits = dict(doc.limits)
    for parameter in operation.get("parameters", []):
        if parameter.get("name") == "X-Wait-Ms":
            parameter["schema"] = _WAIT_MS_SCHEMA
        if parameter.get("name") in limits:
            low, high = limits[parameter["name"]]
            parameter["schema"] = {**parameter["schema"], "minimum": low, "maximum": high}


def complete(skeleton: dict[str, Any], app: Litestar) -> dict[str, Any]:
    document = copy.deepcopy(skeleton)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    entries = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method, (handler, _) in route.route_handler_map.items():
            doc = handler.opt.get("doc")
            if doc is not None:
                entries.append((document["paths"][route.path_format][method.lower()], doc, roles_of(handler.opt)))
    command_types = sorted(
        {t for _, d, _ in entries if isinstance(d, OperationDoc) for t in (d.body, d.reply) if t is not None}, key=repr
    )
    found, components = msgspec.json.schema_components(command_types, ref_template=REF)
    # A type a read returns too (Litestar wrote it) gets msgspec's schema, as the commands'.
    schemas.update({**components, "ProblemDetails": PROBLEM_DETAILS})
    refs = dict(zip(command_types, found, strict=True))
    for operation, doc, roles in entries:
        if isinstance(doc, OperationDoc):
            _complete_command(operation, doc, refs)
        else:
            _complete_read(operation, doc)
        _declare_access(operation, roles)
        # Every request's headers are held to a size before anything reads them.
        operation["responses"].update(_error_responses([431]))
    document["components"]["securitySchemes"] = SECURITY_SCHEMES
    return document


def _declare_access(operation: dict[str, Any], roles: frozenset[str] | None) -> None:
    """Public, or the bearer scheme with the roles admitted, a 401 and a 403."""
    if roles is None:
        operation["security"] = []
        return
    operation["security"] = [{"bearer": []}]
    who = ", ".join(sorted({"admin", *roles}))
    operation["description"] = f"{operation.get('description', '')}\n\nWho may call: {who}.".strip()
    responses = operation["responses"]
    responses.update(_error_responses([s for s in (401, 403) if str(s) not in responses]))
    responses["401"]["headers"] = _headers(("WWW-Authenticate", "X-Request-Id"))


class OpenAPIDocument(OpenAPIRenderPlugin):
    """Serves the completed document as JSON at the schema path and its /openapi.json."""

    def __init__(self) -> None:
        super().__init__(path=["/", "/openapi.json"], media_type="application/vnd.oai.openapi+json")  # type: ignore[arg-type]
        self._rendered: bytes | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._rendered is None:
            self._rendered = self.render_json(request, complete(openapi_schema, request.app))
        return self._rendered
