"""Who may do what (API.md): every endpoint x every role, someone else's rows answering
404, idempotency keys per caller, who acted recorded with the events."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest

from app.http import create_app
from app.infra.db import Pool
from tests.asgi import running_app
from tests.conftest import settings_for
from tests.food import consumer, courier, details_when, place, restaurant, state
from tests.helpers import add_room, eventually, reserve

SECRET = "a-test-secret-of-at-least-32-bytes!"
READY_BY = "2027-06-01T12:30:00Z"


def token(sub: str, *roles: str, ttl: int = 600, secret: str = SECRET, **claims: Any) -> str:
    now = int(time.time())
    return jwt.encode({"sub": sub, "roles": list(roles), "exp": now + ttl, **claims}, secret, algorithm="HS256")


@dataclass
class Caller:
    """A client that sends one caller's Authorization header (None: no header)."""

    client: httpx.AsyncClient
    authorization: str | None

    def _headers(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.authorization is not None:
            headers["Authorization"] = self.authorization
        return headers

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return await self.client.request(method, url, headers=self._headers(kwargs), **kwargs)

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", url, **kwargs)

    async def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", url, **kwargs)


def bearer(value: str) -> str:
    return f"Bearer {value}"


@pytest.fixture(scope="module")
async def app_client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = settings_for(database_url, auth_disabled=False, auth_jwt_secret=SECRET, pool_max_size=20)
    async with running_app(create_app(settings)) as client:
        yield client


@dataclass
class World:
    """Two of each kind of caller, and what belongs to the first of each."""

    admin: Caller
    alice: Caller  # user
    bob: Caller  # user
    ada: Caller  # consumer
    ben: Caller  # consumer
    pizza: Caller  # restaurant
    sushi: Caller  # restaurant
    amy: Caller  # courier (first free by name: she gets the deliveries)
    zed: Caller  # courier
    ids: dict[str, str]


@pytest.fixture(scope="module")
async def world(app_client: httpx.AsyncClient) -> World:
    admin = Caller(app_client, bearer(token("root", "admin")))
    room = await add_room(admin, "Auth room")
    alice_active = (await reserve(admin, room["id"], "alice", 3, 9, 10)).json()
    alice_cancelled = (await reserve(admin, room["id"], "alice", 3, 11, 12)).json()
    assert (await admin.post(f"/reservations/{alice_cancelled['id']}/cancel")).status_code == 200
    ada, ben = await consumer(admin, "Ada"), await consumer(admin, "Ben")
    pizza, sushi = (await restaurant(admin, "Pizza"))["id"], (await restaurant(admin, "Sushi"))["id"]
    amy, zed = await courier(admin, "Amy"), await courier(admin, "Zed", available=False)
    delivered = await place(admin, ada, pizza, [("marg", 1)])
    await state(admin, delivered["id"], "APPROVED")
    for step, body in (("accept", {"ready_by": READY_BY}), ("preparing", None), ("ready", None)):
        assert (await admin.post(f"/kitchen/tickets/{delivered['id']}/{step}", json=body)).status_code == 200
    await details_when(admin, delivered["id"], lambda d: d["delivery"] is not None and d["state"] == "READY_FOR_PICKUP")
    assert (await admin.post(f"/deliveries/{delivered['id']}/pickup")).status_code == 200
    assert (await admin.post(f"/deliveries/{delivered['id']}/deliver")).status_code == 200
    await state(admin, delivered["id"], "DELIVERED")

    def as_(sub: str, role: str) -> Caller:
        return Caller(app_client, bearer(token(sub, role)))

    return World(
        admin=admin,
        alice=as_("alice", "user"),
        bob=as_("bob", "user"),
        ada=as_(ada, "consumer"),
        ben=as_(ben, "consumer"),
        pizza=as_(pizza, "restaurant"),
        sushi=as_(sushi, "restaurant"),
        amy=as_(amy, "courier"),
        zed=as_(zed, "courier"),
        ids={
            "room": room["id"],
            "alice_active": alice_active["id"],
            "alice_cancelled": alice_cancelled["id"],
            "ada": ada,
            "ben": ben,
            "pizza": pizza,
            "sushi": sushi,
            "amy": amy,
            "zed": zed,
            "delivered": delivered["id"],
        },
    )


ROLES = ("admin", "user", "consumer", "restaurant", "courier")
NOWHERE = "0193a9c4-0000-7000-8000-000000000000"


@dataclass(frozen=True)
class Row:
    """One endpoint: the request (its `{placeholders}` filled from World.ids) and the status
    each admitted role gets with its own ids; every other role gets 403. The requests are
    chosen so that no answer writes anything: admitted callers meet a rule (409, 422) or a
    missing id, or read."""

    method: str
    path: str
    body: Any
    admitted: dict[str, int]


PERIOD_BACKWARDS = {"start": "2027-02-01T10:00:00Z", "end": "2027-02-01T09:00:00Z"}
ROWS = [
    Row("POST", "/rooms", {"name": "x", "capacity": 0}, {"admin": 422}),
    Row("POST", "/reservations", {"room_id": "{room}", "user_id": "alice", **PERIOD_BACKWARDS}, {"admin": 422, "user": 422}),
    Row("PATCH", "/reservations/{alice_active}", {"room_id": "{room}", "expected_version": 99}, {"admin": 409, "user": 409}),
    Row("POST", "/reservations/{alice_cancelled}/cancel", None, {"admin": 409, "user": 409}),
    Row("POST", "/consumers", {"name": ""}, {"admin": 422}),
    Row("POST", "/restaurants", {"name": "x"}, {"admin": 400}),
    Row(
        "PUT",
        "/restaurants/{pizza}/menu",
        {"menu": [{"id": "a", "name": "A", "price": "1.00"}] * 2},
        {"admin": 422, "restaurant": 422},
    ),
    Row("POST", "/couriers", {"name": ""}, {"admin": 422}),
    Row("POST", "/couriers/{amy}/availability", {"available": "yes"}, {"admin": 400, "courier": 400}),
    Row(
        "POST",
        "/orders",
        {"consumer_id": "{ada}", "restaurant_id": "{pizza}", "line_items": [], "delivery_address": "x"},
        {"admin": 422, "consumer": 422},
    ),
    Row("POST", "/orders/{delivered}/cancel", None, {"admin": 409, "consumer": 409}),
    Row("POST", "/kitchen/tickets/{delivered}/accept", {"ready_by": READY_BY}, {"admin": 409, "restaurant": 409}),
    Row("POST", "/kitchen/tickets/{delivered}/preparing", None, {"admin": 409, "restaurant": 409}),
    Row("POST", "/kitchen/tickets/{delivered}/ready", None, {"admin": 409, "restaurant": 409}),
    Row("POST", "/deliveries/{delivered}/pickup", None, {"admin": 409, "courier": 409}),
    Row("POST", "/deliveries/{delivered}/deliver", None, {"admin": 409, "courier": 409}),
    Row("POST", "/listeners", {"name": "x"}, {"admin": 400}),
    Row("PATCH", f"/listeners/{NOWHERE}", {"name": "x"}, {"admin": 404}),
    Row("DELETE", f"/listeners/{NOWHERE}", None, {"admin": 404}),
    Row("POST", f"/listeners/{NOWHERE}/rotate-secret", None, {"admin": 404}),
    Row("POST", f"/listeners/{NOWHERE}/deliveries/{NOWHERE}/redeliver", None, {"admin": 404}),
    Row("GET", "/rooms", None, {"admin": 200, "user": 200}),
    Row("GET", "/rooms/popularity?from=2027-01-01T00:00:00Z&to=2027-02-01T00:00:00Z", None, {"admin": 200, "user": 200}),
    Row("GET", "/users/alice/reservations", None, {"admin": 200, "user": 200}),
    Row("GET", "/users/alice/reservation-history", None, {"admin": 200, "user": 200}),
    Row("GET", "/orders/{delivered}", None, {"admin": 200, "consumer": 200, "restaurant": 200, "courier": 200}),
    Row("GET", "/consumers/{ada}/orders", None, {"admin": 200, "consumer": 200}),
    Row("GET", "/restaurants/available?lat=48.85&lon=2.35&at=2027-01-04T12:00:00Z", None, {"admin": 200, "consumer": 200}),
    Row("GET", "/listeners", None, {"admin": 200}),
    Row("GET", f"/listeners/{NOWHERE}", None, {"admin": 404}),
    Row("GET", f"/listeners/{NOWHERE}/deliveries", None, {"admin": 404}),
    Row("GET", "/event-types", None, {"admin": 200}),
]


def fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids) if "{" in value else value
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    return value


