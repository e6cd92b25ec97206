"""Helpers for the food ordering tests: a shop to order from, and waiting on the saga."""

from __future__ import annotations

from typing import Any

import anyio

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
    last: Any = None
    with anyio.fail_after(timeout):
        while True:
            r = await client.get(f"/orders/{order_id}")
            if r.status_code == 200:
                last = r.json()
                if predicate(last):
                    return dict(last)
            await anyio.sleep(0.02)


async def state(client: Any, order_id: str, expected: str) -> dict[str, Any]:
    try:
        return await details_when(client, order_id, lambda d: d["state"] == expected)
    except TimeoutError:
        r = await client.get(f"/orders/{order_id}")
        raise AssertionError(f"order never reached {expected}: {r.text}") from None
