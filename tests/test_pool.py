"""The pool hands out connections in the order they were asked for, also when newcomers
keep arriving while others wait (else a few requests wait many times as long: the tail)."""

from __future__ import annotations

import asyncio
import itertools
import random

from app.infra.db import create_pool


async def test_connections_are_granted_in_arrival_order_under_contention(database_url: str) -> None:
    pool = await create_pool(database_url, min_size=2, max_size=2)
    try:
        tickets = itertools.count()
        granted: list[int] = []
        rng = random.Random(7)

        async def request() -> None:
            ticket = next(tickets)
            async with pool.acquire() as conn:
                granted.append(ticket)
                await conn.execute("SELECT 1")

        async def client() -> None:
            for _ in range(15):
                # Newcomers arrive at any moment, as HTTP requests do, also right after a
                # connection was put back for a waiter that has not run yet.
                await asyncio.sleep(rng.random() * 0.002)
                await request()

        await asyncio.gather(*(client() for _ in range(24)))
        assert len(granted) == 24 * 15
        overtaken = sum(1 for before, after in itertools.pairwise(granted) if after < before)
        assert overtaken == 0, f"{overtaken} requests were served after a later one"
    finally:
        await pool.close()
