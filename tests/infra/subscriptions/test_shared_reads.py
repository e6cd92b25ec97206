"""Reading the log: the held-back signal of one read, and reads shared by the subscriptions
that one commit wakes."""

from __future__ import annotations

import uuid
from decimal import Decimal

from app.events.consumers import ConsumerRegistered
from app.events.reservations import RoomAdded
from app.infra import outbox
from app.infra.db import Pool
from app.infra.outbox import NotRead, committed_head, read_next
from app.infra.subscriptions import SharedReads


def room(name: str) -> RoomAdded:
    return RoomAdded(room_id=uuid.uuid4(), name=name, capacity=1, location=None)


async def append(pool: Pool, *names: str) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await outbox.append(conn, [room(n) for n in names])


async def test_a_read_says_when_committed_rows_are_held_back(pool: Pool) -> None:
    start = await committed_head(pool)  # type: ignore[arg-type]
    async with pool.acquire() as older, pool.acquire() as reader:
        tx = older.transaction()
        await tx.start()
        await outbox.append(older, [room("held-A")])  # the lower xid, still open
        await append(pool, "held-B")

        batch, more = await read_next(reader, start, 10)
        assert batch == [] and more, "B is committed but must wait for A, and the reader must know"

        await tx.commit()
        batch, more = await read_next(reader, start, 10)
        assert [e.event.name for e in batch] == ["held-A", "held-B"]  # type: ignore[attr-defined]
        assert not more


async def test_subscriptions_woken_together_share_one_read(pool: Pool) -> None:
    start = await committed_head(pool)  # type: ignore[arg-type]
    await append(pool, "shared-1", "shared-2", "shared-3")
    generation = 0
    reads = SharedReads(pool, lambda: generation)

    first, more = await reads.next(start, 10)
    assert [e.event.name for e in first] == ["shared-1", "shared-2", "shared-3"]  # type: ignore[attr-defined]
    assert not more
    again, more = await reads.next(start, 10)
    assert all(a is b for a, b in zip(again, first, strict=True)) and len(again) == 3  # decoded once
    assert not more

    # One behind, and a smaller batch: the rest of the same read.
    tail, more = await reads.next(first[0].position, 1)
    assert tail == [first[1]] and more, "the read holds more than this batch"

    # A commit heard of since the read: whoever takes from it must look again afterwards.
    await append(pool, "shared-4")
    generation += 1
    tail, more = await reads.next(first[0].position, 10)
    assert tail == first[1:] and more
    # At the end of the shared read: a real read, which finds the new row.
    newer, more = await reads.next(first[-1].position, 10)
    assert [e.event.name for e in newer] == ["shared-4"]  # type: ignore[attr-defined]
    assert not more


async def test_a_row_is_decoded_only_for_readers_that_act_on_its_type(pool: Pool) -> None:
    start = await committed_head(pool)  # type: ignore[arg-type]
    await append(pool, "typed-1")
    async with pool.acquire() as conn, conn.transaction():
        await outbox.append(conn, [ConsumerRegistered(consumer_id=uuid.uuid4(), name="typed", credit_limit=Decimal("10.00"))])
    reads = SharedReads(pool, lambda: 0)
    rooms, consumers = frozenset({"reservations.room_added"}), frozenset({"consumers.consumer_registered"})

    for_rooms, _ = await reads.next(start, 10, rooms)
    assert isinstance(for_rooms[0].event, RoomAdded)
    assert for_rooms[1].event == NotRead(stored_type="consumers.consumer_registered")
    assert for_rooms[1].position > for_rooms[0].position  # passed over in place, in order

    for_consumers, _ = await reads.next(start, 10, consumers)  # the same read, other rows decoded
    assert for_consumers[0].event == NotRead(stored_type="reservations.room_added")
    assert isinstance(for_consumers[1].event, ConsumerRegistered)
    for_all, _ = await reads.next(start, 10)
    assert for_all[0] is for_rooms[0] and for_all[1] is for_consumers[1]  # each decoded once
