"""Reading a view: once it has applied the caller's `X-Min-Position` (else a 412), and
answering with the position it had applied (`X-View-Position`).

With standbys (QUERY_DATABASE_URLS), the view is read on the one standbys.py chooses, and
the wait is for the view's checkpoint as replicated to that standby: the checkpoint row is
written in the same transaction as the view's rows, so the standby has the rows of every
position its checkpoint shows. A standby that fails is left for the primary."""

from __future__ import annotations

import functools
from typing import Annotated, Any

from litestar import Response
from litestar.params import HeaderParameter, PathParameter

from app.infra.auth import Principal
from app.infra.consistency import Fallback, PositionNotReached, ViewRead, parse_wait_ms
from app.infra.db import Pool
from app.infra.outbox import Position
from app.infra.standbys import STANDBY_FAILURES
from app.infra.web.problems import BadRequest, NotInView, PreconditionFailed
from app.infra.web.services import Services

MinPosition = Annotated[
    str | None,
    HeaderParameter(
        name="X-Min-Position",
        required=False,
        pattern=r"^-?\d+\.\d+$",
        description="Wait until the view has applied this position (from X-Position)",
    ),
]
# A user id as the reservations module accepts it (1-100 characters, no "/" nor NUL).
UserIdInPath = Annotated[
    str,
    PathParameter(min_length=1, max_length=100, pattern=r"^[^/\x00]*$", description="the user_id reservations were made with"),
]
WaitMs = Annotated[
    str | None,
    HeaderParameter(
        name="X-Wait-Ms", required=False, description="How long to wait for X-Min-Position, 0-10000 ms, default 2000"
    ),
]


async def read_view(services: Services, view: str, min_position: str | None, wait_ms: str | None) -> ViewRead:
    """A read of `view`, once it has applied `X-Min-Position` (a 412 if it does not in time)."""
    try:
        wait = parse_wait_ms(wait_ms)
    except ValueError:
        raise BadRequest(
            "X-Wait-Ms must be an integer 0-10000",
            errors=[{"field": "X-Wait-Ms", "message": "integer 0-10000"}],
        ) from None
    target = None
    if min_position is not None:
        try:
            target = Position.parse(min_position)
        except ValueError:
            raise BadRequest(
                "X-Min-Position is not a position token",
                errors=[{"field": "X-Min-Position", "message": "use a token from X-Position"}],
            ) from None
    standbys = services.standbys
    chosen = standbys.choose() if standbys is not None else None
    if standbys is not None and chosen is not None:
        standby, pool = chosen
        try:
            if target is not None:
                await _wait(services, pool, view, target, wait, standby=True)
            standby.reads += 1
            return ViewRead(pool, view, Fallback(services.pool, STANDBY_FAILURES, functools.partial(standbys.lost, standby)))
        except STANDBY_FAILURES as exc:
            standbys.lost(standby, exc)
    if target is not None:
        await _wait(services, services.pool, view, target, wait)
    if standbys is not None:
        standbys.primary_reads += 1
    return ViewRead(services.pool, view)


async def _wait(services: Services, pool: Pool, view: str, target: Position, wait: int, *, standby: bool = False) -> None:
    try:
        await services.positions.wait_for(pool, view, target, wait, standby=standby)
    except PositionNotReached as exc:
        raise PreconditionFailed(
            f"view {view} has not applied position {target.token()} within {wait} ms",
            view=view,
            view_position=exc.view_position.token(),
        ) from None


def _position(read: ViewRead) -> dict[str, str]:
    assert read.position is not None, "the view was not read"
    return {"X-View-Position": read.position.token()}


def view_response(content: Any, read: ViewRead) -> Response[Any]:
    return Response(content, headers=_position(read))


def not_in_view(read: ViewRead, detail: str) -> NotInView:
    """A 404 for an id the view does not hold, with the position it was read at."""
    return NotInView(detail, headers=_position(read))


NOTHING = "SELECT 1 WHERE false"


async def check_own(read: ViewRead, principal: Principal, role: str, owner: object, detail: str) -> None:
    """Someone else's rows (another user's reservations, another consumer's orders) are
    not revealed: a 404 like an id the view does not hold, read at the view's position."""
    if not principal.owns(role, owner):
        await read.fetch(NOTHING)
        raise not_in_view(read, detail)
