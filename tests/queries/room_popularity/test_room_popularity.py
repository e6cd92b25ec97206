"""GET /rooms/popularity: rooms ranked by their bookings' overlap with a window."""

from __future__ import annotations

from typing import Any

from tests.helpers import add_room, reserve


async def test_popularity_ranks_by_overlap_with_the_window(client: Any) -> None:
    busy = await add_room(client, "Pop busy")
    quiet = await add_room(client, "Pop quiet")
    await add_room(client, "Pop empty")
    await reserve(client, busy["id"], "p", 20, 8, 10)
    await reserve(client, busy["id"], "p", 20, 11, 14)
    last = (await reserve(client, quiet["id"], "p", 20, 6, 12)).json()
    cancelled = (await reserve(client, quiet["id"], "p", 20, 13, 14)).json()
    last = (await client.post(f"/reservations/{cancelled['id']}/cancel")).json()
    r = await client.get(
        "/rooms/popularity?from=2027-01-20T09:00:00Z&to=2027-01-20T13:00:00Z",
        headers={"X-Min-Position": last["position"]},
    )
    assert r.status_code == 200
    items = r.json()["items"]
    assert [(i["name"], i["reservations"], i["booked_hours"]) for i in items] == [
        ("Pop busy", 2, 3.0),  # 9-10 and 11-13 inside the window
        ("Pop quiet", 1, 3.0),  # 9-12
    ]
    limited = await client.get("/rooms/popularity?from=2027-01-20T09:00:00Z&to=2027-01-20T13:00:00Z&limit=1")
    assert len(limited.json()["items"]) == 1
