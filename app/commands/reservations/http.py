"""POST/PATCH endpoints of the reservations module."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response, patch, post
from litestar.params import FromPath, JSONBody

from app.commands.reservations import handlers
from app.infra.db import Connection
from app.infra.web import AwareDatetime, IdempotencyKey, Rules, ServicesDep, command, strict_body


class AddRoom(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    capacity: int
    location: str | None = None

    def validate(self) -> None:
        rules = Rules()
        rules.length(self.name, "name", 1, 200)
        rules.check(self.capacity >= 1, "capacity", "must be >= 1")
        rules.raise_if_any()


class ReserveRoom(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    room_id: UUID
    user_id: str
    start: AwareDatetime
    end: AwareDatetime

    def validate(self) -> None:
        rules = Rules()
        rules.length(self.user_id, "user_id", 1, 100)
        rules.check(self.end > self.start, "end", "must be after start")
        rules.raise_if_any()


class ChangeReservation(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    room_id: UUID | None = None
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    expected_version: int | None = None

    def validate(self) -> None:
        rules = Rules()
        rules.check(
            any(v is not None for v in (self.room_id, self.start, self.end)),
            "room_id",
            "give at least one of room_id, start, end",
        )
        if self.start is not None and self.end is not None:
            rules.check(self.end > self.start, "end", "must be after start")
        rules.raise_if_any()


@post("/rooms", tags=["rooms"], summary="Add a room", status_code=201)
async def add_room(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    data: JSONBody[AddRoom],
    idempotency_key: IdempotencyKey = None,
) -> Response[handlers.RoomCreated]:
    data = await strict_body(request, AddRoom)
    data.validate()

    async def work(conn: Connection) -> tuple[int, Any]:
        room = await handlers.add_room(conn, services.clock, data.name, data.capacity, data.location)
        return 201, room

    return await command(request, services, work, body=data, key=idempotency_key, single_statement=True)


@post("/reservations", tags=["reservations"], summary="Reserve a room for [start, end)", status_code=201)
async def reserve(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    data: JSONBody[ReserveRoom],
    idempotency_key: IdempotencyKey = None,
) -> Response[handlers.ReservationState]:
    data = await strict_body(request, ReserveRoom)
    data.validate()

    async def work(conn: Connection) -> tuple[int, Any]:
        state = await handlers.reserve_room(conn, services.clock, data.room_id, data.user_id, data.start, data.end)
        return 201, state

    return await command(request, services, work, body=data, key=idempotency_key, single_statement=True)


@patch(
    "/reservations/{reservation_id:uuid}",
    tags=["reservations"],
    summary="Change a reservation's room or period",
)
async def change(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    reservation_id: FromPath[UUID],
    data: JSONBody[ChangeReservation],
) -> Response[handlers.ReservationState]:
    data = await strict_body(request, ChangeReservation)
    data.validate()

    async def work(conn: Connection) -> tuple[int, Any]:
        state = await handlers.change_reservation(
            conn,
            services.clock,
            reservation_id,
            room_id=data.room_id,
            start=data.start,
            end=data.end,
            expected_version=data.expected_version,
        )
        return 200, state

    return await command(request, services, work)


@post(
    "/reservations/{reservation_id:uuid}/cancel",
    tags=["reservations"],
    summary="Cancel a reservation",
    status_code=200,
)
async def cancel(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    reservation_id: FromPath[UUID],
    idempotency_key: IdempotencyKey = None,
) -> Response[handlers.ReservationCancelledReply]:
    async def work(conn: Connection) -> tuple[int, Any]:
        return 200, await handlers.cancel_reservation(conn, services.clock, reservation_id)

    return await command(request, services, work, body=None, key=idempotency_key)


routes = [add_room, reserve, change, cancel]
