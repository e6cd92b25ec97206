"""Event listeners end to end: a real receiver, the real database, the delivery loop of the
app under test."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from standardwebhooks.webhooks import Webhook

from app.infra.db import Pool
from app.infra.outbox import Position
from harness.receiver import Receiver, receiving
from tests.food import consumer, place, restaurant
from tests.helpers import eventually, wait_for_subscriptions


async def register(client: Any, receiver: Receiver, **body: Any) -> dict[str, Any]:
    r = await client.post(
        "/listeners",
        json={"name": "hook", "event_types": ["orders.order_placed"], "target": {"kind": "webhook", "url": receiver.url}, **body},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def documents(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.received]


async def listener(client: Any, listener_id: str) -> dict[str, Any]:
    r = await client.get(f"/listeners/{listener_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def attempts(client: Any, listener_id: str) -> list[dict[str, Any]]:
    r = await client.get(f"/listeners/{listener_id}/deliveries?page_size=100")
    assert r.status_code == 200, r.text
    return list(reversed(r.json()["items"]))  # oldest first


async def test_only_big_orders_arrive_with_only_their_id_signed(client: Any, pool: Pool) -> None:
    async with receiving() as receiver:
        hook = await register(client, receiver, filter="$.total.double() > 100", fields={"orderId": "$.order_id"})
        assert hook["secret"].startswith("whsec_") and hook["state"] == "active"
        ada, shop = await consumer(client, "Listener Ada"), await restaurant(client, "Listener Pizza")
        small = await place(client, ada, shop["id"], [("marg", 1)])  # 12.50
        big = await place(client, ada, shop["id"], [("marg", 9)])  # 112.50
        await eventually(lambda: len(receiver.received) >= 1)
        await eventually(lambda: _pending_is(client, hook["id"], 0))
    (doc,) = documents(receiver)
    assert doc["data"] == {"orderId": big["id"]}
    assert doc["type"] == "orders.order_placed" and doc["listener_id"] == hook["id"]
    event_id = await pool.fetchval(
        "SELECT event_id FROM command.outbox WHERE type = 'orders.order_placed' AND payload->>'order_id' = $1", big["id"]
    )
    headers = receiver.received[0].headers
    assert headers["webhook-id"] == doc["id"] == str(event_id)
    Webhook(hook["secret"]).verify(receiver.received[0].body, headers)  # raises if the signature is wrong
    assert small["id"] not in json.dumps(documents(receiver))
    assert "secret" not in await listener(client, hook["id"])


async def _pending_is(client: Any, listener_id: str, pending: int) -> bool:
    return bool((await listener(client, listener_id))["stats"]["pending"] == pending)


async def test_a_failing_receiver_gets_every_event_in_order_the_failed_one_again(client: Any) -> None:
    async with receiving(Receiver(answer=lambda n: 500 if n <= 2 else 200)) as receiver:
        hook = await register(client, receiver, fields={"orderId": "$.order_id"})
        ada, shop = await consumer(client, "Retry Ada"), await restaurant(client, "Retry Pizza")
        orders = [await place(client, ada, shop["id"], [("marg", 1)]) for _ in range(3)]
        await eventually(lambda: len(receiver.received) >= 5)
    ids = [d["data"]["orderId"] for d in documents(receiver)]
    assert ids == [orders[0]["id"]] * 3 + [orders[1]["id"], orders[2]["id"]]
    assert len({r.headers["webhook-id"] for r in receiver.received[:3]}) == 1  # the same webhook-id each time
    log = await attempts(client, hook["id"])
    assert [(a["attempt"], a["status"], a["response_status"]) for a in log[:3]] == [
        (1, "failed", 500),
        (2, "failed", 500),
        (3, "delivered", 200),
    ]
    stats = (await listener(client, hook["id"]))["stats"]
    assert (stats["delivered"], stats["failed_attempts"], stats["pending"]) == (3, 2, 0)


async def test_a_dead_letter_lets_later_events_flow_and_comes_back_on_redelivery(client: Any) -> None:
    answers = {"first": 500}
    async with receiving(Receiver(answer=lambda n: answers["first"] if n <= 4 else 200)) as receiver:
        hook = await register(client, receiver, fields={"orderId": "$.order_id"})
        ada, shop = await consumer(client, "Dead Ada"), await restaurant(client, "Dead Pizza")
        first = await place(client, ada, shop["id"], [("marg", 1)])
        await eventually(lambda: len(receiver.received) >= 4)  # the schedule has three retries
        second = await place(client, ada, shop["id"], [("marg", 1)])
        await eventually(lambda: [d["data"]["orderId"] for d in documents(receiver)][-1:] == [second["id"]])
        dead = [a for a in await attempts(client, hook["id"]) if a["status"] == "dead"]
        assert len(dead) == 1 and (await listener(client, hook["id"]))["stats"]["dead_letters"] == 1
        r = await client.post(f"/listeners/{hook['id']}/deliveries/{dead[0]['event_id']}/redeliver")
        assert r.status_code == 202, r.text
        await eventually(lambda: [d["data"]["orderId"] for d in documents(receiver)][-1:] == [first["id"]])
        again = await client.post(f"/listeners/{hook['id']}/deliveries/{dead[0]['event_id']}/redeliver")
        assert again.status_code == 409  # delivered now: no longer a dead letter
        never = await client.post(f"/listeners/{hook['id']}/deliveries/{uuid4()}/redeliver")
        assert never.status_code == 404 and never.json()["type"] == "/problems/not-found", never.text
        other = await register(client, receiver, name="other", event_types=["consumers.consumer_registered"])
        unmatched = await client.post(f"/listeners/{other['id']}/deliveries/{dead[0]['event_id']}/redeliver")
        assert unmatched.status_code == 404, unmatched.text  # an event of the log, but not one this listener matched
    assert (await listener(client, hook["id"]))["stats"]["dead_letters"] == 0


async def test_410_gone_disables_the_listener(client: Any, pool: Pool) -> None:
    async with receiving(Receiver(answer=lambda n: 410)) as receiver:
        hook = await register(client, receiver)
        ada, shop = await consumer(client, "Gone Ada"), await restaurant(client, "Gone Pizza")
        await place(client, ada, shop["id"], [("marg", 1)])
        await eventually(lambda: _state_is(client, hook["id"], "disabled"))
        later = await place(client, ada, shop["id"], [("marg", 1)])
        await wait_for_subscriptions(pool, Position.parse(later["position"]), ["listeners"])
        await _sleep(0.3)
    assert len(receiver.received) == 1  # nothing more is sent, nor queued
    assert (await listener(client, hook["id"]))["stats"]["pending"] == 1


async def _state_is(client: Any, listener_id: str, state: str) -> bool:
    return bool((await listener(client, listener_id))["state"] == state)


async def test_the_active_window_future_start_end_and_backfill(client: Any) -> None:
    ada, shop = await consumer(client, "Window Ada"), await restaurant(client, "Window Pizza")
    past = await place(client, ada, shop["id"], [("marg", 1)])
    async with receiving() as receiver:
        backfill = await register(
            client, receiver, starts_at=(datetime.now(UTC) - timedelta(minutes=5)).isoformat(), fields={"o": "$.order_id"}
        )
        await eventually(lambda: past["id"] in json.dumps(documents(receiver)))
        soon = datetime.now(UTC) + timedelta(seconds=1)
        later = await register(client, receiver, name="later", starts_at=soon.isoformat(), fields={"later": "$.order_id"})
        assert later["state"] == "scheduled"
        early = await place(client, ada, shop["id"], [("marg", 1)])
        while datetime.now(UTC) < soon:
            await _sleep(0.05)
        after_start = await place(client, ada, shop["id"], [("marg", 1)])
        await eventually(
            lambda: after_start["id"] in json.dumps([d["data"] for d in documents(receiver) if "later" in d["data"]])
        )
        assert early["id"] not in json.dumps([d["data"] for d in documents(receiver) if "later" in d["data"]])
        assert (await listener(client, later["id"]))["state"] == "active"
        r = await client.patch(f"/listeners/{backfill['id']}", json={"ends_at": datetime.now(UTC).isoformat()})
        assert r.status_code == 200, r.text
        ended = await place(client, ada, shop["id"], [("marg", 1)])
        await eventually(lambda: ended["id"] in json.dumps(documents(receiver)))  # the other one still listens
        await eventually(lambda: _state_is(client, backfill["id"], "ended"))
    assert ended["id"] not in json.dumps([d["data"] for d in documents(receiver) if "o" in d["data"]])


async def _sleep(seconds: float) -> None:
    import anyio

    await anyio.sleep(seconds)


async def test_pause_resume_filter_change_and_delete(client: Any) -> None:
    ada, shop = await consumer(client, "Pause Ada"), await restaurant(client, "Pause Pizza")
    async with receiving() as receiver:
        hook = await register(client, receiver, fields={"o": "$.order_id", "total": "$.total"})
        assert (await client.patch(f"/listeners/{hook['id']}", json={"paused": True})).json()["state"] == "paused"
        while_paused = await place(client, ada, shop["id"], [("marg", 1)])
        await eventually(lambda: _pending_is(client, hook["id"], 1))
        await _sleep(0.3)
        assert receiver.received == []
        r = await client.patch(f"/listeners/{hook['id']}", json={"paused": False, "filter": "$.total.double() > 20"})
        assert r.status_code == 200 and r.json()["state"] in ("active", "retrying")
        big = await place(client, ada, shop["id"], [("marg", 2)])  # 25.00: matches the new filter
        await eventually(lambda: big["id"] in json.dumps(documents(receiver)))
        assert while_paused["id"] not in json.dumps(documents(receiver))  # the new filter applied to it too
        assert (await client.delete(f"/listeners/{hook['id']}")).status_code == 204
        count = len(receiver.received)
        await place(client, ada, shop["id"], [("marg", 3)])
        await _sleep(0.5)
        assert len(receiver.received) == count
        assert (await client.get(f"/listeners/{hook['id']}")).status_code == 404


async def test_event_types_list_every_published_type_with_its_schema(client: Any) -> None:
    r = await client.get("/event-types")
    assert r.status_code == 200
    types = {item["type"]: item["schema"] for item in r.json()["items"]}
    assert "orders.order_placed" in types and "reservations.reservation_registered" in types
    placed = types["orders.order_placed"]
    assert "total" in json.dumps(placed) and "order_id" in json.dumps(placed)


async def test_rotating_the_secret_signs_with_the_new_one(client: Any) -> None:
    async with receiving() as receiver:
        hook = await register(client, receiver)
        r = await client.post(f"/listeners/{hook['id']}/rotate-secret")
        assert r.status_code == 200 and r.json()["secret"] != hook["secret"]
        ada, shop = await consumer(client, "Rotate Ada"), await restaurant(client, "Rotate Pizza")
        await place(client, ada, shop["id"], [("marg", 1)])
        await eventually(lambda: len(receiver.received) >= 1)
    Webhook(r.json()["secret"]).verify(receiver.received[0].body, receiver.received[0].headers)


async def test_a_nats_listener_puts_each_matching_event_once_in_the_stream(client: Any, nats_url: str) -> None:
    import nats

    stream = f"LISTENER_TEST_{uuid4().hex[:8].upper()}"
    subject = f"{stream.lower()}.orders"
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await js.add_stream(name=stream, subjects=[f"{stream.lower()}.>"])
        r = await client.post(
            "/listeners",
            json={
                "name": "to nats",
                "event_types": ["orders.order_placed"],
                "filter": "$.total.double() > 20",
                "fields": {"orderId": "$.order_id"},
                "target": {"kind": "nats", "subject": subject},
            },
        )
        assert r.status_code == 201, r.text
        assert r.json()["secret"] is None
        ada, shop = await consumer(client, "Nats Ada"), await restaurant(client, "Nats Pizza")
        small = await place(client, ada, shop["id"], [("marg", 1)])
        big = [await place(client, ada, shop["id"], [("marg", 2)]) for _ in range(3)]
        await eventually(lambda: _pending_is(client, r.json()["id"], 0))
        await eventually(lambda: _delivered_is(client, r.json()["id"], 3))
        info = await js.stream_info(stream)
        assert info.state.messages == 3
        messages = [await js.get_msg(stream, seq) for seq in range(1, 4)]
        assert [json.loads(m.data)["data"]["orderId"] for m in messages] == [o["id"] for o in big]
        assert all(m.headers and m.headers["Nats-Msg-Id"].startswith(f"{r.json()['id']}:") for m in messages)
        assert small["id"] not in json.dumps([json.loads(m.data) for m in messages])
        await js.delete_stream(stream)
    finally:
        await nc.close()


async def _delivered_is(client: Any, listener_id: str, delivered: int) -> bool:
    return bool((await listener(client, listener_id))["stats"]["delivered"] == delivered)


async def test_metrics_show_each_listener_and_the_delivery_latency(client: Any) -> None:
    async with receiving() as receiver:
        hook = await register(client, receiver, name="metered")
        ada, shop = await consumer(client, "Metric Ada"), await restaurant(client, "Metric Pizza")
        await place(client, ada, shop["id"], [("marg", 1)])
        await eventually(lambda: _delivered_is(client, hook["id"], 1))
    text = (await client.get("/metrics")).text
    assert f'listener_delivered_total{{listener="{hook["id"]}"}} 1' in text
    assert f'listener_pending_events{{listener="{hook["id"]}"}} 0' in text
    count = [line for line in text.splitlines() if line.startswith("listener_delivery_latency_seconds_count")]
    assert count and int(count[0].split()[-1]) >= 1


async def test_a_webhook_goes_to_the_address_that_was_checked_under_its_own_name(client: Any) -> None:
    """The host is resolved and checked at each attempt, and the request goes to that very
    address (a DNS answer that changed since cannot redirect it), with the URL's Host."""
    async with receiving() as receiver:
        named = Receiver(port=receiver.port)
        r = await client.post(
            "/listeners",
            json={
                "name": "by name",
                "event_types": ["orders.order_placed"],
                "target": {"kind": "webhook", "url": named.url.replace("127.0.0.1", "localhost")},
            },
        )
        assert r.status_code == 201, r.text  # localhost resolves to 127.0.0.1, which the tests allow
        ada, shop = await consumer(client, "Pinned Ada"), await restaurant(client, "Pinned Pizza")
        await place(client, ada, shop["id"], [("marg", 1)])
        await eventually(lambda: len(receiver.received) >= 1)
    assert receiver.received[0].headers["host"] == f"localhost:{receiver.port}"


async def test_the_fan_out_moves_its_checkpoint_and_queues_in_one_statement(client: Any, monkeypatch: Any) -> None:
    from app.infra.subscriptions import runner

    counted: list[str] = []
    apply = runner.apply_as_one_statement

    async def counting(pool: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        counted.append(name)
        return await apply(pool, name, *args, **kwargs)

    monkeypatch.setattr(runner, "apply_as_one_statement", counting)
    async with receiving() as receiver:
        await register(client, receiver, name="one statement")
        ada, shop = await consumer(client, "One Ada"), await restaurant(client, "One Pizza")
        await place(client, ada, shop["id"], [("marg", 1)])
        await eventually(lambda: len(receiver.received) >= 1)
    assert "listeners" in counted
