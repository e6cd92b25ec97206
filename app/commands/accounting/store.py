"""SQL on the accounting module's tables: accounts and payments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from app.commands.accounting.domain import Decision
from app.infra.db import Connection
from app.infra.outbox import Write
from app.infra.unit_of_work import UnitOfWork

OPEN_ACCOUNT = """
INSERT INTO command.accounting_accounts (consumer_id, credit_limit) VALUES ($1, $2)
ON CONFLICT (consumer_id) DO NOTHING
"""
# For a run of orders: each consumer's account, locked, with what it has available; and
# which of the orders already have a payment (a redelivered event changes nothing).
STANDING = """
WITH accounts AS (
    SELECT a.consumer_id, a.credit_limit - coalesce((
        SELECT sum(p.amount) FROM command.accounting_payments p
        WHERE p.consumer_id = a.consumer_id AND p.status = 'authorized'), 0) AS available
    FROM command.accounting_accounts a WHERE a.consumer_id = ANY($1::uuid[])
    ORDER BY a.consumer_id FOR UPDATE
)
SELECT consumer_id, available, NULL::uuid AS decided FROM accounts
UNION ALL
SELECT NULL, NULL, order_id FROM command.accounting_payments WHERE order_id = ANY($2::uuid[])
"""
RECORD = """
INSERT INTO command.accounting_payments (order_id, consumer_id, amount, status, updated_at)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::numeric[], $4::text[], $5::timestamptz[])
ON CONFLICT (order_id) DO NOTHING
"""
CLOSE = """
UPDATE command.accounting_payments SET status = $2, updated_at = $3
WHERE order_id = $1 AND status = 'authorized' RETURNING true
"""


async def open_account(conn: Connection, consumer_id: UUID, credit_limit: Decimal) -> None:
    await conn.execute(OPEN_ACCOUNT, consumer_id, credit_limit)


async def standing(
    conn: Connection, consumer_ids: Sequence[UUID], order_ids: Sequence[UUID]
) -> tuple[dict[UUID, Decimal], set[UUID]]:
    """What each consumer (with an account) has available, its account locked; and which
    of the orders already have a payment."""
    rows = await conn.fetch(STANDING, list(consumer_ids), list(order_ids))
    available = {r["consumer_id"]: r["available"] for r in rows if r["decided"] is None}
    return available, {r["decided"] for r in rows if r["decided"] is not None}


def record_payments(uow: UnitOfWork, decisions: Sequence[Decision], at: datetime) -> None:
    """The payments, saved to be written with the batch's events in one statement."""
    columns = (
        [d.order.order_id for d in decisions],
        [d.order.consumer_id for d in decisions],
        [d.order.total for d in decisions],
        ["authorized" if d.authorized else "declined" for d in decisions],
        [at] * len(decisions),
    )
    uow.save(Write(RECORD, columns))


async def close(conn: Connection, order_id: UUID, status: str, at: datetime) -> bool:
    """Moves an authorized payment to `status`; whether there was one."""
    return bool(await conn.fetchval(CLOSE, order_id, status, at))
