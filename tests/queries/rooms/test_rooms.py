"""GET /rooms: every room, by name."""

from __future__ import annotations

from typing import Any

from tests.helpers import add_room


async def test_room_is_created_and_listed(client: Any) -> None:
    created = await add_room(client, "Alpha", 8)
    assert created["capacity"] == 8 and created["location"] is None
    r = await client.get("/rooms", headers={"X-Min-Position": created["position"]})
    assert r.status_code == 200
    assert any(room["id"] == created["id"] for room in r.json()["items"])
    assert r.headers["X-View-Position"]
