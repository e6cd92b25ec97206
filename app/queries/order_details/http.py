"""GET /orders/{id}."""

from __future__ import annotations

from uuid import UUID

from litestar import Response, get
from litestar.params import FromPath

from app.infra.web.access import CallerDep, allow
from app.infra.web.openapi import view_read
from app.infra.web.services import ServicesDep
from app.infra.web.views import MinPosition, WaitMs, not_in_view, read_view, view_response
from app.queries.order_details import store
from app.queries.order_details.projector import VIEW
from app.roles import Role


@get(
    "/orders/{order_id:uuid}",
    summary="An order's whole story, from every module's events",
    description="Composed from every module's events, with no call into the command modules. 404: not in the view "
    "(send X-Min-Position to wait for an order just placed).",
    operation_id="getOrder",
    opt={**view_read(404), **allow(Role.CONSUMER, Role.RESTAURANT, Role.COURIER)},
)
async def order_details(
    services: ServicesDep,
    caller: CallerDep,
    order_id: FromPath[UUID],
    x_min_position: MinPosition = None,
    x_wait_ms: WaitMs = None,
) -> Response[store.OrderDetails]:
    read = await read_view(services, VIEW, x_min_position, x_wait_ms)
    found = await store.order(read, order_id, caller)
    if found is None:
        raise not_in_view(read, f"order {order_id} does not exist (or is not in the view yet)")
    return view_response(found, read)


routes = [order_details]