async def written(pool: Pool) -> tuple[int, ...]:
    row = await pool.fetchrow(
        "SELECT (SELECT count(*) FROM command.outbox), (SELECT count(*) FROM command.idempotency_keys), "
        "(SELECT count(*) FROM command.listeners)"
    )
    assert row is not None
    return tuple(row)


def unsigned(sub: str, role: str) -> str:
    """alg: none (PyJWT will not make one: built by hand)."""
    import base64
    import json

    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'sub': sub, 'roles': [role], 'exp': int(time.time()) + 600})}."


def test_every_route_of_the_app_is_in_the_table() -> None:
    """A new endpoint must say who may call it, here as in API.md."""
    from litestar.routes import HTTPRoute

    app = create_app(settings_for("postgresql://unused"))
    declared = {(r.method, r.path.split("?")[0].split("/")[1]) for r in ROWS}
    public = {"/health/live", "/health/ready", "/metrics"}
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path not in public and not route.path.startswith("/schema"):
            for method in route.methods - {"OPTIONS", "HEAD"}:
                assert (method, route.path.split("/")[1]) in declared, (method, route.path)
    assert sum(1 for r in app.routes if isinstance(r, HTTPRoute) for _ in r.methods - {"OPTIONS", "HEAD"}) >= len(ROWS)


