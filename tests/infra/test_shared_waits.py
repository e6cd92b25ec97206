"""Requests waiting for X-Min-Position share one poll of the view's checkpoint per process:
20 callers waiting a second make about as many checkpoint reads as one would (the finding:
~1,800 transactions/s for 20 waiters of one user)."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from app.http import create_app
from app.infra import consistency
from tests.asgi import running_app
from tests.conftest import settings_for


async def test_twenty_waiters_share_one_poll(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    reads = 0
    read = consistency.view_position

    async def counted(*args: Any) -> Any:
        nonlocal reads
        reads += 1
        return await read(*args)

    monkeypatch.setattr(consistency, "view_position", counted)
    # No subscriptions here: nothing advances the view, so every waiter polls until its deadline.
    async with running_app(create_app(settings_for(database_url, run_subscriptions=False))) as client:
        statuses: list[int] = []

        async def wait_for_the_far_future() -> None:
            r = await client.get("/rooms", headers={"X-Min-Position": "999999999.1", "X-Wait-Ms": "1000"})
            statuses.append(r.status_code)

        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(wait_for_the_far_future)
    assert statuses == [412] * 20
    # One waiter alone polls every 10 ms: ~100 reads in its second. Twenty unshared: ~2,000.
    assert reads <= 150, reads
