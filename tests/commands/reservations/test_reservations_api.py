"""Rooms and reservations over HTTP, as API.md states them."""

from __future__ import annotations

from typing import Any

from tests.helpers import add_room, reserve, slot


async def test_reservation_lifecycle_shows_in_every_view(client: Any) -> None:
    room = await add_room(client, "Lifecycle")
    other = await add_room(client, "Lifecycle B")
    r = await reserve(client, room["id"], "life-user", 3, 9, 11)
    assert r.status_code == 201, r.text
    reservation = r.json()
    assert reservation["status"] == "active" and reservation["version"] == 1
    assert r.headers["X-Position"] == reservation["position"]

    start, end = slot(3, 12, 15)
    r = await client.patch(
        f"/reservations/{reservation['id']}",
        json={"room_id": other["id"], "start": start, "end": end, "expected_version": 1},
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["room_id"] == other["id"]

    r = await client.post(f"/reservations/{reservation['id']}/cancel")
    assert r.status_code == 200, r.text
    cancelled = r.json()
    assert cancelled["status"] == "cancelled" and cancelled["version"] == 3
    position = cancelled["position"]

    wait = {"X-Min-Position": position}
    mine = (await client.get("/users/life-user/reservations", headers=wait)).json()["items"]
    assert [(x["id"], x["status"], x["version"], x["room_name"]) for x in mine] == [
        (reservation["id"], "cancelled", 3, "Lifecycle B")
    ]
    active = await client.get("/users/life-user/reservations?status=active", headers=wait)
    assert active.json()["items"] == []

    history = (await client.get("/users/life-user/reservation-history", headers=wait)).json()
    actions = [h["action"] for h in history["items"]]
    assert actions == ["cancelled", "changed", "registered"]
    changed = history["items"][1]
    assert changed["previous_room_id"] == room["id"]
    assert changed["previous_start"] == "2027-01-03T09:00:00Z"
    assert changed["start"] == start
    assert history["items"][2]["previous_start"] is None


async def test_overlapping_reservation_is_rejected_but_touching_one_is_not(client: Any) -> None:
    room = await add_room(client, "Overlap")
    assert (await reserve(client, room["id"], "a", 4, 9, 11)).status_code == 201
    clash = await reserve(client, room["id"], "b", 4, 10, 12)
    assert clash.status_code == 409
    assert clash.headers["content-type"].startswith("application/problem+json")
    assert (await reserve(client, room["id"], "b", 4, 11, 12)).status_code == 201  # [11, 12)


async def test_cancelled_reservation_frees_the_slot_and_cannot_change(client: Any) -> None:
    room = await add_room(client, "Freed")
    first = (await reserve(client, room["id"], "a", 5, 9, 10)).json()
    await client.post(f"/reservations/{first['id']}/cancel")
    assert (await reserve(client, room["id"], "b", 5, 9, 10)).status_code == 201
    again = await client.post(f"/reservations/{first['id']}/cancel")
    assert again.status_code == 409
    start, end = slot(6, 9, 10)
    change = await client.patch(f"/reservations/{first['id']}", json={"start": start, "end": end})
    assert change.status_code == 409


async def test_stale_expected_version_is_a_conflict(client: Any) -> None:
    room = await add_room(client, "Stale")
    r = (await reserve(client, room["id"], "a", 7, 9, 10)).json()
    start, end = slot(7, 10, 11)
    ok = await client.patch(f"/reservations/{r['id']}", json={"start": start, "end": end, "expected_version": 1})
    assert ok.status_code == 200
    stale = await client.patch(f"/reservations/{r['id']}", json={"end": end, "expected_version": 1})
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2


async def test_change_into_an_overlap_is_rejected(client: Any) -> None:
    room = await add_room(client, "Into overlap")
    await reserve(client, room["id"], "a", 8, 9, 11)
    mine = (await reserve(client, room["id"], "b", 8, 12, 13)).json()
    start, _ = slot(8, 10, 11)
    r = await client.patch(f"/reservations/{mine['id']}", json={"start": start})
    assert r.status_code == 409