async def test_every_endpoint_for_every_role(world: World, pool: Pool) -> None:
    before = await written(pool)
    own = {"admin": world.admin, "user": world.alice, "consumer": world.ada, "restaurant": world.pizza, "courier": world.amy}
    refused_tokens = {
        "no token": None,
        "expired": bearer(token("root", "admin", ttl=-120)),
        "bad signature": bearer(token("root", "admin", secret="another-secret-of-at-least-32-bytes")),
        "alg none": bearer(unsigned("root", "admin")),
        "not bearer": "Basic cm9vdDpyb290",
    }
    failures = []
    for row in ROWS:
        path, body = fill(row.path, world.ids), fill(row.body, world.ids)
        kwargs = {"json": body} if body is not None else {}
        for role in ROLES:
            expected = row.admitted.get(role, 403)
            r = await own[role].request(row.method, path, **kwargs)
            if r.status_code != expected:
                failures.append(f"{row.method} {path} as {role}: {r.status_code} (expected {expected}) {r.text[:200]}")
            elif expected == 403:
                assert r.headers["content-type"] == "application/problem+json"
                assert r.json()["type"] == "/problems/forbidden"
        for name, authorization in refused_tokens.items():
            r = await Caller(world.admin.client, authorization).request(row.method, path, **kwargs)
            if r.status_code != 401 or not r.headers.get("www-authenticate", "").startswith("Bearer"):
                failures.append(f"{row.method} {path} with {name}: {r.status_code} {r.headers.get('www-authenticate')}")
            elif r.json()["type"] != "/problems/unauthenticated":
                failures.append(f"{row.method} {path} with {name}: {r.text}")
    assert not failures, "\n".join(failures)
    assert await written(pool) == before


async def test_public_endpoints_need_no_token(world: World) -> None:
    anonymous = Caller(world.admin.client, None)
    for path in (
        "/health/live",
        "/health/ready",
        "/metrics",
        "/schema/openapi.json",
        "/schema/docs",
        "/schema/assets/swagger-ui.css",
    ):
        assert (await anonymous.get(path)).status_code == 200, path


