"""The order saga across accounting, kitchen and delivery, with every module's state and
every view checked; redelivery of every event changes nothing; views rebuild equal."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import anyio

from app import modules
from app.commands.accounting import process as accounting
from app.commands.accounting import store as accounting_store
from app.commands.orders import process as orders_process
from app.infra.clock import SystemClock
from app.infra.db import Pool
from app.infra.outbox import ORIGIN, Position, committed_head, read_committed
from app.infra.unit_of_work import UnitOfWork
from tests.food import consumer, courier, details_when, every_saga_path, order_placed, place, restaurant, state
from tests.helpers import assert_view_equals_rebuild, wait_for_subscriptions

READY_BY = "2027-06-01T12:30:00Z"


async def payment(pool: Pool, order_id: str) -> str | None:
    return await pool.fetchval("SELECT status FROM command.accounting_payments WHERE order_id = $1", UUID(order_id))


async def ticket(pool: Pool, order_id: str) -> str | None:
    return await pool.fetchval("SELECT status FROM command.kitchen_tickets WHERE order_id = $1", UUID(order_id))


async def delivery(pool: Pool, order_id: str) -> Any:
    return await pool.fetchrow("SELECT status, courier_id FROM command.deliveries WHERE order_id = $1", UUID(order_id))


async def busy_couriers(pool: Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM command.deliveries WHERE status IN ('ASSIGNED', 'PICKED_UP')"))


async def test_approved_order_runs_to_delivery(client: Any, pool: Pool) -> None:
    ada = await consumer(client, "Ada")
    shop = await restaurant(client)
    zed = await courier(client, "Zed")
    amy = await courier(client, "Amy")  # first free by name
    order = await place(client, ada, shop["id"], [("marg", 2), ("bread", 1)])
    assert order["state"] == "APPROVAL_PENDING" and order["total"] == "29.00"

    d = await state(client, order["id"], "APPROVED")
    assert d["updated_at"] > d["created_at"]  # approval is a change of its own
    assert d["payment"] == {"status": "authorized"}
    assert d["ticket"] == {"status": "CREATED", "ready_by": None}
    assert d["delivery"] is None
    assert d["restaurant"] == {"id": shop["id"], "name": "Pizza Palace"}
    assert d["line_items"] == [
        {"menu_item_id": "marg", "name": "Margherita Pizza", "price": "12.50", "quantity": 2},
        {"menu_item_id": "bread", "name": "Garlic Bread", "price": "4.00", "quantity": 1},
    ]
    assert await payment(pool, order["id"]) == "authorized"

    r = await client.post(f"/kitchen/tickets/{order['id']}/accept", json={"ready_by": READY_BY})
    assert r.status_code == 200, r.text
    d = await state(client, order["id"], "ACCEPTED")
    d = await details_when(client, order["id"], lambda x: x["delivery"] is not None)
    assert d["ticket"] == {"status": "ACCEPTED", "ready_by": READY_BY}
    assert d["delivery"]["status"] == "ASSIGNED"
    assert d["delivery"]["courier"] == {"id": amy, "name": "Amy"}

    early = await client.post(f"/deliveries/{order['id']}/pickup")
    assert early.status_code == 409  # the food is not ready
    preparing = await client.post(f"/kitchen/tickets/{order['id']}/preparing")
    assert preparing.status_code == 200 and preparing.json()["ready_by"] == READY_BY
    await state(client, order["id"], "PREPARING")
    ready = await client.post(f"/kitchen/tickets/{order['id']}/ready")
    assert ready.status_code == 200 and ready.json()["ready_by"] == READY_BY
    await state(client, order["id"], "READY_FOR_PICKUP")
    await wait_for_subscriptions(pool, await _head(pool), ["delivery"])
    r = await client.post(f"/deliveries/{order['id']}/pickup")
    assert r.status_code == 200, r.text
    d = await state(client, order["id"], "PICKED_UP")
    assert d["delivery"]["picked_up_at"] is not None
    assert (await client.post(f"/orders/{order['id']}/cancel")).status_code == 409  # too late
    assert (await client.post(f"/deliveries/{order['id']}/deliver")).status_code == 200
    d = await state(client, order["id"], "DELIVERED")
    assert d["delivery"]["status"] == "DELIVERED" and d["delivery"]["delivered_at"] is not None
    assert (await client.post(f"/deliveries/{order['id']}/deliver")).status_code == 409
    await wait_for_subscriptions(pool, await _head(pool), ["accounting"])
    assert await payment(pool, order["id"]) == "settled"
    await details_when(client, order["id"], lambda x: x["payment"] == {"status": "settled"})
    assert await busy_couriers(pool) == 0
    _ = zed


async def _head(pool: Pool) -> Any:
    async with pool.acquire() as conn:
        return await committed_head(conn)


async def test_declined_payment_rejects_and_leaves_nothing_open(client: Any, pool: Pool) -> None:
    poor = await consumer(client, "Poor", credit_limit="30.00")
    shop = await restaurant(client, "Credit Check Cafe")
    first = await place(client, poor, shop["id"], [("marg", 2)])  # 25.00: fits
    await state(client, first["id"], "APPROVED")
    second = await place(client, poor, shop["id"], [("marg", 1)])  # 12.50 more than the 5.00 left
    d = await state(client, second["id"], "REJECTED")
    assert d["payment"] == {"status": "declined"} and d["ticket"] is None and d["delivery"] is None
    assert d["updated_at"] > d["created_at"]
    refused = await client.post(f"/kitchen/tickets/{second['id']}/accept", json={"ready_by": READY_BY})
    assert refused.status_code == 409, refused.text  # the order was rejected: its ticket exists, closed
    assert await payment(pool, second["id"]) == "declined"
    assert await ticket(pool, second["id"]) == "REJECTED"
    assert await delivery(pool, second["id"]) is None
    # Cancelling the first frees its credit: the next order fits again.
    assert (await client.post(f"/orders/{first['id']}/cancel")).status_code == 200
    d = await details_when(client, first["id"], lambda x: x["payment"]["status"] == "reversed")
    assert d["state"] == "CANCELLED"
    third = await place(client, poor, shop["id"], [("marg", 2)])
    await state(client, third["id"], "APPROVED")


async def test_cancel_after_acceptance_compensates_everywhere(client: Any, pool: Pool) -> None:
    bea = await consumer(client, "Bea")
    shop = await restaurant(client, "Cancel Corner")
    order = await place(client, bea, shop["id"], [("bread", 3)])
    await state(client, order["id"], "APPROVED")
    await client.post(f"/kitchen/tickets/{order['id']}/accept", json={"ready_by": READY_BY})
    d = await details_when(client, order["id"], lambda x: (x["delivery"] or {}).get("status") in ("ASSIGNED", "WAITING"))
    r = await client.post(f"/orders/{order['id']}/cancel")
    assert r.status_code == 200 and r.json()["state"] == "CANCELLED"
    d = await details_when(
        client,
        order["id"],
        lambda x: (
            x["payment"]["status"] == "reversed"
            and x["ticket"]["status"] == "CANCELLED"
            and x["delivery"]["status"] == "CANCELLED"
        ),
    )
    assert d["state"] == "CANCELLED"
    assert await payment(pool, order["id"]) == "reversed"
    assert await ticket(pool, order["id"]) == "CANCELLED"
    assert (await delivery(pool, order["id"]))["status"] == "CANCELLED"
    assert (await client.post(f"/orders/{order['id']}/cancel")).status_code == 409
    assert (await client.post(f"/kitchen/tickets/{order['id']}/preparing")).status_code == 409


async def test_cancel_while_pending_approval_leaves_nothing_open(client: Any, pool: Pool) -> None:
    cy = await consumer(client, "Cy")
    shop = await restaurant(client, "Quick Cancel")
    order = await place(client, cy, shop["id"], [("bread", 1)])
    assert (await client.post(f"/orders/{order['id']}/cancel")).status_code == 200
    head = await _head(pool)
    await wait_for_subscriptions(pool, head, ["accounting", "kitchen", "delivery", "orders"])
    await wait_for_subscriptions(pool, await _head(pool), ["accounting", "kitchen", "delivery", "orders"])
    assert await payment(pool, order["id"]) in ("reversed", None)
    assert await ticket(pool, order["id"]) == "CANCELLED"
    d = await details_when(client, order["id"], lambda x: x["state"] == "CANCELLED")
    assert d["payment"]["status"] in ("pending", "reversed")


async def test_delivery_waits_for_a_courier_to_become_available(client: Any, pool: Pool) -> None:
    # Every courier registered so far becomes unavailable.
    for row in await pool.fetch("SELECT id FROM command.couriers"):
        assert (await client.post(f"/couriers/{row['id']}/availability", json={"available": False})).status_code == 200
    dee = await consumer(client, "Dee")
    shop = await restaurant(client, "Slow Lane")
    order = await place(client, dee, shop["id"], [("marg", 1)])
    await state(client, order["id"], "APPROVED")
    await client.post(f"/kitchen/tickets/{order['id']}/accept", json={"ready_by": READY_BY})
    d = await details_when(client, order["id"], lambda x: x["delivery"] is not None)
    assert d["delivery"] == {"status": "WAITING", "courier": None, "picked_up_at": None, "delivered_at": None}
    late = await courier(client, "Late Larry", available=False)
    r = await client.post(f"/couriers/{late}/availability", json={"available": True})
    assert r.status_code == 200
    d = await details_when(client, order["id"], lambda x: x["delivery"]["status"] == "ASSIGNED")
    assert d["delivery"]["courier"] == {"id": late, "name": "Late Larry"}


async def test_orders_keep_the_menu_they_were_placed_with(client: Any) -> None:
    eve = await consumer(client, "Eve")
    shop = await restaurant(client, "Price Rise")
    before = await place(client, eve, shop["id"], [("marg", 1)])
    r = await client.put(
        f"/restaurants/{shop['id']}/menu", json={"menu": [{"id": "marg", "name": "Margherita Deluxe", "price": "15.00"}]}
    )
    assert r.status_code == 200 and r.json()["menu_revision"] == 2
    after = None
    for _ in range(100):  # the orders module learns the new menu from its event
        after = await place(client, eve, shop["id"], [("marg", 1)])
        if after["total"] == "15.00":
            break
    assert after is not None and after["total"] == "15.00"
    old = await details_when(client, before["id"], lambda x: True)
    assert old["line_items"][0]["price"] == "12.50" and old["total"] == "12.50"
    assert old["line_items"][0]["name"] == "Margherita Pizza"
    gone = await client.post(
        "/orders",
        json={
            "consumer_id": eve,
            "restaurant_id": shop["id"],
            "delivery_address": "x",
            "line_items": [{"menu_item_id": "bread", "quantity": 1}],
        },
    )
    assert gone.status_code == 422


async def snapshot(pool: Pool) -> dict[str, list[str]]:
    tables = await pool.fetch(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN ('command', 'query') AND table_name NOT IN ('subscriptions', 'idempotency_keys') "
        "ORDER BY 1, 2"
    )
    result = {}
    for t in tables:
        rows = await pool.fetch(f'SELECT * FROM "{t["table_schema"]}"."{t["table_name"]}"')
        result[f"{t['table_schema']}.{t['table_name']}"] = sorted(repr(tuple(r)) for r in rows)
    return result


SAGA_EVENTS = {
    "orders.order_placed",
    "accounting.payment_authorized",
    "accounting.payment_declined",
    "accounting.payment_reversed",
    "accounting.payment_settled",
    "kitchen.ticket_created",
    "kitchen.ticket_accepted",
    "kitchen.ticket_cancelled",
    "delivery.courier_assigned",
    "delivery.delivery_picked_up",
    "delivery.delivery_delivered",
    "delivery.delivery_cancelled",
    "orders.order_cancelled",
    "orders.order_state_changed",
}


async def test_redelivering_every_event_to_every_subscriber_changes_nothing(client: Any, pool: Pool) -> None:
    await every_saga_path(client)
    head = await _head(pool)
    names = [s.name for s in modules.SUBSCRIPTIONS]
    await wait_for_subscriptions(pool, head, names)
    await wait_for_subscriptions(pool, await _head(pool), names)  # saga steps appended more
    assert SAGA_EVENTS <= {r["type"] for r in await pool.fetch("SELECT DISTINCT type FROM command.outbox")}
    before = await snapshot(pool)
    position = ORIGIN
    while True:
        async with pool.acquire() as conn:
            batch = await read_committed(conn, position, 500)
        if not batch:
            break
        position = batch[-1].position
        for sub in modules.SUBSCRIPTIONS:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT set_config('search_path', $1, true)", sub.schema)
                await sub.apply(conn, batch)
    assert await snapshot(pool) == before


async def test_food_views_rebuilt_from_zero_equal_the_live_ones(client: Any, pool: Pool) -> None:
    await every_saga_path(client)
    head = await _head(pool)
    await wait_for_subscriptions(pool, head, [*modules.VIEWS])
    for name in ("order_details", "order_history", "available_restaurants"):
        await assert_view_equals_rebuild(pool, modules.VIEWS[name])


async def test_orders_placed_together_are_judged_in_order_against_the_credit_left(client: Any, pool: Pool) -> None:
    """Accounting decides a whole run of orders at once; each must still see the credit
    the ones committed before it used: 30.00 pays for two orders of 12.50, not three."""
    ada = await consumer(client, "Ada", credit_limit="30.00")
    shop = await restaurant(client)
    orders: list[dict[str, Any]] = []

    async def place_one() -> None:
        orders.append(await place(client, ada, shop["id"], [("marg", 1)]))

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(place_one)
    orders.sort(key=lambda o: Position.parse(o["position"]))
    first, second, third = orders
    await state(client, first["id"], "APPROVED")
    await state(client, second["id"], "APPROVED")
    declined = await state(client, third["id"], "REJECTED")
    assert declined["payment"] == {"status": "declined"}
    assert [await payment(pool, o["id"]) for o in orders] == ["authorized", "authorized", "declined"]


async def test_accounting_decides_a_run_of_orders_as_one_at_a_time_would(pool: Pool) -> None:
    """The same rule, driven directly with one run (as one batch of the log delivers it):
    the credit left moves with each decision, a consumer without an account is declined,
    and an order that already has a payment is left alone."""
    ada, bob, ghost = uuid4(), uuid4(), uuid4()

    run = [
        order_placed(c, total) for c, total in ((ada, "12.50"), (bob, "50.00"), (ada, "12.50"), (ghost, "1.00"), (ada, "12.50"))
    ]
    async with pool.acquire() as conn:
        transaction = conn.transaction()  # rolled back: nothing left behind for other tests
        await transaction.start()
        for consumer_id in (ada, bob):
            await accounting_store.open_account(conn, consumer_id, Decimal("30.00"))
        uow = UnitOfWork(conn, SystemClock())
        await accounting.authorize_or_decline(uow, run[:1])  # decided earlier: the run meets it again
        await accounting.authorize_or_decline(uow, run)
        await uow.flush()
        statuses = [
            await conn.fetchval("SELECT status FROM command.accounting_payments WHERE order_id = $1", o.order_id) for o in run
        ]
        reasons = await conn.fetch(
            "SELECT payload->>'order_id' AS order_id, payload->>'reason' AS reason FROM command.outbox "
            "WHERE type = 'accounting.payment_declined' AND payload->>'order_id' = ANY($1::text[])",
            [str(o.order_id) for o in run],
        )
        appended = await conn.fetchval(
            "SELECT count(*) FROM command.outbox WHERE stream_id = ANY($1::text[])", [str(o.order_id) for o in run]
        )
        await transaction.rollback()
    assert statuses == ["authorized", "declined", "authorized", "declined", "declined"]
    assert {r["order_id"]: r["reason"] for r in reasons} == {
        str(run[1].order_id): "exceeds available credit 30.00",
        str(run[3].order_id): "no account",
        str(run[4].order_id): "exceeds available credit 5.00",
    }
    assert appended == 5  # one event per order, the first one's not twice


async def test_saga_steps_of_one_order_in_one_run_apply_in_order(pool: Pool) -> None:
    """The orders module applies a batch's steps together; an order met twice in it still
    moves step by step, and a step that is not legal (any more) is left out."""
    order_id, at = uuid4(), datetime(2027, 1, 1, tzinfo=UTC)
    async with pool.acquire() as conn:
        transaction = conn.transaction()  # rolled back: nothing left behind for other tests
        await transaction.start()
        await conn.execute(
            "INSERT INTO command.orders (id, consumer_id, restaurant_id, line_items, total, delivery_address,"
            " state, version, created_at, updated_at) VALUES ($1, $2, $3, '[]', 1, 'here', 'APPROVAL_PENDING', 1, $4, $4)",
            order_id,
            uuid4(),
            uuid4(),
            at,
        )
        steps = [(order_id, "APPROVED", at), (order_id, "ACCEPTED", at), (order_id, "APPROVED", at), (order_id, "PREPARING", at)]
        uow = UnitOfWork(conn, SystemClock())
        await orders_process.move_orders(uow, steps)
        await uow.flush()
        row = await conn.fetchrow("SELECT state, version FROM command.orders WHERE id = $1", order_id)
        events = await conn.fetch(
            "SELECT payload->>'state' AS state, (payload->>'version')::int AS version FROM command.outbox"
            " WHERE stream_id = $1 ORDER BY xid, id",
            str(order_id),
        )
        await transaction.rollback()
    assert (row["state"], row["version"]) == ("PREPARING", 4)
    assert [(e["state"], e["version"]) for e in events] == [("APPROVED", 2), ("ACCEPTED", 3), ("PREPARING", 4)]
