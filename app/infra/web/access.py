"""Who may call an endpoint: the one step every request passes before its handler.

Each route declares the roles it admits (`opt=allow(...)`, or `command(..., allow=...)`);
an admin is admitted everywhere. The guard authenticates the bearer token (a 401), checks
the roles (a 403), and leaves the principal in the request for the handler: which rows
are the caller's own is then decided with the rows themselves (in SQL, or by the command
handler that loads them), someone else's answering 404."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler

from app.infra.auth import ANYONE, Principal, Unauthenticated
from app.infra.web.problems import Problem
from app.infra.web.services import Services

ROLES = "roles"  # the route's opt key: the roles it admits, besides admin
PUBLIC = "public"  # the route's opt key: no token needed (health, metrics, the schema)


class Forbidden(Problem):
    status = 403


def allow(*roles: str) -> dict[str, Any]:
    """`opt` of a route open to these roles (and admin)."""
    return {ROLES: frozenset(roles)}


def public() -> dict[str, Any]:
    return {PUBLIC: True}


def roles_of(opt: dict[str, Any]) -> frozenset[str] | None:
    """The roles a route admits besides admin (None: it is public)."""
    return None if opt.get(PUBLIC) else opt.get(ROLES, frozenset())


async def admit(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The guard on every route (a route that declares nothing admits only admins)."""
    allowed = roles_of(handler.opt)
    if allowed is None:
        return
    services: Services = connection.app.state.services
    if services.tokens is None:
        principal = ANYONE
    else:
        principal = await services.tokens.principal(connection.headers.get("authorization"))
    if not principal.may_call(allowed):
        names = ", ".join(sorted({"admin", *allowed}))
        raise Forbidden(f"this endpoint is for: {names}")
    connection.scope["user"] = principal


async def an_admin(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """On a public route: whether the caller proved to be an admin (auth off: everyone is).
    A missing or refused token is no error there, just not an admin."""
    services: Services = connection.app.state.services
    if services.tokens is None:
        return True
    try:
        principal = await services.tokens.principal(connection.headers.get("authorization"))
    except Unauthenticated:
        return False
    return principal.sees_all


def caller(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The principal the guard admitted."""
    principal: Principal = connection.scope["user"]
    return principal


def provide_caller(request: Request[Any, Any, Any]) -> Principal:
    return caller(request)


CallerDep = NamedDependency[Principal]  # a read handler's `caller: CallerDep`
