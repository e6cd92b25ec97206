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


PARIS = (48.8566, 2.3522)


async def test_available_restaurants_by_distance_radius_and_local_hours(client: Any) -> None:
    # Open Monday 22:00 -> Tuesday 02:00 Paris time (past midnight).
    late = await restaurant(
        client,
        "Late Night",
        lat=48.86,
        lon=2.35,
        delivery_radius_km=3,
        opening_hours=[{"day": 0, "open": "22:00", "close": "02:00"}],
    )
    # Open every day 11:00-23:00 New York time, but in Paris.
    ny = await restaurant(
        client,
        "NY Hours",
        lat=48.87,
        lon=2.36,
        delivery_radius_km=5,
        timezone="America/New_York",
        opening_hours=[{"day": d, "open": "11:00", "close": "23:00"} for d in range(7)],
    )
    far = await restaurant(
        client,
        "Too Far",
        lat=48.95,
        lon=2.6,
        delivery_radius_km=2,
        opening_hours=[{"day": d, "open": "00:00", "close": "00:00"} for d in range(7)],
    )

    async def open_at(at: str) -> list[str]:
        r = await client.get(
            f"/restaurants/available?lat={PARIS[0]}&lon={PARIS[1]}&at={at}", headers={"X-Min-Position": far["position"]}
        )
        assert r.status_code == 200, r.text
        return [i["name"] for i in r.json()["items"] if i["name"] in ("Late Night", "NY Hours", "Too Far")]

    # 2027-03-01 is a Monday. Paris is UTC+1 and New York UTC-5 then (before either DST change).
    assert await open_at("2027-03-01T21:30:00Z") == ["Late Night", "NY Hours"]  # Mon 22:30 Paris, 16:30 NY
    assert await open_at("2027-03-02T00:30:00Z") == ["Late Night", "NY Hours"]  # Tue 01:30 Paris (past midnight)
    assert await open_at("2027-03-02T01:30:00Z") == ["NY Hours"]  # Tue 02:30 Paris: closed
    assert await open_at("2027-03-01T20:59:00Z") == ["NY Hours"]  # Mon 21:59 Paris: not yet
    assert await open_at("2027-03-02T21:30:00Z") == ["NY Hours"]  # Tue 22:30 Paris: Mondays only
    assert await open_at("2027-03-01T15:30:00Z") == []  # 10:30 in New York
    there = await client.get("/restaurants/available?lat=48.95&lon=2.6&at=2027-03-01T15:30:00Z")
    assert [i["name"] for i in there.json()["items"]] == ["Too Far"]  # 24 h, but only within 2 km of it
    r = await client.get(f"/restaurants/available?lat={PARIS[0]}&lon={PARIS[1]}&at=2027-03-01T21:30:00Z")
    items = [i for i in r.json()["items"] if i["name"] in ("Late Night", "NY Hours")]
    assert [i["name"] for i in items] == ["Late Night", "NY Hours"]  # nearest first
    assert 0.3 < items[0]["distance_km"] < 0.5
    _ = (late, ny)


async def test_coordinates_too_small_for_float8_trigonometry_are_kept_to_a_billionth_of_a_degree(client: Any) -> None:
    """A latitude of 1e-300 once made PostgreSQL's float8 arithmetic underflow: a 500 on the
    read, and a view that could not apply the restaurant. Found by the fuzzer."""
    tiny = await restaurant(client, "Null Island Noodles", lat=1e-300, lon=-1e-300)
    assert (tiny["lat"], tiny["lon"]) == (0.0, 0.0)
    r = await client.get(
        "/restaurants/available?lat=1e-300&lon=0&at=2027-01-04T12:00:00Z",
        headers={"X-Min-Position": tiny["position"], "X-Wait-Ms": "5000"},
    )
    assert r.status_code == 200, r.text
    assert "Null Island Noodles" in [item["name"] for item in r.json()["items"]]
    assert (await client.get("/health/ready")).status_code == 200
