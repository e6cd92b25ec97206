"""GET /users/{user_id}/reservations: a user's reservations, keyset-paginated."""

from __future__ import annotations

from typing import Any

from tests.helpers import add_room, reserve


async def test_lists_are_keyset_paginated_without_repeats(client: Any) -> None:
    room = await add_room(client, "Pages")
    ids = set()
    for day in range(1, 8):
        ids.add((await reserve(client, room["id"], "pager", day + 20, 1, 2)).json()["id"])
    last = (await reserve(client, room["id"], "pager", 29, 1, 2)).json()
    ids.add(last["id"])
    seen: list[str] = []
    cursor = None
    while True:
        url = "/users/pager/reservations?page_size=3" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(url, headers={"X-Min-Position": last["position"]})).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(ids) == len(set(seen)) and set(seen) == ids
