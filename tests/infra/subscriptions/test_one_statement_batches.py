"""A view's usual batch written as one statement, its checkpoint moved in that statement
(Subscription.one_statement): the same view as `project` gives, all or nothing, and a
stale checkpoint still writes nothing."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from app import modules
from app.events.reservations import ReservationRegistered
from app.infra.db import Pool
from app.infra.outbox import Envelope, Position, Write
from app.infra.subscriptions import CheckpointMoved, Subscription, apply_as_one_statement, ensure_checkpoint
from app.infra.subscriptions import runner as subscriptions
from app.queries.user_reservations.projector import VIEW_STATEMENTS
from tests.helpers import add_room, assert_view_equals_rebuild, reserve, wait_for_views

user_reservations_statement = VIEW_STATEMENTS.as_one_statement
VIEWS = ["user_reservations", "reservation_history", "room_popularity"]


@pytest.fixture
def one_statements(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts, per subscription, the batches the live runners applied as one statement."""
    counted: Counter[str] = Counter()
    apply = subscriptions.apply_as_one_statement

    async def counting(pool: Pool, name: str, *args: Any, **kwargs: Any) -> Position:
        counted[name] += 1
        return await apply(pool, name, *args, **kwargs)

    monkeypatch.setattr(subscriptions, "apply_as_one_statement", counting)
    return counted


async def test_the_views_equal_a_rebuild_whichever_way_each_batch_went(
    client: Any, pool: Pool, one_statements: Counter[str]
) -> None:
    room = await add_room(client, "one statement")
    made = [await reserve(client, room["id"], f"one-{i % 3}", 1 + i, 8, 9) for i in range(12)]
    await wait_for_views(client, made[-1].headers["X-Position"])
    # New reservations alone: one statement each time, for each of the three views.
    assert all(one_statements[name] > 0 for name in VIEWS), one_statements
    before = one_statements.copy()

    changed = await client.patch(
        f"/reservations/{made[0].json()['id']}", json={"start": "2027-03-01T08:00:00Z", "end": "2027-03-01T09:00:00Z"}
    )
    assert changed.status_code == 200, changed.text
    cancelled = await client.post(f"/reservations/{made[1].json()['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    await wait_for_views(client, cancelled.headers["X-Position"])
    # A change or a cancellation goes through `project`, but for the history (a row per event).
    assert one_statements["user_reservations"] == before["user_reservations"]
    assert one_statements["room_popularity"] == before["room_popularity"]
    assert one_statements["reservation_history"] > before["reservation_history"]

    for name in VIEWS:
        await assert_view_equals_rebuild(pool, modules.VIEWS[name])


def registered(position: Position, room_id: uuid.UUID) -> Envelope:
    start = datetime(2031, 1, 1, tzinfo=UTC) + timedelta(hours=position.id)
    event = ReservationRegistered(
        reservation_id=uuid.uuid4(),
        room_id=room_id,
        user_id="one-stmt",
        start=start,
        end=start + timedelta(hours=1),
        version=1,
        at=start,
    )
    return Envelope(position, uuid.uuid4(), start, event)


async def test_a_stale_checkpoint_writes_nothing(pool: Pool) -> None:
    name = f"one statement {uuid.uuid4().hex[:8]}"
    start = await ensure_checkpoint(pool, name)
    room_id = uuid.uuid4()
    await pool.execute("INSERT INTO query.user_reservation_rooms (id, name) VALUES ($1, 'stale')", room_id)
    first, second = registered(Position(20, 1), room_id), registered(Position(20, 2), room_id)

    write = user_reservations_statement([first])
    assert write is not None
    assert await apply_as_one_statement(pool, name, "query", start, first.position, write) == first.position
    second_write = user_reservations_statement([second])
    assert second_write is not None
    with pytest.raises(CheckpointMoved):
        await apply_as_one_statement(pool, name, "query", start, second.position, second_write)

    rows = await pool.fetch("SELECT id FROM query.user_reservations WHERE room_id = $1", room_id)
    assert [r["id"] for r in rows] == [first.event.reservation_id]  # type: ignore[attr-defined]
    assert await ensure_checkpoint(pool, name) == first.position


async def test_a_failing_statement_moves_no_checkpoint_and_is_not_taken_for_a_moved_one(pool: Pool) -> None:
    await pool.execute("CREATE TABLE query.one_statement_positive (n int CHECK (n > 0))")
    name = f"one statement {uuid.uuid4().hex[:8]}"
    start = await ensure_checkpoint(pool, name)
    write = Write("INSERT INTO query.one_statement_positive (n) SELECT unnest($1::int[])", ([3, -1],))
    with pytest.raises(asyncpg.CheckViolationError):
        await apply_as_one_statement(pool, name, "query", start, Position(30, 1), write)
    assert await pool.fetchval("SELECT count(*) FROM query.one_statement_positive") == 0
    assert await ensure_checkpoint(pool, name) == start


def test_a_process_manager_cannot_have_one() -> None:
    with pytest.raises(ValueError, match="process manager"):
        Subscription("pm", schema="command", react=lambda uow, batch: None, one_statement=lambda s, b: None)  # type: ignore[arg-type, return-value]
