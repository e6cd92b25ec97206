"""Order history (filters, whole-word keywords, pagination under inserts) and the
restaurants available for a place and a time."""

from __future__ import annotations

from typing import Any

from tests.food import consumer, place, restaurant


async def history(client: Any, consumer_id: str, query: str = "", position: str | None = None) -> dict[str, Any]:
    headers = {"X-Min-Position": position} if position else {}
    r = await client.get(f"/consumers/{consumer_id}/orders{query}", headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_keywords_match_whole_words_case_insensitively(client: Any) -> None:
    fay = await consumer(client, "Fay")
    pizza = await restaurant(client, "Pizza Palace")
    sushi = await restaurant(client, "Sushi Bar", menu=[{"id": "maki", "name": "Salmon Maki", "price": "8.00"}])
    a = await place(client, fay, pizza["id"], [("bread", 1)])
    b = await place(client, fay, sushi["id"], [("maki", 2)])
    pos = b["position"]

    def ids(page: dict[str, Any]) -> set[str]:
        return {o["id"] for o in page["items"]}

    assert ids(await history(client, fay, "?keywords=PIZZA", pos)) == {a["id"]}
    assert ids(await history(client, fay, "?keywords=pizz", pos)) == set()  # not a whole word
    assert ids(await history(client, fay, "?keywords=bread,salmon", pos)) == {a["id"], b["id"]}
    assert ids(await history(client, fay, "?keywords=garlic%20bread", pos)) == set()
    assert ids(await history(client, fay, "?keywords=maki", pos)) == {b["id"]}
    everything = await history(client, fay, "", pos)
    assert [o["id"] for o in everything["items"]] == [b["id"], a["id"]]  # newest first
    item = everything["items"][1]
    assert item["restaurant"] == {"id": pizza["id"], "name": "Pizza Palace"}
    assert item["total"] == "4.00" and item["line_items"][0]["name"] == "Garlic Bread"


async def test_status_and_time_filters(client: Any) -> None:
    gus = await consumer(client, "Gus")
    shop = await restaurant(client, "Filter Diner")
    first = await place(client, gus, shop["id"], [("marg", 1)])
    second = await place(client, gus, shop["id"], [("bread", 1)])
    cancelled = await client.post(f"/orders/{first['id']}/cancel")
    pos = cancelled.json()["position"]
    page = await history(client, gus, "?status=CANCELLED", pos)
    assert [o["id"] for o in page["items"]] == [first["id"]]
    all_orders = (await history(client, gus, "", pos))["items"]
    created = {o["id"]: o["created_at"] for o in all_orders}
    since = created[second["id"]].replace("+00:00", "Z")
    page = await history(client, gus, f"?since={since}", pos)
    assert [o["id"] for o in page["items"]] == [second["id"]]
    page = await history(client, gus, f"?until={since}", pos)
    assert [o["id"] for o in page["items"]] == [first["id"]]
    page = await history(client, gus, "?status=CANCELLED&keywords=margherita", pos)
    assert [o["id"] for o in page["items"]] == [first["id"]]


async def test_pagination_returns_each_order_once_while_new_orders_arrive(client: Any) -> None:
    hal = await consumer(client, "Hal")
    shop = await restaurant(client, "Pager Pizza")
    originals = [(await place(client, hal, shop["id"], [("bread", 1)])) for _ in range(7)]
    pos = originals[-1]["position"]
    seen: list[str] = []
    cursor = None
    while True:
        query = "?page_size=3" + (f"&cursor={cursor}" if cursor else "")
        page = await history(client, hal, query, pos)
        seen += [o["id"] for o in page["items"]]
        await place(client, hal, shop["id"], [("bread", 1)])  # newer ones land before the cursor
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert {o["id"] for o in originals} <= set(seen)
