"""Reading a view: once it has applied the caller's `X-Min-Position` (else a 412), and
answering with the position it had applied (`X-View-Position`)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response
from litestar.params import HeaderParameter, PathParameter

from app.infra.auth import Principal, Role
from app.infra.consistency import PositionNotReached, ViewRead, parse_wait_ms
from app.infra.outbox import Position
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
    if min_position is None:
        return ViewRead(services.pool, view)
    try:
        target = Position.parse(min_position)
    except ValueError:
        raise BadRequest(
            "X-Min-Position is not a position token",
            errors=[{"field": "X-Min-Position", "message": "use a token from X-Position"}],
        ) from None

    try:
        await services.positions.wait_for(services.pool, view, target, wait)
    except PositionNotReached as exc:
        raise PreconditionFailed(
            f"view {view} has not applied position {min_position} within {wait} ms",
            view=view,
            view_position=exc.view_position.token(),
        ) from None
    return ViewRead(services.pool, view)


def _position(read: ViewRead) -> dict[str, str]:
    assert read.position is not None, "the view was not read"
    return {"X-View-Position": read.position.token()}


def view_response(content: Any, read: ViewRead) -> Response[Any]:
    return Response(content, headers=_position(read))


def not_in_view(read: ViewRead, detail: str) -> NotInView:
    """A 404 for an id the view does not hold, with the position it was read at."""
    return NotInView(detail, headers=_position(read))


NOTHING = "SELECT 1 WHERE false"


async def check_own(read: ViewRead, principal: Principal, role: Role, owner: object, detail: str) -> None:
    """Someone else's rows (another user's reservations, another consumer's orders) are
    not revealed: a 404 like an id the view does not hold, read at the view's position."""
    if not principal.owns(role, owner):
        await read.fetch(NOTHING)
        raise not_in_view(read, detail)
