"""`app projections status` and `app projections rebuild NAME` (terminal output)."""

from __future__ import annotations

import asyncio
import sys

from app import modules
from app.infra import purger, status
from app.infra.db import create_pool
from app.infra.rebuild import Progress, RebuildError, rebuild


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "--"
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def print_progress(p: Progress, width: int = 30) -> None:
    share = p.done / p.total if p.total else 1.0
    bar = "#" * int(share * width)
    sys.stderr.write(
        f"\r[{bar:<{width}}] {share:6.1%} {p.done:,}/{p.total:,} events {p.rate:,.0f} ev/s ETA {_duration(p.eta_s)}   "
    )
    sys.stderr.flush()


async def _status(url: str) -> None:
    pool = await create_pool(url, min_size=1, max_size=2)
    try:
        samples = await status.sample(pool, modules.SUBSCRIPTIONS)
        purges = {r["name"]: r for r in await pool.fetch(purger.PURGES)}
    finally:
        await pool.close()
    print(f"{'subscription':<24} {'state':<8} {'position':<20} {'lag events':>10} {'lag s':>8}")
    for s in samples:
        position = f"{s.position_xid}.{s.position_id}"
        print(f"{s.name:<24} {s.state:<8} {position:<20} {s.lag_events:>10} {s.lag_seconds:>8.2f}")
    print(f"\n{'purge':<28} {'removed':>12} {'last run':>12} {'last run at':<32}")
    for purge in modules.PURGES:
        row = purges.get(purge.name)
        if row is None:
            print(f"{purge.name:<28} {'-':>12} {'-':>12} never")
        else:
            print(f"{purge.name:<28} {row['removed']:>12} {row['last_removed']:>12} {row['last_run_at'].isoformat()}")


def print_status(url: str) -> None:
    asyncio.run(_status(url))


async def _rebuild(url: str, name: str) -> int:
    view = modules.VIEWS.get(name)
    if view is None:
        print(f"unknown view {name!r}; views: {', '.join(modules.VIEWS)}", file=sys.stderr)
        return 2
    pool = await create_pool(url, min_size=1, max_size=3)
    try:
        position = await rebuild(pool, view, on_progress=print_progress)
    except RebuildError as exc:
        print(f"\nrebuild failed: {exc}", file=sys.stderr)
        return 1
    finally:
        await pool.close()
    print(f"\nrebuilt {name}; swapped in at position {position.token()}", file=sys.stderr)
    return 0


def run_rebuild(url: str, name: str) -> int:
    return asyncio.run(_rebuild(url, name))
