"""GET /restaurants/available: distance, delivery radius, local opening hours."""

from __future__ import annotations

from typing import Any

from tests.food import restaurant

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
