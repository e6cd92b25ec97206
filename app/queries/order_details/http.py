"""GET /orders/{id}."""

from __future__ import annotations

from uuid import UUID

from litestar import Response, get
from litestar.params import FromPath

from app.infra.problems import NotFound
from app.infra.web import MinPosition, ServicesDep, WaitMs, read_view, view_response
from app.queries.order_details import store
from app.queries.order_details.projector import VIEW


@get("/orders/{order_id:uuid}", tags=["orders"], summary="An order's whole story, from every module's events")
async def order_details(
    services: ServicesDep,
    order_id: FromPath[UUID],
    x_min_position: MinPosition = None,
    x_wait_ms: WaitMs = None,
) -> Response[store.OrderDetails]:
    read = await read_view(services, VIEW, x_min_position, x_wait_ms)
    found = await store.order(read, order_id)
    if found is None:
        raise NotFound(f"order {order_id} does not exist (or is not in the view yet)")
    return view_response(found, read)


routes = [order_details]
