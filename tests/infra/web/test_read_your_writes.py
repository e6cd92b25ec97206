"""A command's X-Position, handed to a query as X-Min-Position, makes the write visible."""

from __future__ import annotations

from typing import Any

from tests.helpers import add_room, reserve


async def test_every_write_is_visible_to_the_read_that_waits_for_it(client: Any) -> None:
    room = await add_room(client, "RYW")
    for day in range(1, 26):
        r = await reserve(client, room["id"], "ryw-user", day, 8, 9)
        assert r.status_code == 201
        position = r.headers["X-Position"]
        page = await client.get("/users/ryw-user/reservations?page_size=100", headers={"X-Min-Position": position})
        assert page.status_code == 200
        assert r.json()["id"] in [i["id"] for i in page.json()["items"]]
        assert tuple(map(int, page.headers["X-View-Position"].split("."))) >= tuple(map(int, position.split(".")))
        history = await client.get("/users/ryw-user/reservation-history", headers={"X-Min-Position": position})
        assert history.json()["items"][0]["reservation_id"] == r.json()["id"]


async def test_unreachable_position_answers_412_with_the_view_position(client: Any) -> None:
    r = await client.get("/rooms", headers={"X-Min-Position": "999999999.1", "X-Wait-Ms": "50"})
    assert r.status_code == 412
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["view"] == "rooms" and body["status"] == 412
    assert "." in body["view_position"]


async def test_bad_consistency_headers_are_400(client: Any) -> None:
    assert (await client.get("/rooms", headers={"X-Min-Position": "yesterday"})).status_code == 400
    assert (await client.get("/rooms", headers={"X-Min-Position": "1.1", "X-Wait-Ms": "20000"})).status_code == 400
    assert (await client.get("/rooms", headers={"X-Wait-Ms": "soon"})).status_code == 400


async def test_a_view_reaches_positions_of_events_it_ignores(client: Any) -> None:
    room = await add_room(client, "RYW ignored")
    r = await reserve(client, room["id"], "ryw-ignored", 3, 8, 9)
    # The rooms view does not act on reservation events, yet it must say it has seen them.
    page = await client.get("/rooms", headers={"X-Min-Position": r.headers["X-Position"], "X-Wait-Ms": "1000"})
    assert page.status_code == 200
