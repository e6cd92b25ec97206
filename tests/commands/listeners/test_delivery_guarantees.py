"""What the listeners promise about where and in which order a delivery goes, each held by
a test that fails when the promise is broken: the request goes to the very address that was
checked, a redirect is not followed, events go in the log's order (its transaction order,
not the order its ids were taken in), and what waited during a pause goes, in order, after."""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from app.commands.listeners import sender
from harness.receiver import Receiver, receiving
from tests.commands.listeners.test_listeners import attempts, documents, listener, register
from tests.food import consumer, place, restaurant
from tests.helpers import eventually


async def test_the_request_goes_to_the_checked_address_not_to_a_new_dns_answer(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`localhost` resolves to 127.0.0.1 here; the check is made to answer 127.0.0.2 (as a
    DNS answer that changed between the check and the connection would): the request must
    go to 127.0.0.2, the address that was checked, under the URL's own name."""
    checked = sender.checked_address

    async def checked_elsewhere(url: str, allowed: Any) -> str | None:
        await checked(url, allowed)
        return "127.0.0.2"

    monkeypatch.setattr(sender, "checked_address", checked_elsewhere)
    async with receiving() as by_name, receiving(Receiver(port=by_name.port, host="127.0.0.2")) as checked_one:
        r = await client.post(
            "/listeners",
            json={
                "name": "pinned",
                "event_types": ["orders.order_placed"],
                "target": {"kind": "webhook", "url": by_name.url.replace("127.0.0.1", "localhost")},
            },
        )
        assert r.status_code == 201, r.text
        ada, shop = await consumer(client, "Pin Ada"), await restaurant(client, "Pin Pizza")
        await place(client, ada, shop["id"], [("marg", 1)])
        await eventually(lambda: len(checked_one.received) >= 1)
        assert by_name.received == []
    assert checked_one.received[0].headers["host"] == f"localhost:{by_name.port}"


async def test_a_redirect_is_a_failed_attempt_and_not_followed(client: Any) -> None:
    async with (
        receiving() as elsewhere,
        receiving(Receiver(answer=lambda n: 307, location=elsewhere.url)) as redirecting,
    ):
        hook = await register(client, redirecting, name="redirected")
        ada, shop = await consumer(client, "Redirect Ada"), await restaurant(client, "Redirect Pizza")
        await place(client, ada, shop["id"], [("marg", 1)])
        await eventually(lambda: _attempted(client, hook["id"]))
        log = await attempts(client, hook["id"])
        assert elsewhere.received == []
    assert (log[0]["status"], log[0]["response_status"]) == ("failed", 307)


async def _attempted(client: Any, listener_id: str) -> bool:
    return bool(await attempts(client, listener_id))


async def test_events_go_in_the_logs_transaction_order_not_in_the_order_of_their_ids(client: Any, database_url: str) -> None:
    """Transaction A takes its id (xid) first but appends its event last, so its event has
    the higher outbox id; B commits in between. The log's order is (xid, id): A's event
    first. A delivery loop ordering by id alone would send B's first."""
    async with receiving() as receiver:
        await register(client, receiver, name="ordered", event_types=["reservations.room_added"], fields={"name": "$.name"})
        a = await asyncpg.connect(database_url)
        try:
            async with a.transaction():
                await a.fetchval("SELECT pg_current_xact_id()")  # A's transaction id, taken now
                b = await client.post("/rooms", json={"name": "B, committed first", "capacity": 1})
                assert b.status_code == 201
                room_id = uuid4()
                payload = {"room_id": str(room_id), "name": "A, first in the log", "capacity": 1, "location": None}
                await a.execute(
                    "INSERT INTO command.outbox (event_id, type, version, stream_id, payload) VALUES ($1, $2, 1, $3, $4)",
                    uuid4(),
                    "reservations.room_added",
                    str(room_id),
                    json.dumps(payload),
                )
            ids = await a.fetch(
                "SELECT xid, id FROM command.outbox WHERE type = 'reservations.room_added' ORDER BY id DESC LIMIT 2"
            )
            assert ids[0]["id"] > ids[1]["id"] and ids[0]["xid"] < ids[1]["xid"]  # A: the higher id, the lower xid
        finally:
            await a.close()
        await eventually(lambda: len(receiver.received) >= 2)
    assert [json.loads(r.body)["data"]["name"] for r in receiver.received] == ["A, first in the log", "B, committed first"]


async def test_what_waited_during_a_pause_is_sent_in_order_after_it(client: Any) -> None:
    async with receiving() as receiver:
        hook = await register(client, receiver, name="paused", fields={"orderId": "$.order_id"})
        paused = await client.patch(f"/listeners/{hook['id']}", json={"paused": True})
        assert paused.json()["state"] == "paused"
        ada, shop = await consumer(client, "Resume Ada"), await restaurant(client, "Resume Pizza")
        orders = [await place(client, ada, shop["id"], [("marg", 1)]) for _ in range(5)]
        await eventually(lambda: _pending(client, hook["id"], 5))
        assert receiver.received == []
        resumed = await client.patch(f"/listeners/{hook['id']}", json={"paused": False})
        assert resumed.json()["state"] in ("active", "retrying")
        await eventually(lambda: len(receiver.received) >= 5)
    assert [json.loads(r.body)["data"]["orderId"] for r in receiver.received] == [o["id"] for o in orders]


async def _pending(client: Any, listener_id: str, pending: int) -> bool:
    return bool((await listener(client, listener_id))["stats"]["pending"] == pending)


async def test_a_backfill_is_matched_in_windows_and_sent_before_what_came_after_it(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A past `starts_at` is matched against the log by the dispatching process, a window at
    a time (here 3 events a window), not in the registration: the listener is held until the
    windows reach where the fan-out was, so the past goes out first, in the log's order."""
    from datetime import UTC, datetime, timedelta

    from app.commands.listeners import store

    monkeypatch.setattr(store, "REMATCH_WINDOW", 3)
    ada, shop = await consumer(client, "Window Ada"), await restaurant(client, "Window Pizza")
    past = [await place(client, ada, shop["id"], [("marg", 1)]) for _ in range(7)]
    async with receiving() as receiver:
        await register(
            client, receiver, name="backfill in windows", fields={"orderId": "$.order_id"},
            starts_at=(datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
        )  # fmt: skip
        live = [await place(client, ada, shop["id"], [("marg", 1)]) for _ in range(2)]
        mine = {o["id"] for o in past + live}
        await eventually(lambda: len([d for d in documents(receiver) if d["data"]["orderId"] in mine]) >= 9, timeout=15)
    sent = [d["data"]["orderId"] for d in documents(receiver) if d["data"]["orderId"] in mine]
    assert sent == [o["id"] for o in past + live]
