"""An outbox row this code cannot decode (a payload that does not match its type, or a
type from a newer release) stops exactly the subscribers that act on its type, visibly,
and nothing else: the others pass over it, a rebuild refuses to go past it, and once
the row is fixed the stopped ones resume from it (DESIGN.md 4: never skip an event)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app import modules
from app.infra.db import Pool
from app.infra.outbox import Position
from app.infra.rebuild import RebuildError, rebuild
from tests.helpers import add_room, async_equals, eventually, wait_for_subscriptions, wait_for_views

ROOM_VIEWS = sorted(
    s.name for s in modules.SUBSCRIPTIONS if "reservations.room_added" in s.event_type_names
)  # rooms, user_reservations, ...
BROKEN = json.dumps({"type": "reservations.room_added", "name": 5})  # no room_id, a number for a name

APPEND = """
INSERT INTO command.outbox (event_id, type, version, stream_id, payload)
VALUES (gen_random_uuid(), $1, 1, 'written-by-hand', $2::jsonb) RETURNING xid, id
"""


async def room_names(client: Any) -> list[str]:
    response = await client.get("/rooms?page_size=100")
    return sorted(r["name"] for r in response.json()["items"])


async def stalled(client: Any) -> dict[str, str]:
    ready = (await client.get("/health/ready")).json()
    return {s["name"]: s["last_error"] for s in ready["stalled_subscriptions"]}


async def test_an_undecodable_event_stops_only_its_subscribers_until_it_is_fixed(client: Any, pool: Pool) -> None:
    assert "rooms" in ROOM_VIEWS and "accounting" not in ROOM_VIEWS
    before = await add_room(client, "before")
    await wait_for_views(client, before["position"])
    # Written by hand, no wake-up: the subscribers find them at their next idle look, alone
    # in their batch (no event they can decode beside them to make them act).
    row = await pool.fetchrow(APPEND, "reservations.room_added", BROKEN)
    assert row is not None
    broken_at = Position(row["xid"], row["id"])
    await pool.execute(APPEND, "future.something_new", json.dumps({"type": "future.something_new"}))

    async def all_room_views_stalled() -> bool:
        return set(await stalled(client)) == set(ROOM_VIEWS)

    await eventually(all_room_views_stalled, timeout=10)
    await add_room(client, "after")
    consumer = (await client.post("/consumers", json={"name": "past the bad row"})).json()

    # Subscribers that do not act on rooms pass over both rows (the unknown type too).
    await wait_for_subscriptions(pool, Position.parse(consumer["position"]), ["accounting"])
    errors = await stalled(client)
    assert all("cannot decode event" in e and broken_at.token() in e for e in errors.values()), errors
    assert (await client.get("/health/ready")).status_code == 503
    assert 'subscription_stalled{subscription="rooms"} 1' in (await client.get("/metrics")).text
    # Stopped at the row, not past it: "after" is not in the view.
    assert await room_names(client) == ["before"]
    checkpoint = await pool.fetchrow("SELECT xid, id FROM command.subscriptions WHERE name = 'rooms'")
    assert checkpoint is not None and Position(checkpoint["xid"], checkpoint["id"]) < broken_at

    with pytest.raises(RebuildError, match="cannot decode event"):
        await rebuild(pool, modules.VIEWS["rooms"])

    fixed = {
        "type": "reservations.room_added",
        "room_id": "0190a6d4-0000-7000-8000-000000000001",
        "name": "fixed",
        "capacity": 1,
        "location": None,
    }
    await pool.execute("UPDATE command.outbox SET payload = $3::jsonb WHERE xid = $1 AND id = $2", *broken_at, json.dumps(fixed))
    await eventually(async_equals(lambda: room_names(client), ["after", "before", "fixed"]), timeout=15)
    await eventually(async_equals(lambda: stalled(client), {}))
    assert (await client.get("/health/ready")).status_code == 200
