"""The kitchen's command endpoints."""

from __future__ import annotations

from app.commands.kitchen import handlers
from app.commands.kitchen.handlers import AcceptTicket, MarkReady, StartPreparing
from app.errors import Conflict, NotFound
from app.infra.web.commands import command
from app.roles import Role

_STEP = "404: no open ticket for the order. 409: the ticket is not in the status this step follows."

routes = [
    command(
        "POST",
        "/kitchen/tickets/{order_id:uuid}/accept",
        AcceptTicket,
        handlers.accept_ticket,
        refusals=[NotFound, Conflict],
        allow=[Role.RESTAURANT],
        operation_id="acceptTicket",
        summary="Accept a ticket",
        description=f"Delivery then assigns a courier. {_STEP}",
        example={"ready_by": "2027-01-04T12:30:00Z"},
    ),
    command(
        "POST",
        "/kitchen/tickets/{order_id:uuid}/preparing",
        StartPreparing,
        handlers.start_preparing,
        refusals=[NotFound, Conflict],
        allow=[Role.RESTAURANT],
        operation_id="startPreparing",
        summary="Start preparing",
        description=_STEP,
    ),
    command(
        "POST",
        "/kitchen/tickets/{order_id:uuid}/ready",
        MarkReady,
        handlers.mark_ready,
        refusals=[NotFound, Conflict],
        allow=[Role.RESTAURANT],
        operation_id="markReady",
        summary="Ready for pickup",
        description=_STEP,
    ),
]
