"""The reservations module's command endpoints."""

from __future__ import annotations

from app.commands.reservations import handlers
from app.commands.reservations.handlers import AddRoom, CancelReservation, ChangeReservation, ReserveRoom
from app.errors import Conflict, NotFound
from app.infra.web.commands import command
from app.roles import Role

routes = [
    command(
        "POST",
        "/rooms",
        AddRoom,
        handlers.add_room,
        status=201,
        one_statement=True,
        operation_id="addRoom",
        summary="Add a room",
        description="A room with a capacity of at least 1; listed by GET /rooms once the rooms view has it.",
        example={"name": "Blue room", "capacity": 8, "location": "2nd floor"},
    ),
    command(
        "POST",
        "/reservations",
        ReserveRoom,
        handlers.reserve_room,
        status=201,
        one_statement=True,
        refusals=[NotFound, Conflict],
        allow=[Role.USER],
        caller_field="user_id",
        operation_id="reserveRoom",
        summary="Reserve a room for [start, end)",
        description="404: the room does not exist. 409: it is already reserved for an overlapping period.",
        example={
            "room_id": "0193a9c4-1b2c-7d3e-8f40-5a6b7c8d9e0f",
            "user_id": "alice",
            "start": "2027-01-04T09:00:00Z",
            "end": "2027-01-04T10:00:00Z",
        },
    ),
    command(
        "PATCH",
        "/reservations/{reservation_id:uuid}",
        ChangeReservation,
        handlers.change_reservation,
        refusals=[NotFound, Conflict],
        allow=[Role.USER],
        operation_id="changeReservation",
        summary="Change a reservation's room or period",
        description="409: cancelled, stale `expected_version`, or the new period overlaps another reservation.",
        example={"start": "2027-01-04T10:00:00Z", "end": "2027-01-04T11:00:00Z", "expected_version": 1},
    ),
    command(
        "POST",
        "/reservations/{reservation_id:uuid}/cancel",
        CancelReservation,
        handlers.cancel_reservation,
        refusals=[NotFound, Conflict],
        allow=[Role.USER],
        operation_id="cancelReservation",
        summary="Cancel a reservation",
        description="409: already cancelled.",
    ),
]