async def test_a_body_naming_someone_else_is_forbidden(world: World, pool: Pool) -> None:
    before = await written(pool)
    bob_for_alice = await reserve(world.bob, world.ids["room"], "alice", 5, 9, 10)
    assert bob_for_alice.status_code == 403 and bob_for_alice.json()["errors"] == [{"field": "user_id", "message": "not you"}]
    ben_for_ada = await world.ben.post(
        "/orders",
        json={
            "consumer_id": world.ids["ada"],
            "restaurant_id": world.ids["pizza"],
            "line_items": [{"menu_item_id": "marg", "quantity": 1}],
            "delivery_address": "x",
        },
    )
    assert ben_for_ada.status_code == 403
    assert await written(pool) == before
    mine = await reserve(world.bob, world.ids["room"], "bob", 5, 9, 10)
    assert mine.status_code == 201 and mine.json()["user_id"] == "bob"


async def test_someone_elses_reservations_are_not_found(world: World, pool: Pool) -> None:
    alice_res = world.ids["alice_active"]
    before = await written(pool)
    for r in (
        await world.bob.patch(f"/reservations/{alice_res}", json={"room_id": world.ids["room"]}),
        await world.bob.post(f"/reservations/{alice_res}/cancel"),
    ):
        assert r.status_code == 404 and r.json()["type"] == "/problems/not-found", r.text
    for path in ("/users/alice/reservations", "/users/alice/reservation-history"):
        r = await world.bob.get(path)
        assert r.status_code == 404 and "X-View-Position" in r.headers, (path, r.text)
    assert await written(pool) == before
    assert (await world.alice.get("/users/alice/reservations")).json()["items"][0]["id"] == alice_res
    assert (await world.bob.get("/users/bob/reservations")).status_code == 200
    changed = await world.alice.patch(f"/reservations/{alice_res}", json={"start": "2027-01-03T08:00:00Z"})
    assert changed.status_code == 200 and changed.json()["version"] == 2


async def test_someone_elses_orders_tickets_and_deliveries_are_not_found(world: World, pool: Pool) -> None:
    admin, ids = world.admin, world.ids
    order = await place(world.ada, ids["ada"], ids["pizza"], [("marg", 1)])
    await state(admin, order["id"], "APPROVED")
    before = await written(pool)
    refusals = [
        await world.ben.get(f"/orders/{order['id']}"),
        await world.ben.post(f"/orders/{order['id']}/cancel"),
        await world.ben.get(f"/consumers/{ids['ada']}/orders"),
        await world.sushi.get(f"/orders/{order['id']}"),
        await world.sushi.post(f"/kitchen/tickets/{order['id']}/accept", json={"ready_by": READY_BY}),
        await world.sushi.request("PUT", f"/restaurants/{ids['pizza']}/menu", json={"menu": []}),
        await world.zed.get(f"/orders/{order['id']}"),
        await world.zed.post(f"/couriers/{ids['amy']}/availability", json={"available": False}),
    ]
    for r in refusals:
        assert r.status_code == 404, (r.request.method, r.request.url, r.text)
    assert await written(pool) == before

    # Each of the order's own parties acts on and reads it.
    assert (await world.ada.get(f"/orders/{order['id']}")).status_code == 200
    assert (await world.ada.get(f"/consumers/{ids['ada']}/orders")).json()["items"][0]["id"] == order["id"]
    assert (await world.pizza.post(f"/kitchen/tickets/{order['id']}/accept", json={"ready_by": READY_BY})).status_code == 200
    assert (await world.pizza.get(f"/orders/{order['id']}")).status_code == 200
    details = await details_when(admin, order["id"], lambda d: d["delivery"] is not None)
    assert details["delivery"]["courier"]["id"] == ids["amy"]
    assert (await world.zed.post(f"/deliveries/{order['id']}/pickup")).status_code == 404
    await eventually(lambda: _readable(world.amy, order["id"]))
    for step in ("preparing", "ready"):
        assert (await world.pizza.post(f"/kitchen/tickets/{order['id']}/{step}")).status_code == 200
    await state(admin, order["id"], "READY_FOR_PICKUP")
    picked = await eventually(lambda: _picked_up(world.amy, order["id"]))
    assert picked.status_code == 200
    assert (await world.ben.get(f"/orders/{order['id']}")).status_code == 404


