"""Under any concurrency, two overlapping active reservations never both exist, and
one Idempotency-Key has one effect."""

from __future__ import annotations

import uuid
from typing import Any

import anyio

from app.infra.db import Pool
from tests.helpers import add_room, slot


async def test_fifty_concurrent_overlapping_reservations_one_wins(client: Any, pool: Pool) -> None:
    room = await add_room(client, "Contended")
    statuses: list[int] = []

    async def attempt(i: int) -> None:
        start, end = slot(10, 9 + i % 3, 12)  # all overlap 11:00-12:00
        r = await client.post(
            "/reservations",
            json={"room_id": room["id"], "user_id": f"racer-{i}", "start": start, "end": end},
        )
        statuses.append(r.status_code)

    async with anyio.create_task_group() as tg:
        for i in range(50):
            tg.start_soon(attempt, i)
    assert sorted(statuses) == [201] + [409] * 49
    active = await pool.fetchval(
        "SELECT count(*) FROM command.reservations WHERE room_id = $1 AND status = 'active'",
        uuid.UUID(room["id"]),
    )
    assert active == 1


async def test_concurrent_posts_with_one_key_have_one_effect(client: Any, pool: Pool) -> None:
    room = await add_room(client, "Keyed")
    start, end = slot(11, 9, 10)
    body = {"room_id": room["id"], "user_id": "keyed", "start": start, "end": end}
    replies: list[tuple[int, bytes, str | None]] = []

    async def attempt() -> None:
        r = await client.post("/reservations", json=body, headers={"Idempotency-Key": "same-key-1"})
        replies.append((r.status_code, r.content, r.headers.get("X-Position")))

    async with anyio.create_task_group() as tg:
        for _ in range(15):
            tg.start_soon(attempt)
    assert len(set(replies)) == 1, "every repeat must get the first response"
    assert replies[0][0] == 201
    count = await pool.fetchval("SELECT count(*) FROM command.reservations WHERE user_id = 'keyed'")
    assert count == 1


async def test_same_key_with_a_different_body_is_a_conflict(client: Any, pool: Pool) -> None:
    room = await add_room(client, "Keyed 2")
    start, end = slot(12, 9, 10)
    body = {"room_id": room["id"], "user_id": "keyed-2", "start": start, "end": end}
    first = await client.post("/reservations", json=body, headers={"Idempotency-Key": "k-2"})
    assert first.status_code == 201
    other = await client.post("/reservations", json={**body, "user_id": "someone-else"}, headers={"Idempotency-Key": "k-2"})
    assert other.status_code == 409
    assert other.headers["content-type"].startswith("application/problem+json")
    count = await pool.fetchval(
        "SELECT count(*) FROM command.reservations WHERE user_id LIKE 'keyed-2%' OR user_id = 'someone-else'"
    )
    assert count == 1


async def test_a_refusal_is_replayed_under_its_key(client: Any) -> None:
    room = await add_room(client, "Keyed 3")
    start, end = slot(13, 9, 10)
    await client.post("/reservations", json={"room_id": room["id"], "user_id": "x", "start": start, "end": end})
    body = {"room_id": room["id"], "user_id": "y", "start": start, "end": end}
    first = await client.post("/reservations", json=body, headers={"Idempotency-Key": "k-3"})
    again = await client.post("/reservations", json=body, headers={"Idempotency-Key": "k-3"})
    assert first.status_code == again.status_code == 409
    assert first.content == again.content
