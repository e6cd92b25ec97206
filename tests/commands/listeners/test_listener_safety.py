"""A listener can harm only itself: what it may name is refused at registration (the
broker's own API, headers that frame the request, a filter that cannot run), and what a
listener stored by an earlier release still holds fails its own attempts, on the retry
schedule, never the delivery loop or the fan-out that every listener shares."""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import pytest

from app.infra.db import Pool
from app.infra.outbox import Position
from harness.receiver import receiving
from tests.commands.listeners.test_listeners import attempts, listener, register
from tests.food import consumer, place, restaurant
from tests.helpers import eventually, wait_for_subscriptions


@pytest.mark.parametrize(
    "subject",
    ["$JS.API.STREAM.PURGE.ORDERS", "$SYS.REQ.SERVER.PING", "$KV.config.key", "orders.*", "orders.>", "_INBOX.abc", "a..b"],
)
async def test_a_nats_subject_of_the_brokers_api_a_wildcard_or_an_inbox_is_refused(client: Any, subject: str) -> None:
    r = await client.post(
        "/listeners", json={"name": "n", "event_types": ["orders.order_placed"], "target": {"kind": "nats", "subject": subject}}
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "target.subject"


@pytest.mark.parametrize(
    "header", ["Host", "content-length", "Transfer-Encoding", "Connection", "Expect", "Content-Type", "webhook-signature"]
)
async def test_headers_that_frame_the_request_or_sign_it_are_refused(client: Any, header: str) -> None:
    async with receiving() as receiver:
        r = await client.post(
            "/listeners",
            json={
                "name": "h",
                "event_types": ["orders.order_placed"],
                "target": {"kind": "webhook", "url": receiver.url, "headers": {header: "x", "X-Fine": "yes"}},
            },
        )
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": "target.headers", "message": f"{header} may not be set: the delivery sets it"}]


async def test_a_filter_naming_a_variable_it_will_not_be_given_is_refused(client: Any) -> None:
    for filter_ in ('$"\\u0061ctor" == "x"', '$other.sub == "x"'):
        r = await client.post(
            "/listeners",
            json={
                "name": "f",
                "event_types": ["orders.order_placed"],
                "filter": filter_,
                "target": {"kind": "nats", "subject": "orders.placed"},
            },
        )
        assert r.status_code == 422, (filter_, r.text)
        assert r.json()["errors"][0]["field"] == "filter"


async def test_a_stored_filter_that_cannot_run_fails_its_own_listener_not_the_others(client: Any, pool: Pool) -> None:
    async with receiving() as receiver:
        healthy = await register(client, receiver, name="healthy", fields={"orderId": "$.order_id"})
        broken = await register(client, receiver, name="broken")
        # As a release before the check would have stored it: an escaped `$actor`, given no variables.
        await pool.execute("UPDATE command.listeners SET filter = $2 WHERE id = $1", broken["id"], '$"\\u0061ctor" == "x"')
        ada, shop = await consumer(client, "Filter Ada"), await restaurant(client, "Filter Pizza")
        orders = [await place(client, ada, shop["id"], [("marg", 1)]) for _ in range(2)]
        await wait_for_subscriptions(pool, Position.parse(orders[-1]["position"]), ["listeners"])
        await eventually(lambda: len(receiver.received) >= 2)
    assert [json.loads(r.body)["data"]["orderId"] for r in receiver.received] == [o["id"] for o in orders]
    failed = await attempts(client, broken["id"])
    assert len(failed) == 2 and all(a["status"] == "failed" and "could not find jsonpath variable" in a["error"] for a in failed)
    assert (await listener(client, broken["id"]))["stats"]["failed_attempts"] == 2
    assert (await listener(client, healthy["id"]))["stats"]["failed_attempts"] == 0
    ready = await client.get("/health/ready")
    assert ready.status_code == 200, ready.text


async def test_an_attempt_that_raises_is_a_recorded_failure_on_the_schedule(client: Any, pool: Pool) -> None:
    async with receiving() as receiver:
        hook = await register(client, receiver, name="raises")
        # Stored before header values were checked: aiohttp refuses a line break in a header (ValueError).
        target = {"kind": "webhook", "url": receiver.url, "headers": {"X-Split": "a\r\nInjected: yes"}}
        await pool.execute("UPDATE command.listeners SET target = $2 WHERE id = $1", hook["id"], json.dumps(target))
        ada, shop = await consumer(client, "Raise Ada"), await restaurant(client, "Raise Pizza")
        await place(client, ada, shop["id"], [("marg", 1)])
        await eventually(lambda: _dead_letters(client, hook["id"]), timeout=10)
        assert receiver.received == []
    log = await attempts(client, hook["id"])
    # The tests' schedule is 0.05, 0.1, 0.2 s: four attempts, then a dead letter (not thousands at once).
    assert [a["status"] for a in log] == ["failed", "failed", "failed", "dead"]
    assert all(a["error"].startswith("ValueError") for a in log)
    assert (await listener(client, hook["id"]))["stats"]["failed_attempts"] == 4


async def _dead_letters(client: Any, listener_id: str) -> bool:
    return bool((await listener(client, listener_id))["stats"]["dead_letters"] == 1)


async def test_a_nats_reply_that_is_not_an_acknowledgement_and_a_stored_api_subject_fail_their_attempts(
    client: Any, pool: Pool, nats_url: str
) -> None:
    import nats

    run = uuid4().hex[:8]
    stream, plain_subject = f"SAFETY_{run.upper()}", f"safety.{run}.plain"
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await js.add_stream(name=stream, subjects=[f"safety.{run}.keep"])
        await js.publish(f"safety.{run}.keep", b"kept")
        replies: list[bytes] = []

        async def not_an_ack(msg: Any) -> None:  # a plain subscriber, not a stream
            replies.append(msg.data)
            await msg.respond(b"hello")

        await nc.subscribe(plain_subject, cb=not_an_ack)
        body = {"event_types": ["orders.order_placed"], "target": {"kind": "nats", "subject": plain_subject}}
        plain = (await client.post("/listeners", json={"name": "plain", **body})).json()
        purger = (await client.post("/listeners", json={"name": "purger", **body})).json()
        await pool.execute(
            "UPDATE command.listeners SET target = $2 WHERE id = $1",
            purger["id"],
            json.dumps({"kind": "nats", "subject": f"$JS.API.STREAM.PURGE.{stream}"}),
        )
        ada, shop = await consumer(client, "Ack Ada"), await restaurant(client, "Ack Pizza")
        await place(client, ada, shop["id"], [("marg", 1)])
        await eventually(lambda: _dead_letters(client, plain["id"]), timeout=10)
        await eventually(lambda: _dead_letters(client, purger["id"]), timeout=10)
        assert len(replies) == 4  # one a scheduled attempt, not a spin
        assert (await js.stream_info(stream)).state.messages == 1  # never purged
        refused = await attempts(client, purger["id"])
        assert "is not one a listener may publish to" in refused[0]["error"]
        await js.delete_stream(stream)
    finally:
        await nc.close()


async def test_a_secret_is_not_kept_a_second_time_under_an_idempotency_key(client: Any, pool: Pool) -> None:
    async with receiving() as receiver:
        body = {"name": "keyed", "event_types": ["orders.order_placed"], "target": {"kind": "webhook", "url": receiver.url}}
        first = await client.post("/listeners", json=body, headers={"Idempotency-Key": "register-keyed"})
        assert first.status_code == 201 and first.json()["secret"].startswith("whsec_")
        again = await client.post("/listeners", json=body, headers={"Idempotency-Key": "register-keyed"})
        assert (again.status_code, again.content) == (201, first.content)
        rotate = f"/listeners/{first.json()['id']}/rotate-secret"
        rotated = await client.post(rotate, headers={"Idempotency-Key": "rotate-keyed"})
        assert rotated.status_code == 200 and rotated.json()["secret"] != first.json()["secret"]
        rotated_again = await client.post(rotate, headers={"Idempotency-Key": "rotate-keyed"})
        assert (rotated_again.status_code, rotated_again.content) == (200, rotated.content)
    stored = await pool.fetch("SELECT body FROM command.idempotency_keys WHERE key IN ('register-keyed', 'rotate-keyed')")
    assert len(stored) == 2
    assert all(b"whsec_" not in bytes(row["body"]) for row in stored)