async def _readable(caller: Caller, order_id: str) -> bool:
    return (await caller.get(f"/orders/{order_id}")).status_code == 200


async def _picked_up(caller: Caller, order_id: str) -> httpx.Response | None:
    r = await caller.post(f"/deliveries/{order_id}/pickup")
    return r if r.status_code == 200 else None


async def test_an_idempotency_key_belongs_to_its_caller(world: World) -> None:
    other_admin = Caller(world.admin.client, bearer(token("root-2", "admin")))
    key = {"Idempotency-Key": f"shared-{uuid.uuid4()}"}
    body = {"name": "Keyed", "capacity": 3}
    first = await world.admin.post("/rooms", json=body, headers=key)
    again = await world.admin.post("/rooms", json=body, headers=key)
    other = await other_admin.post("/rooms", json=body, headers=key)
    assert first.status_code == again.status_code == other.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert other.json()["id"] != first.json()["id"]


async def test_events_record_who_acted(world: World, pool: Pool) -> None:
    r = await reserve(world.alice, world.ids["room"], "alice", 7, 9, 10)
    assert r.status_code == 201
    metadata = await pool.fetchval(
        "SELECT metadata FROM command.outbox WHERE type = 'reservations.reservation_registered' "
        "AND payload->>'reservation_id' = $1",
        r.json()["id"],
    )
    assert metadata is not None and '"actor": {"sub": "alice", "roles": ["user"]}' in metadata


async def test_a_listener_can_filter_on_who_acted(world: World, app_client: httpx.AsyncClient) -> None:
    from harness.receiver import receiving

    async with receiving() as receiver:
        r = await world.admin.post(
            "/listeners",
            json={
                "name": "alice's reservations",
                "event_types": ["reservations.reservation_registered"],
                "filter": '$actor.sub == "alice"',
                "fields": {"reservation": "$.reservation_id"},
                "target": {"kind": "webhook", "url": receiver.url},
            },
        )
        assert r.status_code == 201, r.text
        by_bob = await reserve(world.bob, world.ids["room"], "bob", 9, 9, 10)
        by_alice = await reserve(world.alice, world.ids["room"], "alice", 9, 11, 12)
        by_admin = await reserve(world.admin, world.ids["room"], "alice", 9, 13, 14)
        assert by_bob.status_code == by_alice.status_code == by_admin.status_code == 201
        await eventually(lambda: len(receiver.received) >= 1)
        await eventually(lambda: _nothing_pending(world.admin, r.json()["id"]))
    import json

    assert [json.loads(x.body)["data"] for x in receiver.received] == [{"reservation": by_alice.json()["id"]}]


async def _nothing_pending(admin: Caller, listener_id: str) -> bool:
    return bool((await admin.get(f"/listeners/{listener_id}")).json()["stats"]["pending"] == 0)


async def test_a_users_history_shows_who_made_each_change(world: World) -> None:
    mine = await reserve(world.alice, world.ids["room"], "alice", 11, 9, 10)
    for_her = await reserve(world.admin, world.ids["room"], "alice", 11, 11, 12)
    cancelled = await world.admin.post(f"/reservations/{mine.json()['id']}/cancel")
    assert (mine.status_code, for_her.status_code, cancelled.status_code) == (201, 201, 200)
    r = await world.alice.get("/users/alice/reservation-history", headers={"X-Min-Position": cancelled.headers["X-Position"]})
    assert r.status_code == 200
    by_event = {(i["reservation_id"], i["action"]): i["actor"] for i in r.json()["items"]}
    assert by_event[(mine.json()["id"], "registered")] == "alice"
    # An admin's change shows as "admin": the admin's own sub ("root") is not shown to users.
    assert by_event[(for_her.json()["id"], "registered")] == "admin"
    assert by_event[(mine.json()["id"], "cancelled")] == "admin"
    assert "root" not in r.text
