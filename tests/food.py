"""Helpers for the food ordering tests: a shop to order from, and waiting on the saga."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from app.events.orders import OrderPlaced
from tests.helpers import eventually

ALL_WEEK = [{"day": d, "open": "00:00", "close": "00:00"} for d in range(7)]  # open == close: 24 h
MENU = [
    {"id": "marg", "name": "Margherita Pizza", "price": "12.50"},
    {"id": "bread", "name": "Garlic Bread", "price": "4.00"},
]


async def consumer(client: Any, name: str = "Ada", credit_limit: str = "100.00") -> str:
    r = await client.post("/consumers", json={"name": name, "credit_limit": credit_limit})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def restaurant(client: Any, name: str = "Pizza Palace", **overrides: Any) -> dict[str, Any]:
    body = {
        "name": name,
        "address": "1 Main St",
        "lat": 48.8566,
        "lon": 2.3522,
        "delivery_radius_km": 5,
        "timezone": "Europe/Paris",
        "opening_hours": ALL_WEEK,
        "menu": MENU,
        **overrides,
    }
    r = await client.post("/restaurants", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def courier(client: Any, name: str, available: bool = True) -> str:
    r = await client.post("/couriers", json={"name": name, "available": available})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def place(client: Any, consumer_id: str, restaurant_id: str, lines: list[tuple[str, int]]) -> dict[str, Any]:
    r = await client.post(
        "/orders",
        json={
            "consumer_id": consumer_id,
            "restaurant_id": restaurant_id,
            "delivery_address": "2 Side St",
            "line_items": [{"menu_item_id": i, "quantity": q} for i, q in lines],
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def details_when(client: Any, order_id: str, predicate: Any, timeout: float = 8.0) -> dict[str, Any]:
    """The order's details once `predicate(details)` holds (the saga runs asynchronously)."""

    async def matching() -> dict[str, Any] | None:
        r = await client.get(f"/orders/{order_id}")
        return dict(r.json()) if r.status_code == 200 and predicate(r.json()) else None

    found: dict[str, Any] = await eventually(matching, timeout)
    return found


async def state(client: Any, order_id: str, expected: str) -> dict[str, Any]:
    try:
        return await details_when(client, order_id, lambda d: d["state"] == expected)
    except AssertionError:
        r = await client.get(f"/orders/{order_id}")
        raise AssertionError(f"order never reached {expected}: {r.text}") from None


async def every_saga_path(client: Any) -> None:
    """Drives the saga down each of its paths, each on its own new data: an order delivered
    (a courier who waited for it), one declined, one cancelled after the kitchen accepted."""
    ready_by = {"ready_by": "2027-06-01T12:30:00Z"}
    rich, poor = await consumer(client, "Story Rich"), await consumer(client, "Story Poor", credit_limit="1.00")
    shop = await restaurant(client, "Story Shop")
    delivered, declined, cancelled = (
        await place(client, rich, shop["id"], [("marg", 1)]),
        await place(client, poor, shop["id"], [("marg", 1)]),
        await place(client, rich, shop["id"], [("bread", 1)]),
    )
    await state(client, declined["id"], "REJECTED")
    for order in (delivered, cancelled):
        await state(client, order["id"], "APPROVED")
        assert (await client.post(f"/kitchen/tickets/{order['id']}/accept", json=ready_by)).status_code == 200
        await details_when(client, order["id"], lambda d: d["delivery"] is not None)
    assert (await client.post(f"/orders/{cancelled['id']}/cancel")).status_code == 200
    await details_when(client, cancelled["id"], lambda d: d["payment"]["status"] == "reversed")
    if (await details_when(client, delivered["id"], lambda d: True))["delivery"]["status"] == "WAITING":
        await courier(client, "Story Courier")
    await details_when(client, delivered["id"], lambda d: d["delivery"]["status"] == "ASSIGNED")
    for step in ("kitchen/tickets/{}/preparing", "kitchen/tickets/{}/ready"):
        assert (await client.post("/" + step.format(delivered["id"]))).status_code == 200
    await state(client, delivered["id"], "READY_FOR_PICKUP")
    picked = await eventually(lambda: _accepted(client.post(f"/deliveries/{delivered['id']}/pickup")))
    assert picked
    assert (await client.post(f"/deliveries/{delivered['id']}/deliver")).status_code == 200
    await state(client, delivered["id"], "DELIVERED")


async def _accepted(response: Any) -> bool:
    """Delivery learns the food is ready from an event: pickup answers 409 until it has."""
    return bool((await response).status_code == 200)


def order_placed(consumer_id: UUID, total: str) -> OrderPlaced:
    """An OrderPlaced event as the orders module would append it (for driving reactions)."""
    return OrderPlaced(
        order_id=uuid4(),
        consumer_id=consumer_id,
        restaurant_id=uuid4(),
        restaurant_name="R",
        line_items=[],
        total=Decimal(total),
        delivery_address="here",
        version=1,
        at=datetime(2027, 1, 1, tzinfo=UTC),
    )
