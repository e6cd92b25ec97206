"""GET /orders/{id}: one document composed from every module's events, read from its own
table (no call into the command modules)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from tests.food import consumer, details_when, place, restaurant


async def test_an_order_is_composed_from_orders_accounting_and_kitchen(client: Any) -> None:
    ada, shop = await consumer(client, "Details Ada"), await restaurant(client, "Details Pizza")
    order = await place(client, ada, shop["id"], [("marg", 2), ("bread", 1)])
    first = await client.get(f"/orders/{order['id']}", headers={"X-Min-Position": order["position"]})
    assert first.status_code == 200, first.text
    doc = first.json()
    assert doc["restaurant"] == {"id": shop["id"], "name": "Details Pizza"} and doc["consumer_id"] == ada
    assert [(i["menu_item_id"], i["name"], i["price"], i["quantity"]) for i in doc["line_items"]] == [
        ("marg", "Margherita Pizza", "12.50", 2),
        ("bread", "Garlic Bread", "4.00", 1),
    ]
    assert doc["total"] == "29.00"
    approved = await details_when(client, order["id"], lambda d: d["state"] == "APPROVED")
    assert approved["payment"] == {"status": "authorized"} and approved["ticket"] is not None
    assert approved["delivery"] is None and approved["updated_at"] >= approved["created_at"]


async def test_an_unknown_order_is_404_with_the_position_read(client: Any) -> None:
    r = await client.get(f"/orders/{uuid4()}")
    assert r.status_code == 404 and r.headers["X-View-Position"]
