"""Bad input on every endpoint: an RFC 9457 problem with the right 4xx and a status the
OpenAPI document lists for the operation, never a 5xx, and nothing written."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.infra.db import Pool
from app.infra.web.problems import KINDS, problem_type
from tests.food import consumer, courier, place, restaurant, state
from tests.helpers import add_room, reserve

UNKNOWN = "00000000-0000-7000-8000-000000000000"
GOOD_START, GOOD_END = "2027-05-01T09:00:00Z", "2027-05-01T10:00:00Z"


@pytest.fixture(scope="module")
async def world(client: Any) -> dict[str, str]:
    room = await add_room(client, "Bad input room")
    reservation = (await reserve(client, room["id"], "bad-input", 1, 9, 10)).json()
    c = await consumer(client, "Bad Input Consumer")
    r = await restaurant(client, "Bad Input Bistro")
    pricey = await restaurant(client, "Gold Leaf", menu=[{"id": "gold", "name": "Gold", "price": "9999999999.00"}])
    await courier(client, "Bad Input Courier")
    o = await place(client, c, r["id"], [("marg", 1)])
    await state(client, o["id"], "APPROVED")
    gold = await place(client, c, pricey["id"], [("gold", 1)])  # the orders module knows the menu now
    await state(client, gold["id"], "REJECTED")  # the saga has nothing more to write
    hook = await client.post("/listeners", json=listener_body())
    assert hook.status_code == 201, hook.text
    return {
        "room": room["id"],
        "reservation": reservation["id"],
        "consumer": c,
        "restaurant": r["id"],
        "pricey": pricey["id"],
        "order": o["id"],
        "listener": hook.json()["id"],
    }


@pytest.fixture(scope="module")
async def documented(client: Any) -> dict[str, Any]:
    return dict((await client.get("/schema/openapi.json")).json()["paths"])


def reservation_body(**kw: Any) -> dict[str, Any]:
    return {"room_id": "{room}", "user_id": "u", "start": GOOD_START, "end": GOOD_END, **kw}


def restaurant_body(**kw: Any) -> dict[str, Any]:
    return {
        "name": "R",
        "address": "A",
        "lat": 1.0,
        "lon": 1.0,
        "delivery_radius_km": 1,
        "opening_hours": [],
        "menu": [{"id": "a", "name": "A", "price": "1.00"}],
        **kw,
    }


def listener_body(**kw: Any) -> dict[str, Any]:
    return {
        "name": "hook",
        "event_types": ["orders.order_placed"],
        "target": {"kind": "webhook", "url": "http://127.0.0.1:9/hooks"},
        **kw,
    }


def webhook(url: str) -> dict[str, Any]:
    return {"kind": "webhook", "url": url}


def order_body(**kw: Any) -> dict[str, Any]:
    return {
        "consumer_id": "{consumer}",
        "restaurant_id": "{restaurant}",
        "delivery_address": "x",
        "line_items": [{"menu_item_id": "marg", "quantity": 1}],
        **kw,
    }


NUL = "a\u0000b"
EARLY, LATE = "0001-01-01T00:00:10+01:00", "9999-12-31T23:59:59-01:00"
WINDOW = "from=2027-01-01T00:00:00Z&to=2027-01-02T00:00:00Z"

# id, method, path, body (a str is sent as raw bytes; bytes as they are), status[, headers]
CASES: list[tuple[Any, ...]] = [
    # No text PostgreSQL cannot store (NUL), in any body field, path or query parameter.
    ("nul-room-name", "POST", "/rooms", {"name": NUL, "capacity": 1}, 422),
    ("nul-room-location", "POST", "/rooms", {"name": "a", "capacity": 1, "location": NUL}, 422),
    ("nul-consumer-name", "POST", "/consumers", {"name": NUL}, 422),
    ("nul-courier-name", "POST", "/couriers", {"name": NUL}, 422),
    ("nul-restaurant-name", "POST", "/restaurants", restaurant_body(name=NUL), 422),
    ("nul-restaurant-address", "POST", "/restaurants", restaurant_body(address=NUL), 422),
    ("nul-restaurant-timezone", "POST", "/restaurants", restaurant_body(timezone=NUL), 422),
    ("nul-menu-item-name", "PUT", "/restaurants/{restaurant}/menu", {"menu": [{"id": "a", "name": NUL, "price": "1.00"}]}, 422),
    ("nul-menu-item-id", "PUT", "/restaurants/{restaurant}/menu", {"menu": [{"id": NUL, "name": "A", "price": "1.00"}]}, 422),
    ("nul-reservation-user", "POST", "/reservations", reservation_body(user_id=NUL), 422),
    ("nul-order-address", "POST", "/orders", order_body(delivery_address=NUL), 422),
    ("nul-order-item", "POST", "/orders", order_body(line_items=[{"menu_item_id": NUL, "quantity": 1}]), 422),
    ("nul-user-in-path", "GET", "/users/a%00b/reservations", None, 400),
    ("nul-user-in-history-path", "GET", "/users/a%00b/reservation-history", None, 400),
    ("nul-keywords", "GET", "/consumers/{consumer}/orders?keywords=a%00b", None, 400),
    ("slash-in-user-id", "POST", "/reservations", reservation_body(user_id="a/b"), 422),
    # Integers past what the database holds.
    ("capacity-past-int4", "POST", "/rooms", {"name": "a", "capacity": 2147483648}, 422),
    ("capacity-past-int64", "POST", "/rooms", {"name": "a", "capacity": 2**70}, 422),
    ("version-past-int4", "PATCH", "/reservations/{reservation}", {"start": GOOD_START, "expected_version": 2**31}, 422),
    ("quantity-too-many", "POST", "/orders", order_body(line_items=[{"menu_item_id": "marg", "quantity": 10**6}]), 422),
    (
        "total-past-numeric",
        "POST",
        "/orders",
        order_body(restaurant_id="{pricey}", line_items=[{"menu_item_id": "gold", "quantity": 2}]),
        422,
    ),
    # Timestamps whose UTC value cannot be stored or shifted.
    ("reserve-start-too-early", "POST", "/reservations", reservation_body(start=EARLY), 422),
    ("reserve-end-too-late", "POST", "/reservations", reservation_body(end=LATE), 422),
    ("change-start-too-early", "PATCH", "/reservations/{reservation}", {"start": EARLY}, 422),
    ("accept-ready-by-too-late", "POST", "/kitchen/tickets/{order}/accept", {"ready_by": LATE}, 422),
    ("available-at-too-early", "GET", "/restaurants/available?lat=1&lon=1&at=0001-01-01T00:00:10%2B01:00", None, 422),
    ("available-at-too-late", "GET", "/restaurants/available?lat=1&lon=1&at=9999-12-31T23:59:59-01:00", None, 422),
    ("popularity-from-too-early", "GET", "/rooms/popularity?from=0001-01-01T00:00:10%2B01:00&to=2027-01-01T00:00:00Z", None, 422),
    ("popularity-to-too-late", "GET", "/rooms/popularity?from=2027-01-01T00:00:00Z&to=9999-12-31T23:59:59-01:00", None, 422),
    ("history-since-too-early", "GET", "/consumers/{consumer}/orders?since=0001-01-01T00:00:10%2B01:00", None, 422),
    ("history-until-too-late", "GET", "/consumers/{consumer}/orders?until=9999-12-31T23:59:59-01:00", None, 422),
    # Bodies no decoder should meet.
    ("nested-too-deep", "POST", "/rooms", "[" * 100_000 + "]" * 100_000, 400),
    ("nested-in-a-field", "POST", "/rooms", '{"name": ' + "[" * 100_000 + "]" * 100_000 + "}", 400),
    ("not-utf-8", "POST", "/rooms", b'{"name": "\xff\xfe", "capacity": 1}', 400),
    ("body-too-large", "POST", "/rooms", '{"name": "' + "a" * (2 * 1024 * 1024) + '", "capacity": 1}', 413),
    ("empty-body", "POST", "/rooms", "", 400),
    # Listeners: every bad registration of API.md names its field, and nothing is stored.
    ("listener-no-types", "POST", "/listeners", listener_body(event_types=[]), 422),
    ("listener-unknown-type", "POST", "/listeners", listener_body(event_types=["orders.order_eaten"]), 422),
    ("listener-filter-does-not-parse", "POST", "/listeners", listener_body(filter="$.total >"), 422),
    ("listener-filter-not-a-predicate", "POST", "/listeners", listener_body(filter="$.total"), 422),
    ("listener-field-not-a-path", "POST", "/listeners", listener_body(fields={"id": "$.order_id +"}), 422),
    (
        "listener-host-label-too-long",
        "POST",
        "/listeners",
        listener_body(target={"kind": "webhook", "url": "http://" + "\u00e9" * 64 + ".example/h"}),
        422,
    ),
    ("listener-filter-escaped-variable", "POST", "/listeners", listener_body(filter='$"\\u0061ctor" == "x"'), 422),
    (
        "listener-nats-api-subject",
        "POST",
        "/listeners",
        listener_body(target={"kind": "nats", "subject": "$JS.API.STREAM.PURGE.X"}),
        422,
    ),
    (
        "listener-host-header",
        "POST",
        "/listeners",
        listener_body(target={"kind": "webhook", "url": "http://127.0.0.1:9/h", "headers": {"Host": "x"}}),
        422,
    ),
    ("listener-ends-before-starts", "POST", "/listeners", listener_body(starts_at=GOOD_END, ends_at=GOOD_START), 422),
    ("listener-ftp", "POST", "/listeners", listener_body(target=webhook("ftp://127.0.0.1/x")), 422),
    ("listener-user-info", "POST", "/listeners", listener_body(target=webhook("http://me:pw@127.0.0.1/x")), 422),
    ("listener-private-host", "POST", "/listeners", listener_body(target=webhook("http://10.1.2.3/x")), 422),
    ("listener-link-local", "POST", "/listeners", listener_body(target=webhook("http://169.254.169.254/x")), 422),
    ("listener-unresolvable", "POST", "/listeners", listener_body(target=webhook("http://nowhere.invalid/x")), 422),
    ("listener-ipv6-link-local", "POST", "/listeners", listener_body(target=webhook("http://[fe80::1]/x")), 422),
    ("listener-ipv4-mapped-private", "POST", "/listeners", listener_body(target=webhook("http://[::ffff:10.0.0.1]/x")), 422),
    ("listener-unknown-kind", "POST", "/listeners", listener_body(target={"kind": "smtp", "to": "a@b"}), 400),
    ("listener-nats-bad-subject", "POST", "/listeners", listener_body(target={"kind": "nats", "subject": "a b"}), 422),
    ("listener-change-unknown", "PATCH", f"/listeners/{UNKNOWN}", {"paused": True}, 404),
    ("listener-change-bad-filter", "PATCH", "/listeners/{listener}", {"filter": "nonsense"}, 422),
    ("listener-delete-unknown", "DELETE", f"/listeners/{UNKNOWN}", None, 404),
    ("listener-rotate-unknown", "POST", f"/listeners/{UNKNOWN}/rotate-secret", None, 404),
    ("listener-redeliver-never-matched", "POST", f"/listeners/{{listener}}/deliveries/{UNKNOWN}/redeliver", None, 404),
    ("listener-read-unknown", "GET", f"/listeners/{UNKNOWN}", None, 404),
    ("deliveries-bad-status", "GET", "/listeners/{listener}/deliveries?status=lost", None, 400),
    ("deliveries-bad-cursor", "GET", "/listeners/{listener}/deliveries?cursor=xyz", None, 400),
    (
        "deliveries-cursor-past-bigint",
        "GET",
        "/listeners/{listener}/deliveries?cursor=WzExODA1OTE2MjA3MTc0MTEzMDM0MjRd",
        None,
        400,
    ),
    (
        "listeners-cursor-nul",
        "GET",
        "/listeners?cursor=WyJhXHUwMDAwYiIsICIwMWEyNDcyMS1jZjdmLTc5ZTctODdjNy0yY2RhNjhkYjE0ZWYiXQ",
        None,
        400,
    ),
    ("deliveries-unknown-listener", "GET", f"/listeners/{UNKNOWN}/deliveries", None, 404),
    ("listeners-page-size-zero", "GET", "/listeners?page_size=0", None, 400),
    ("listeners-bad-cursor", "GET", "/listeners?cursor=WzEsMl0", None, 400),
    ("listener-path-not-uuid", "GET", "/listeners/nope", None, 404),
    # Unknown ids in the path of a query.
    ("history-unknown-consumer", "GET", f"/consumers/{UNKNOWN}/orders", None, 404),
    # Missing required query parameters.
    ("available-no-lat", "GET", "/restaurants/available?lon=1&at=2027-01-01T00:00:00Z", None, 400),
    ("popularity-no-to", "GET", "/rooms/popularity?from=2027-01-01T00:00:00Z", None, 400),
    # id, method, path, json body (str = raw bytes), headers, status
    ("room-malformed-json", "POST", "/rooms", "{bad", 400),
    ("room-array-body", "POST", "/rooms", "[]", 400),
    ("room-name-wrong-type", "POST", "/rooms", {"name": 1, "capacity": 2}, 400),
    ("room-capacity-missing", "POST", "/rooms", {"name": "a"}, 400),
    ("room-capacity-string", "POST", "/rooms", {"name": "a", "capacity": "2"}, 400),
    ("room-unknown-field", "POST", "/rooms", {"name": "a", "capacity": 2, "colour": "red"}, 400),
    ("room-name-empty", "POST", "/rooms", {"name": "", "capacity": 2}, 422),
    ("room-name-too-long", "POST", "/rooms", {"name": "x" * 201, "capacity": 2}, 422),
    ("room-capacity-zero", "POST", "/rooms", {"name": "a", "capacity": 0}, 422),
    (
        "room-key-too-long",
        "POST",
        "/rooms",
        {"name": "a", "capacity": 1},
        400,
        {"Idempotency-Key": "k" * 201},
    ),
    ("reserve-room-not-uuid", "POST", "/reservations", reservation_body(room_id="nope"), 400),
    ("reserve-naive-start", "POST", "/reservations", reservation_body(start="2027-05-01T09:00:00"), 400),
    ("reserve-start-not-a-time", "POST", "/reservations", reservation_body(start="tomorrow"), 400),
    ("reserve-end-missing", "POST", "/reservations", {"room_id": "{room}", "user_id": "u", "start": GOOD_START}, 400),
    ("reserve-end-before-start", "POST", "/reservations", reservation_body(end="2027-05-01T08:00:00Z"), 422),
    ("reserve-end-equals-start", "POST", "/reservations", reservation_body(end=GOOD_START), 422),
    ("reserve-user-empty", "POST", "/reservations", reservation_body(user_id=""), 422),
    ("reserve-user-too-long", "POST", "/reservations", reservation_body(user_id="u" * 101), 422),
    ("reserve-unknown-room", "POST", "/reservations", reservation_body(room_id=UNKNOWN), 404),
    ("reserve-overlap", "POST", "/reservations", reservation_body(start="2027-01-01T09:30:00Z", end="2027-01-01T10:30:00Z"), 409),
    ("change-unknown", "PATCH", f"/reservations/{UNKNOWN}", {"start": GOOD_START}, 404),
    ("change-path-not-uuid", "PATCH", "/reservations/nope", {"start": GOOD_START}, 404),
    ("change-nothing", "PATCH", "/reservations/{reservation}", {}, 422),
    ("change-naive", "PATCH", "/reservations/{reservation}", {"start": "2027-05-01T09:00:00"}, 400),
    ("change-version-string", "PATCH", "/reservations/{reservation}", {"start": GOOD_START, "expected_version": "1"}, 400),
    ("change-end-before-start", "PATCH", "/reservations/{reservation}", {"start": GOOD_END, "end": GOOD_START}, 422),
    ("change-end-before-kept-start", "PATCH", "/reservations/{reservation}", {"end": "2027-01-01T08:00:00Z"}, 422),
    ("change-unknown-field", "PATCH", "/reservations/{reservation}", {"start": GOOD_START, "user_id": "x"}, 400),
    ("change-unknown-room", "PATCH", "/reservations/{reservation}", {"room_id": UNKNOWN}, 404),
    ("change-stale-version", "PATCH", "/reservations/{reservation}", {"start": GOOD_START, "expected_version": 7}, 409),
    ("cancel-unknown", "POST", f"/reservations/{UNKNOWN}/cancel", None, 404),
    ("list-bad-status", "GET", "/users/u/reservations?status=maybe", None, 400),
    ("list-page-size-zero", "GET", "/users/u/reservations?page_size=0", None, 400),
    ("list-page-size-101", "GET", "/users/u/reservations?page_size=101", None, 400),
    ("list-bad-cursor", "GET", "/users/u/reservations?cursor=%25%25", None, 400),
    ("history-bad-cursor", "GET", "/users/u/reservation-history?cursor=bm90LWpzb24", None, 400),
    ("rooms-bad-cursor", "GET", "/rooms?cursor=WzEsMl0", None, 400),
    # Cursors edited into values of the right type that no row can have.
    (
        "list-cursor-past-year-9999",
        "GET",
        "/users/u/reservations?cursor=WyI5OTk5LTEyLTMxVDIzOjU5OjU5LTIzOjU5IiwgIjAxYTI0NzIxLWNmN2YtNzllNy04N2M3LTJjZGE2OGRiMTRlZiJd",
        None,
        400,
    ),
    (
        "history-cursor-past-year-9999",
        "GET",
        "/users/u/reservation-history?cursor=WyI5OTk5LTEyLTMxVDIzOjU5OjU5LTIzOjU5IiwgIjAxYTI0NzIxLWNmN2YtNzllNy04N2M3LTJjZGE2OGRiMTRlZiJd",
        None,
        400,
    ),
    (
        "list-cursor-naive",
        "GET",
        "/users/u/reservations?cursor=WyIyMDI3LTAxLTAxVDAwOjAwOjAwIiwgIjAxYTI0NzIxLWNmN2YtNzllNy04N2M3LTJjZGE2OGRiMTRlZiJd",
        None,
        400,
    ),
    (
        "rooms-cursor-nul",
        "GET",
        "/rooms?cursor=WyJhXHUwMDAwYiIsICIwMWEyNDcyMS1jZjdmLTc5ZTctODdjNy0yY2RhNjhkYjE0ZWYiXQ",
        None,
        400,
    ),
    ("popularity-no-window", "GET", "/rooms/popularity", None, 400),
    ("popularity-to-before-from", "GET", "/rooms/popularity?from=2027-01-02T00:00:00Z&to=2027-01-01T00:00:00Z", None, 422),
    ("popularity-naive", "GET", "/rooms/popularity?from=2027-01-01T00:00:00&to=2027-01-02T00:00:00Z", None, 400),
    ("popularity-garbage", "GET", "/rooms/popularity?from=soon&to=2027-01-02T00:00:00Z", None, 400),
    ("popularity-limit-zero", "GET", "/rooms/popularity?from=2027-01-01T00:00:00Z&to=2027-01-02T00:00:00Z&limit=0", None, 400),
    ("popularity-limit-101", "GET", "/rooms/popularity?from=2027-01-01T00:00:00Z&to=2027-01-02T00:00:00Z&limit=101", None, 400),
    ("unknown-path", "GET", "/nowhere", None, 404),
    ("wrong-method", "DELETE", "/rooms", None, 405),
    ("consumer-name-empty", "POST", "/consumers", {"name": ""}, 422),
    ("consumer-credit-number", "POST", "/consumers", {"name": "a", "credit_limit": 12}, 400),
    ("consumer-credit-three-places", "POST", "/consumers", {"name": "a", "credit_limit": "1.234"}, 422),
    ("consumer-credit-negative", "POST", "/consumers", {"name": "a", "credit_limit": "-1.00"}, 422),
    ("consumer-unknown-field", "POST", "/consumers", {"name": "a", "vip": True}, 400),
    ("restaurant-radius-zero", "POST", "/restaurants", restaurant_body(delivery_radius_km=0), 422),
    ("restaurant-lat-out-of-range", "POST", "/restaurants", restaurant_body(lat=91), 422),
    ("restaurant-lat-string", "POST", "/restaurants", restaurant_body(lat="north"), 400),
    ("restaurant-bad-timezone", "POST", "/restaurants", restaurant_body(timezone="Mars/Base"), 422),
    (
        "restaurant-day-7",
        "POST",
        "/restaurants",
        restaurant_body(opening_hours=[{"day": 7, "open": "10:00", "close": "11:00"}]),
        422,
    ),
    (
        "restaurant-hour-25",
        "POST",
        "/restaurants",
        restaurant_body(opening_hours=[{"day": 1, "open": "25:00", "close": "11:00"}]),
        422,
    ),
    ("restaurant-price-word", "POST", "/restaurants", restaurant_body(menu=[{"id": "a", "name": "A", "price": "cheap"}]), 422),
    (
        "restaurant-duplicate-items",
        "POST",
        "/restaurants",
        restaurant_body(menu=[{"id": "a", "name": "A", "price": "1.00"}] * 2),
        422,
    ),
    ("restaurant-missing-name", "POST", "/restaurants", {k: v for k, v in restaurant_body().items() if k != "name"}, 400),
    ("menu-unknown-restaurant", "PUT", f"/restaurants/{UNKNOWN}/menu", {"menu": []}, 404),
    ("menu-bad-price", "PUT", "/restaurants/{restaurant}/menu", {"menu": [{"id": "a", "name": "A", "price": "1.999"}]}, 422),
    ("order-unknown-consumer", "POST", "/orders", order_body(consumer_id=UNKNOWN), 404),
    ("order-unknown-restaurant", "POST", "/orders", order_body(restaurant_id=UNKNOWN), 404),
    ("order-no-lines", "POST", "/orders", order_body(line_items=[]), 422),
    ("order-quantity-zero", "POST", "/orders", order_body(line_items=[{"menu_item_id": "marg", "quantity": 0}]), 422),
    ("order-unknown-item", "POST", "/orders", order_body(line_items=[{"menu_item_id": "sushi", "quantity": 1}]), 422),
    ("order-consumer-not-uuid", "POST", "/orders", order_body(consumer_id="bob"), 400),
    ("order-quantity-string", "POST", "/orders", order_body(line_items=[{"menu_item_id": "marg", "quantity": "1"}]), 400),
    ("cancel-unknown-order", "POST", f"/orders/{UNKNOWN}/cancel", None, 404),
    ("accept-unknown-ticket", "POST", f"/kitchen/tickets/{UNKNOWN}/accept", {"ready_by": "2027-01-01T10:00:00Z"}, 404),
    ("accept-naive-ready-by", "POST", "/kitchen/tickets/{order}/accept", {"ready_by": "2027-01-01T10:00:00"}, 400),
    ("preparing-before-accept", "POST", "/kitchen/tickets/{order}/preparing", None, 409),
    ("ready-before-preparing", "POST", "/kitchen/tickets/{order}/ready", None, 409),
    ("courier-name-empty", "POST", "/couriers", {"name": ""}, 422),
    ("availability-unknown-courier", "POST", f"/couriers/{UNKNOWN}/availability", {"available": True}, 404),
    ("availability-not-bool", "POST", f"/couriers/{UNKNOWN}/availability", {"available": "yes"}, 400),
    ("pickup-without-delivery", "POST", "/deliveries/{order}/pickup", None, 404),
    ("deliver-unknown", "POST", f"/deliveries/{UNKNOWN}/deliver", None, 404),
    ("details-unknown", "GET", f"/orders/{UNKNOWN}", None, 404),
    ("history-bad-status", "GET", "/consumers/{consumer}/orders?status=LOST", None, 400),
    ("history-naive-since", "GET", "/consumers/{consumer}/orders?since=2027-01-01T00:00:00", None, 400),
    ("history-bad-cursor", "GET", "/consumers/{consumer}/orders?cursor=xyz", None, 400),
    (
        "orders-cursor-past-year-9999",
        "GET",
        "/consumers/{consumer}/orders?cursor=WyI5OTk5LTEyLTMxVDIzOjU5OjU5LTIzOjU5IiwgIjAxYTI0NzIxLWNmN2YtNzllNy04N2M3LTJjZGE2OGRiMTRlZiJd",
        None,
        400,
    ),
    ("available-lat-100", "GET", "/restaurants/available?lat=100&lon=0&at=2027-01-01T00:00:00Z", None, 422),
    ("available-no-at", "GET", "/restaurants/available?lat=1&lon=0", None, 400),
    ("available-naive-at", "GET", "/restaurants/available?lat=1&lon=0&at=2027-01-01T00:00:00", None, 400),
    ("available-lon-word", "GET", "/restaurants/available?lat=1&lon=east&at=2027-01-01T00:00:00Z", None, 400),
]

WRITTEN = """
SELECT (SELECT count(*) FROM command.outbox), (SELECT count(*) FROM command.idempotency_keys),
       (SELECT count(*) FROM command.rooms), (SELECT count(*) FROM command.reservations),
       (SELECT coalesce(sum(version), 0) FROM command.reservations), (SELECT count(*) FROM command.consumers),
       (SELECT count(*) FROM command.restaurants), (SELECT sum(menu_revision) FROM command.restaurants),
       (SELECT count(*) FROM command.orders), (SELECT string_agg(state, ',' ORDER BY id) FROM command.orders),
       (SELECT count(*) FROM command.couriers), (SELECT string_agg(available::text, ',' ORDER BY id) FROM command.couriers),
       (SELECT string_agg(status, ',' ORDER BY order_id) FROM command.kitchen_tickets),
       (SELECT string_agg(status, ',' ORDER BY order_id) FROM command.deliveries),
       (SELECT count(*) FROM command.listeners), (SELECT string_agg(name || paused::text || coalesce(filter, ''), ',' ORDER BY id) FROM command.listeners)
