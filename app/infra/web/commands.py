"""A command endpoint is a declaration: method, path, command type, handler, status.

    routes = [
        command("POST", "/reservations", ReserveRoom, handlers.reserve_room, status=201,
                operation_id="reserveRoom", summary="Reserve a room for [start, end)"),
    ]

The command type is a frozen msgspec Struct whose limits are declared on its fields;
its fields named in the path come from the path, the others from the body, decoded
strictly once (the path-less commands straight into the command). A `check()` method on
the command holds its rules that span fields. The same declaration writes the
operation's OpenAPI entry (see openapi.py), so the two cannot disagree."""

from __future__ import annotations

import re
import typing
from collections.abc import Sequence
from typing import Any, TypeVar
from uuid import UUID

import msgspec
from litestar import Request, Response, route
from litestar.enums import HttpMethod
from litestar.handlers import HTTPRouteHandler

from app.errors import NotFound, Refusal
from app.infra import idempotency
from app.infra.auth import Principal
from app.infra.web import access, pipeline
from app.infra.web.access import caller
from app.infra.web.decoding import check_time, decode
from app.infra.web.openapi import OperationDoc
from app.infra.web.problems import BadRequest, refusal_status
from app.infra.web.services import Services

C = TypeVar("C", bound=msgspec.Struct)

JSON = "application/json"
_PATH_FIELD = re.compile(r"{(\w+)(?::\w+)?}")


class _Created(msgspec.Struct):
    id: UUID


def check_names_caller(principal: Principal, admitted: frozenset[str], field: str, value: object) -> None:
    """A body naming someone else (a `user_id`, a `consumer_id`) is refused: 403."""
    if not principal.sees_all and not any(principal.sub_as(r) == str(value) for r in admitted):
        raise access.Forbidden(f"{field} must be your own ({principal.sub})", errors=[{"field": field, "message": "not you"}])


def check_key(key: str | None) -> str | None:
    if key is not None and not 1 <= len(key) <= idempotency.MAX_KEY_LENGTH:
        raise BadRequest(
            f"Idempotency-Key must be 1-{idempotency.MAX_KEY_LENGTH} characters",
            errors=[{"field": "Idempotency-Key", "message": f"length must be 1-{idempotency.MAX_KEY_LENGTH}"}],
        )
    return key


def _default(f: msgspec.structs.FieldInfo) -> Any:
    return f.default if f.default_factory is msgspec.NODEFAULT else msgspec.field(default_factory=f.default_factory)


def _body_type(command_type: type[C], path_fields: set[str]) -> type[msgspec.Struct] | None:
    """The body: the command itself, or its fields not in the path (None: it has no body)."""
    if not path_fields:
        return command_type
    fields = [(f.name, f.type, _default(f)) for f in msgspec.structs.fields(command_type) if f.name not in path_fields]
    if not fields:
        return None
    return msgspec.defstruct(
        f"{command_type.__name__}Body",
        fields,
        frozen=True,
        forbid_unknown_fields=True,
        module=command_type.__module__,
    )


_LIMIT_KEYWORDS = (
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "pattern",
    "minItems",
    "maxItems",
)


def _errors(
    body_type: type[msgspec.Struct] | None,
    refusals: Sequence[type[Refusal]],
    checks: bool,
    has_path: bool,
    takes_key: bool,
    caller_field: str | None,
) -> tuple[int, ...]:
    """Every error status the endpoint can answer: 400 (a malformed body or header), 401
    and 403 (the caller), 413 (a body too large), 422 (a limit declared on a field, a
    timestamp out of range, a rule of `check()`), 404 (an id in the path), 409 (a key
    reused with another body), 503 (a statement past STATEMENT_TIMEOUT_MS), and the
    handler's refusals. (431, headers too large, is every operation's: openapi.complete.)"""
    statuses = {400, 401, 403, 503, *(refusal_status(r) for r in refusals)}
    if body_type is not None:
        statuses.add(413)
    if checks or (body_type is not None and any(k in str(msgspec.json.schema(body_type)) for k in _LIMIT_KEYWORDS)):
        statuses.add(422)
    if has_path:
        statuses.add(404)
    if takes_key:
        statuses.add(409)
    return tuple(sorted(statuses))


