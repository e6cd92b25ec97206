"""Couriers and deliveries over HTTP."""

from __future__ import annotations

from app.commands.delivery import handlers
from app.commands.delivery.handlers import Deliver, PickUp, RegisterCourier, SetAvailability
from app.errors import Conflict, NotFound
from app.infra.web.commands import command
from app.roles import Role

routes = [
    command(
        "POST",
        "/couriers",
        RegisterCourier,
        handlers.register_courier,
        status=201,
        operation_id="registerCourier",
        summary="Register a courier (available unless told)",
        description="An available courier takes the delivery that has waited longest, if any.",
        example={"name": "Chris", "available": True},
    ),
    command(
        "POST",
        "/couriers/{courier_id:uuid}/availability",
        SetAvailability,
        handlers.set_availability,
        refusals=[NotFound],
        allow=[Role.COURIER],
        caller_in_path="courier_id",
        operation_id="setCourierAvailability",
        summary="Set availability",
        description="A courier made available takes the delivery that has waited longest.",
        example={"available": False},
    ),
    command(
        "POST",
        "/deliveries/{order_id:uuid}/pickup",
        PickUp,
        handlers.pick_up,
        refusals=[NotFound, Conflict],
        allow=[Role.COURIER],
        operation_id="pickUpDelivery",
        summary="Courier picked the order up",
        description="409: no courier assigned yet, or the food is not ready.",
    ),
    command(
        "POST",
        "/deliveries/{order_id:uuid}/deliver",
        Deliver,
        handlers.deliver,
        refusals=[NotFound, Conflict],
        allow=[Role.COURIER],
        operation_id="deliverOrder",
        summary="Order delivered",
        description="409: not picked up. The courier then takes the delivery that has waited longest.",
    ),
]
