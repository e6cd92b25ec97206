"""POST /consumers: a consumer with a credit limit, known to the orders module and to the
order history view from its event."""

from __future__ import annotations

from typing import Any
from uuid import uuid4


async def test_a_consumer_is_registered_with_its_credit_limit_and_known_to_its_history(client: Any) -> None:
    r = await client.post("/consumers", json={"name": "Grace"})
    assert r.status_code == 201, r.text
    consumer = r.json()
    assert consumer["credit_limit"] == "1000.00" and consumer["name"] == "Grace"  # the default limit
    history = await client.get(f"/consumers/{consumer['id']}/orders", headers={"X-Min-Position": consumer["position"]})
    assert history.status_code == 200 and history.json()["items"] == []
    assert (await client.get(f"/consumers/{uuid4()}/orders")).status_code == 404


async def test_a_credit_limit_is_money(client: Any) -> None:
    for limit in ("12.345", "-1.00", "lots", 12):
        r = await client.post("/consumers", json={"name": "Bad limit", "credit_limit": limit})
        assert r.status_code in (400, 422), (limit, r.text)
    r = await client.post("/consumers", json={"name": "Exact", "credit_limit": "250.5"})
    assert r.status_code == 201 and r.json()["credit_limit"] == "250.50"
