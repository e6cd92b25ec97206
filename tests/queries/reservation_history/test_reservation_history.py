"""GET /users/{user_id}/reservation-history: every change a user made, newest first, with
what it was before a change."""

from __future__ import annotations

from typing import Any

from tests.helpers import add_room, reserve, slot


async def test_registered_changed_and_cancelled_newest_first(client: Any) -> None:
    blue, green = await add_room(client, "History Blue"), await add_room(client, "History Green")
    made = await reserve(client, blue["id"], "hanna", 3, 9, 10)
    assert made.status_code == 201, made.text
    start, end = slot(3, 11, 12)
    changed = await client.patch(f"/reservations/{made.json()['id']}", json={"room_id": green["id"], "start": start, "end": end})
    assert changed.status_code == 200, changed.text
    cancelled = await client.post(f"/reservations/{made.json()['id']}/cancel")
    r = await client.get("/users/hanna/reservation-history", headers={"X-Min-Position": cancelled.headers["X-Position"]})
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["action"] for i in items] == ["cancelled", "changed", "registered"]
    change = items[1]
    assert (change["room_name"], change["previous_room_id"]) == ("History Green", blue["id"])
    assert (change["start"], change["previous_start"]) == (start, slot(3, 9, 10)[0])
    assert items[2]["previous_start"] is None and items[2]["room_name"] == "History Blue"
