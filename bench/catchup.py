"""Catch-up and rebuild (issue #4, item 3): project the whole outbox into a view's shadow
tables with the real projector, the way `app projections rebuild` does, and report
events/s and the process's RSS, sampled every 0.5 s over the whole run.

Needs a database whose outbox already holds the events (bench/order_history.py makes
1,000,000 OrderPlaced events). The live view is not touched: the shadow is dropped after.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_orders uv run python -m bench.catchup order_history order_details
"""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
import time

import psutil

from app.infra.db import Pool, create_pool
from app.infra.outbox import Envelope, Position, read_committed
from app.infra.rebuild import build_shadow, shadow_name, shadow_schema
from app.infra.subscriptions import apply_batch, ensure_checkpoint
from app.modules import VIEWS


def sample_rss(samples: list[float], stop: threading.Event) -> None:
    me = psutil.Process()
    while not stop.is_set():
        samples.append(me.memory_info().rss / 2**20)
        stop.wait(0.5)


async def catch_up(url: str, name: str, batch_size: int) -> None:
    view = VIEWS[name]
    pool = await create_pool(url, min_size=1, max_size=3)
    samples: list[float] = []
    stop = threading.Event()
    sampler = threading.Thread(target=sample_rss, args=(samples, stop), daemon=True)
    try:
        sampler.start()
        started = time.perf_counter()
        done = [0]
        await build_shadow(pool, view, batch_size=batch_size, on_progress=lambda p: done.__setitem__(0, p.done))
        elapsed = time.perf_counter() - started
        stop.set()
        sampler.join()
        print(
            f"{name:<16} {done[0]:>10,} events {elapsed:7.1f} s {done[0] / elapsed:>9,.0f} events/s   "
            f"RSS start {samples[0]:.0f} MB, max {max(samples):.0f} MB, growth {max(samples) - samples[0]:.0f} MB"
        )
    finally:
        await pool.execute(f'DROP SCHEMA IF EXISTS "{shadow_schema(name)}" CASCADE')
        await pool.execute("DELETE FROM command.subscriptions WHERE name = $1", shadow_name(name))
        await pool.close()


async def catch_up_live(url: str, name: str, batch_size: int = 5000) -> int:
    """Bring the live view itself up to the committed head (the benchmarks that read it)."""
    view = VIEWS[name]
    pool = await create_pool(url, min_size=1, max_size=2)
    done = 0
    try:
        position = await ensure_checkpoint(pool, view.name)
        while batch := await _read(pool, position, batch_size):
            position = await apply_batch(pool, view.name, view.schema, view.projection(), position, batch)
            done += len(batch)
    finally:
        await pool.close()
    return done


async def _read(pool: Pool, position: Position, batch_size: int) -> list[Envelope]:
    async with pool.acquire() as conn:
        return await read_committed(conn, position, batch_size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("views", nargs="+", choices=sorted(VIEWS))
    parser.add_argument("--batch-size", type=int, default=5000)
    args = parser.parse_args()
    for name in args.views:
        asyncio.run(catch_up(os.environ["DATABASE_URL"], name, args.batch_size))


if __name__ == "__main__":
    main()
