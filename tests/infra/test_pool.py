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


async def test_a_released_connection_comes_back_clean_whatever_it_was_left_in(database_url: str) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            pid = conn.get_server_pid()
            await conn.execute("CREATE TABLE IF NOT EXISTS pool_release_probe (n int)")
        async with pool.acquire() as conn:  # left idle: handed back as it is
            assert conn.get_server_pid() == pid
            await conn.execute("BEGIN")
            await conn.execute("INSERT INTO pool_release_probe VALUES (1)")
        async with pool.acquire() as conn:  # left inside a transaction: rolled back first
            assert conn.get_server_pid() == pid
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT count(*) FROM pool_release_probe") == 0
            await pool.expire_connections()  # expired while lent: replaced
        async with pool.acquire() as conn:
            assert conn.get_server_pid() != pid
            pid = conn.get_server_pid()
            conn.terminate()
        async with pool.acquire() as conn:  # closed under it: replaced
            assert conn.get_server_pid() != pid
            assert await conn.fetchval("SELECT 1") == 1
    finally:
        await pool.close()


async def test_connections_idle_too_long_are_closed_also_when_handed_back_at_once(database_url: str) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=3)
    pool._max_inactive_connection_lifetime = 0.2  # create_pool keeps asyncpg's 300 s
    for holder in pool._holders:
        holder._max_inactive_time = 0.2
    try:
        async with pool.acquire(), pool.acquire(), pool.acquire():
            assert pool.get_size() == 3
        await asyncio.sleep(0.6)
        assert pool.get_idle_size() == pool.get_size() == 1
    finally:
        await pool.close()
