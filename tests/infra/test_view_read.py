"""A view's page and the view's checkpoint come from one statement: the position a reader is
told (X-View-Position) is the one the rows reflect, whether or not the page is empty."""

from __future__ import annotations

from app.infra.consistency import ViewRead
from app.infra.db import Pool
from app.infra.outbox import ORIGIN, Position

PAGE = "SELECT g AS n, NULL::text AS note FROM generate_series(1, $1) g ORDER BY g DESC"


async def set_checkpoint(pool: Pool, name: str, at: Position) -> None:
    await pool.execute(
        "INSERT INTO command.subscriptions (name, xid, id) VALUES ($1, $2, $3) "
        "ON CONFLICT (name) DO UPDATE SET xid = EXCLUDED.xid, id = EXCLUDED.id",
        name,
        at.xid,
        at.id,
    )


async def test_rows_keep_their_order_and_carry_the_checkpoint(pool: Pool) -> None:
    await set_checkpoint(pool, "view_read_a", Position(41, 7))
    read = ViewRead(pool, "view_read_a")
    rows = await read.fetch(PAGE, 300)
    assert [r[0] for r in rows] == list(range(300, 0, -1))
    assert rows[0] == (300, None), "a row that is NULL but for one column is still a row; the position is beside it"
    assert read.position == Position(41, 7)


async def test_an_empty_page_is_empty_and_still_tells_the_position(pool: Pool) -> None:
    await set_checkpoint(pool, "view_read_b", Position(42, 9))
    read = ViewRead(pool, "view_read_b")
    assert await read.fetch(PAGE, 0) == []
    assert read.position == Position(42, 9)
    assert await read.fetchrow(PAGE, 0) is None


async def test_a_view_with_no_checkpoint_yet_is_at_the_origin(pool: Pool) -> None:
    read = ViewRead(pool, "view_read_never_ran")
    assert [r[0] for r in await read.fetch(PAGE, 2)] == [2, 1]
    assert read.position == ORIGIN
    assert await read.fetch(PAGE, 0) == []
    assert read.position == ORIGIN


async def test_a_read_the_standby_fails_is_read_again_on_the_primary(pool: Pool, database_url: str) -> None:
    """The standby's pool is gone (as when it restarts under a read): the same read is made
    on the primary, and the failure is reported, instead of an error for the caller."""
    from app.infra.consistency import Fallback
    from app.infra.db import create_pool
    from app.infra.web.views import STANDBY_FAILURES

    await set_checkpoint(pool, "view_read_fallback", Position(43, 1))
    gone = await create_pool(database_url, min_size=1, max_size=1)
    gone.terminate()
    failures: list[BaseException] = []
    read = ViewRead(gone, "view_read_fallback", Fallback(pool, STANDBY_FAILURES, failures.append))
    rows = await read.fetch(PAGE, 3)
    assert [r[0] for r in rows] == [3, 2, 1] and read.position == Position(43, 1)
    assert len(failures) == 1