def command(
    method: str,
    path: str,
    command_type: type[C],
    handler: pipeline.Handler[C],
    *,
    operation_id: str,
    summary: str,
    description: str = "",
    status: int = 200,
    refusals: Sequence[type[Refusal]] = (),
    one_statement: bool = False,
    location: str | None = None,
    example: dict[str, Any] | None = None,
    allow: Sequence[str] = (),
    caller_field: str | None = None,
    caller_in_path: str | None = None,
    kept_out: pipeline.KeptOut | None = None,
) -> HTTPRouteHandler:
    """`refusals`: the domain refusals the handler may raise (documented with their
    status). `one_statement`: the handler's whole effect is one statement (see pipeline).
    `location`: the URL template (`/orders/{id}`) of what a 201 created.

    Who may: `allow`, the roles admitted besides admin. `caller_field`, a body field that
    must name the caller (else 403: `user_id` of a reservation); `caller_in_path`, a path
    field that must be the caller (else 404: a restaurant's own menu). Rows the handler
    loads are checked by the handler, with `uow.actor`."""
    path_fields = set(_PATH_FIELD.findall(path))
    admitted = frozenset(allow)
    body_type = _body_type(command_type, path_fields)
    decoder = msgspec.json.Decoder(body_type) if body_type is not None else None
    body_fields = [f.name for f in msgspec.structs.fields(body_type)] if body_type is not None else []
    check = getattr(command_type, "check", None)
    times = [f.name for f in msgspec.structs.fields(command_type) if "datetime" in repr(f.type)]
    takes_key = method == "POST"

    async def endpoint(request: Request[Any, Any, Any]) -> Response[Any]:
        services: Services = request.app.state.services
        key = check_key(request.headers.get("idempotency-key")) if takes_key else None
        if body_type is command_type:
            cmd: Any = decode(decoder, await request.body())  # type: ignore[arg-type]
        else:
            params = request.path_params
            values = {name: params[name] for name in path_fields}
            if decoder is not None:
                body = decode(decoder, await request.body())
                values.update((name, getattr(body, name)) for name in body_fields)
            cmd = command_type(**values)
        for name in times:
            if (value := getattr(cmd, name)) is not None:
                check_time(value, name)
        if check is not None:
            cmd.check()
        principal = caller(request)
        if caller_field is not None:
            check_names_caller(principal, admitted, caller_field, getattr(cmd, caller_field))
        if caller_in_path is not None and not any(principal.owns(r, getattr(cmd, caller_in_path)) for r in admitted):
            raise NotFound(f"{caller_in_path} {getattr(cmd, caller_in_path)} does not exist")
        answer = await pipeline.run(
            services,
            handler,
            cmd,
            status=status,
            instance=request.url.path,
            key=key,
            key_fingerprint=idempotency.fingerprint(method, request.url.path, cmd) if key else b"",
            one_statement=one_statement,
            principal=principal,
            kept_out=kept_out,
        )
        headers = {"X-Position": answer.position} if answer.position else {}
        if location is not None:
            headers["Location"] = location.format(id=msgspec.json.decode(answer.body, type=_Created).id)
        return Response(answer.body, status_code=answer.status, media_type=JSON, headers=headers)

    endpoint.__name__ = endpoint.__qualname__ = handler.__name__
    reply = typing.get_type_hints(handler).get("return")
    if reply is type(None):
        reply = None
    doc = OperationDoc(
        status=status,
        body=body_type,
        reply=reply,
        errors=_errors(body_type, refusals, check is not None or bool(times), bool(path_fields), takes_key, caller_field),
        headers=("X-Position", "X-Request-Id", *(("Location",) if location else ())),
        idempotency_key=takes_key,
        example=example,
    )
    return route(
        path,
        http_method=[HttpMethod(method)],
        # Litestar refuses a 204 route whose function may return a body; the endpoint sets
        # the status of each answer itself, and the OpenAPI entry is written from `doc`.
        status_code=200 if status == 204 else status,
        operation_id=operation_id,
        summary=summary,
        description=description or None,
        opt={"doc": doc, **access.allow(*admitted)},
    )(endpoint)