"""


def fill(value: Any, world: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**world)
    if isinstance(value, dict):
        return {k: fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, world) for v in value]
    return value


def operation(documented: dict[str, Any], method: str, path: str) -> dict[str, Any] | None:
    """The OpenAPI operation that serves `method path`, if any."""
    for template, item in documented.items():
        if re.fullmatch(re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)), path) and method.lower() in item:
            return dict(item[method.lower()])
    return None


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
async def test_bad_input_is_a_documented_problem_and_writes_nothing(
    client: Any, pool: Pool, world: dict[str, str], documented: dict[str, Any], case: tuple[Any, ...]
) -> None:
    _, method, path, body, status, *headers = case
    url = fill(path, world)
    kwargs: dict[str, Any] = {"headers": headers[0] if headers else {}}
    if isinstance(body, str | bytes):
        kwargs["content"] = body.encode() if isinstance(body, str) else body
        kwargs["headers"] = {**kwargs["headers"], "content-type": "application/json"}
    elif body is not None:
        kwargs["json"] = fill(body, world)
    before = tuple(await pool.fetchrow(WRITTEN))
    response = await client.request(method, url, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status
    assert (problem["type"], problem["title"]) == (problem_type(status), KINDS[status][1])  # one vocabulary
    assert problem["detail"]
    assert "Traceback" not in response.text
    assert response.headers["x-request-id"]
    assert tuple(await pool.fetchrow(WRITTEN)) == before, "a refused request wrote something"
    served_by = operation(documented, method, url.split("?")[0])
    if served_by is not None:  # (an unknown path or method is no operation)
        answer = served_by["responses"].get(str(status))
        assert answer is not None, f"{method} {url} answers {status}, which its operation does not document"
        assert "application/problem+json" in answer["content"]
        if status == 404 and "X-View-Position" in answer.get("headers", {}):
            assert response.headers["x-view-position"], "a view's 404 tells the position it read"


def test_the_table_covers_every_command_endpoint() -> None:
    from app.http import create_app
    from tests.conftest import settings_for

    app = create_app(settings_for("postgresql://unused"))
    commands = {
        (method, route.path_format)
        for route in app.routes
        for method, (handler, _) in getattr(route, "route_handler_map", {}).items()
        if method in ("POST", "PUT", "PATCH")
    }
    covered = set()
    for _, method, path, *_ in CASES:
        for command_method, template in commands:
            pattern = re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template))
            if method == command_method and re.fullmatch(pattern, fill(path, WORLD_SHAPE)):
                covered.add((method, template))
    assert commands and commands - covered == set()


WORLD_SHAPE = {name: UNKNOWN for name in ("room", "reservation", "consumer", "restaurant", "pricey", "order", "listener")}


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/restaurants/available?lat=1&lon=1", "at"),
        ("/rooms/popularity?to=2027-01-01T00:00:00Z", "from"),
        ("/rooms/popularity?from=2027-01-01T00:00:00Z", "to"),
        ("/rooms/popularity?from=soon&to=2027-01-01T00:00:00Z", "from"),
        ("/rooms/popularity?" + WINDOW + "&limit=0", "limit"),
    ],
)
async def test_a_missing_or_bad_query_parameter_is_named_as_the_api_names_it(client: Any, url: str, field: str) -> None:
    response = await client.get(url)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_a_wrong_method_names_the_allowed_ones(client: Any) -> None:
    response = await client.delete("/rooms")
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert response.headers["x-request-id"]
