"""The orders module's command endpoints."""

from __future__ import annotations

from app.commands.orders import handlers
from app.commands.orders.handlers import CancelOrder, PlaceOrder
from app.errors import Conflict, Invalid, NotFound
from app.infra.web.commands import command
from app.roles import Role

routes = [
    command(
        "POST",
        "/orders",
        PlaceOrder,
        handlers.place_order,
        status=201,
        one_statement=True,
        refusals=[NotFound, Invalid],
        location="/orders/{id}",
        allow=[Role.CONSUMER],
        caller_field="consumer_id",
        operation_id="placeOrder",
        summary="Place an order (starts the order saga)",
        description="404: unknown consumer or restaurant. 422: a menu item the restaurant does not have.",
        example={
            "consumer_id": "0193a9c4-1b2c-7d3e-8f40-5a6b7c8d9e0f",
            "restaurant_id": "0193a9c4-2c3d-7e4f-8a50-6b7c8d9e0f1a",
            "line_items": [{"menu_item_id": "margherita", "quantity": 2}],
            "delivery_address": "12 Rue de Rivoli",
        },
    ),
    command(
        "POST",
        "/orders/{order_id:uuid}/cancel",
        CancelOrder,
        handlers.cancel_order,
        refusals=[NotFound, Conflict],
        allow=[Role.CONSUMER],
        operation_id="cancelOrder",
        summary="Cancel an order before pickup",
        description="Compensations run: the payment is reversed, the ticket cancelled, the courier released. "
        "409 from PICKED_UP on.",
    ),
]
