"""The unit of work owns the order of events: a handler records events and saves its write
in any order, and the flush appends every event in record order, in the same statement as
the last saved write."""

from __future__ import annotations

from uuid import uuid4

import pytest

from app.commands.reservations.store import INSERT_ROOM
from app.events.reservations import RoomAdded
from app.infra.clock import SystemClock
from app.infra.db import Pool
from app.infra.outbox import Write
from app.infra.unit_of_work import UnitOfWork


def room_added(name: str) -> RoomAdded:
    return RoomAdded(room_id=uuid4(), name=name, capacity=1, location=None)


async def test_events_recorded_before_and_after_the_save_are_appended_in_record_order(pool: Pool) -> None:
    first, second = room_added("uow first"), room_added("uow second")
    async with pool.acquire() as conn:
        uow = UnitOfWork(conn, SystemClock())
        uow.emit(first)
        uow.save(Write(INSERT_ROOM, (first.room_id, first.name, 1, None, uow.now())))
        uow.emit(second)
        assert await conn.fetchval("SELECT count(*) FROM command.rooms WHERE id = $1", first.room_id) == 0  # not yet
        await uow.flush(one_statement=True)
        names = await conn.fetch(
            "SELECT payload->>'name' AS name FROM command.outbox WHERE payload->>'name' LIKE 'uow %' ORDER BY xid, id"
        )
        assert [r["name"] for r in names] == ["uow first", "uow second"]
        assert await conn.fetchval("SELECT count(*) FROM command.rooms WHERE id = $1", first.room_id) == 1
        assert uow.position is not None and uow.appended_types == {"reservations.room_added"}


async def test_a_unit_declared_one_statement_must_be_one_saved_write(pool: Pool) -> None:
    async with pool.acquire() as conn:
        uow = UnitOfWork(conn, SystemClock())
        uow.emit(room_added("uow alone"))  # an event with no write to carry it
        with pytest.raises(RuntimeError, match="one statement"):
            await uow.flush(one_statement=True)
