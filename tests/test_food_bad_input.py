"""Bad input on every food ordering endpoint: a problem with the right 4xx, nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from app.infra.db import Pool
from tests.food import consumer, courier, place, restaurant, state

UNKNOWN = "00000000-0000-7000-8000-000000000000"


@pytest.fixture(scope="module")
async def world(client: Any) -> dict[str, str]:
    c = await consumer(client, "Bad Input Consumer")
    r = await restaurant(client, "Bad Input Bistro")
    await courier(client, "Bad Input Courier")
    o = await place(client, c, r["id"], [("marg", 1)])
    await state(client, o["id"], "APPROVED")
    return {"consumer": c, "restaurant": r["id"], "order": o["id"]}


def restaurant_body(**kw: Any) -> dict[str, Any]:
    return {
        "name": "R",
        "address": "A",
        "lat": 1.0,
        "lon": 1.0,
        "delivery_radius_km": 1,
        "opening_hours": [],
        "menu": [{"id": "a", "name": "A", "price": "1.00"}],
        **kw,
    }


def order_body(**kw: Any) -> dict[str, Any]:
    return {
        "consumer_id": "{consumer}",
        "restaurant_id": "{restaurant}",
        "delivery_address": "x",
        "line_items": [{"menu_item_id": "marg", "quantity": 1}],
        **kw,
    }


CASES: list[tuple[str, str, str, Any, int]] = [
    ("consumer-name-empty", "POST", "/consumers", {"name": ""}, 422),
    ("consumer-credit-number", "POST", "/consumers", {"name": "a", "credit_limit": 12}, 400),
    ("consumer-credit-three-places", "POST", "/consumers", {"name": "a", "credit_limit": "1.234"}, 422),
    ("consumer-credit-negative", "POST", "/consumers", {"name": "a", "credit_limit": "-1.00"}, 422),
    ("consumer-unknown-field", "POST", "/consumers", {"name": "a", "vip": True}, 400),
    ("restaurant-radius-zero", "POST", "/restaurants", restaurant_body(delivery_radius_km=0), 422),
    ("restaurant-lat-out-of-range", "POST", "/restaurants", restaurant_body(lat=91), 422),
    ("restaurant-lat-string", "POST", "/restaurants", restaurant_body(lat="north"), 400),
    ("restaurant-bad-timezone", "POST", "/restaurants", restaurant_body(timezone="Mars/Base"), 422),
    (
        "restaurant-day-7",
        "POST",
        "/restaurants",
        restaurant_body(opening_hours=[{"day": 7, "open": "10:00", "close": "11:00"}]),
        422,
    ),
    (
        "restaurant-hour-25",
        "POST",
        "/restaurants",
        restaurant_body(opening_hours=[{"day": 1, "open": "25:00", "close": "11:00"}]),
        422,
    ),
    ("restaurant-price-word", "POST", "/restaurants", restaurant_body(menu=[{"id": "a", "name": "A", "price": "cheap"}]), 422),
    (
        "restaurant-duplicate-items",
        "POST",
        "/restaurants",
        restaurant_body(menu=[{"id": "a", "name": "A", "price": "1.00"}] * 2),
        422,
    ),
    ("restaurant-missing-name", "POST", "/restaurants", {k: v for k, v in restaurant_body().items() if k != "name"}, 400),
    ("menu-unknown-restaurant", "PUT", f"/restaurants/{UNKNOWN}/menu", {"menu": []}, 404),
    ("menu-bad-price", "PUT", "/restaurants/{restaurant}/menu", {"menu": [{"id": "a", "name": "A", "price": "1.999"}]}, 422),
    ("order-unknown-consumer", "POST", "/orders", order_body(consumer_id=UNKNOWN), 404),
    ("order-unknown-restaurant", "POST", "/orders", order_body(restaurant_id=UNKNOWN), 404),
    ("order-no-lines", "POST", "/orders", order_body(line_items=[]), 422),
    ("order-quantity-zero", "POST", "/orders", order_body(line_items=[{"menu_item_id": "marg", "quantity": 0}]), 422),
    ("order-unknown-item", "POST", "/orders", order_body(line_items=[{"menu_item_id": "sushi", "quantity": 1}]), 422),
    ("order-consumer-not-uuid", "POST", "/orders", order_body(consumer_id="bob"), 400),
    ("order-quantity-string", "POST", "/orders", order_body(line_items=[{"menu_item_id": "marg", "quantity": "1"}]), 400),
    ("cancel-unknown-order", "POST", f"/orders/{UNKNOWN}/cancel", None, 404),
    ("accept-unknown-ticket", "POST", f"/kitchen/tickets/{UNKNOWN}/accept", {"ready_by": "2027-01-01T10:00:00Z"}, 404),
    ("accept-naive-ready-by", "POST", "/kitchen/tickets/{order}/accept", {"ready_by": "2027-01-01T10:00:00"}, 400),
    ("preparing-before-accept", "POST", "/kitchen/tickets/{order}/preparing", None, 409),
    ("ready-before-preparing", "POST", "/kitchen/tickets/{order}/ready", None, 409),
    ("courier-name-empty", "POST", "/couriers", {"name": ""}, 422),
    ("availability-unknown-courier", "POST", f"/couriers/{UNKNOWN}/availability", {"available": True}, 404),
    ("availability-not-bool", "POST", f"/couriers/{UNKNOWN}/availability", {"available": "yes"}, 400),
    ("pickup-without-delivery", "POST", "/deliveries/{order}/pickup", None, 404),
    ("deliver-unknown", "POST", f"/deliveries/{UNKNOWN}/deliver", None, 404),
    ("details-unknown", "GET", f"/orders/{UNKNOWN}", None, 404),
    ("history-bad-status", "GET", "/consumers/{consumer}/orders?status=LOST", None, 400),
    ("history-naive-since", "GET", "/consumers/{consumer}/orders?since=2027-01-01T00:00:00", None, 400),
    ("history-bad-cursor", "GET", "/consumers/{consumer}/orders?cursor=xyz", None, 400),
    ("available-lat-100", "GET", "/restaurants/available?lat=100&lon=0&at=2027-01-01T00:00:00Z", None, 422),
    ("available-no-at", "GET", "/restaurants/available?lat=1&lon=0", None, 400),
    ("available-naive-at", "GET", "/restaurants/available?lat=1&lon=0&at=2027-01-01T00:00:00", None, 400),
    ("available-lon-word", "GET", "/restaurants/available?lat=1&lon=east&at=2027-01-01T00:00:00Z", None, 400),
]

WRITTEN = """
SELECT (SELECT count(*) FROM command.outbox), (SELECT count(*) FROM command.consumers),
       (SELECT count(*) FROM command.restaurants), (SELECT count(*) FROM command.orders),
       (SELECT count(*) FROM command.couriers), (SELECT string_agg(status, ',' ORDER BY order_id) FROM command.kitchen_tickets),
       (SELECT sum(menu_revision) FROM command.restaurants)
"""


def fill(value: Any, world: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**world)
    if isinstance(value, dict):
        return {k: fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, world) for v in value]
    return value


@pytest.mark.parametrize(("method", "path", "body", "status"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_bad_input_is_a_problem_and_writes_nothing(
    client: Any, pool: Pool, world: dict[str, str], method: str, path: str, body: Any, status: int
) -> None:
    before = tuple(await pool.fetchrow(WRITTEN))
    kwargs = {} if body is None else {"json": fill(body, world)}
    response = await client.request(method, fill(path, world), **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == status
    assert tuple(await pool.fetchrow(WRITTEN)) == before
