"""A consumer's order history: filters, whole-word keywords, keyset pages, newest first.

Each filter is a fixed SQL fragment with its own parameter; only the fragments in use
are joined, so the planner sees the exact shape and picks the index for it:
(consumer_id, created_at, id) for time ranges, (consumer_id, state, created_at, id)
for a status, and the GIN index on (consumer_id, words) for keywords."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from app.infra.consistency import ViewRead
from app.infra.money import money
from app.queries.order_documents import Line, Named, lines


class OrderSummary(msgspec.Struct, frozen=True):
    id: UUID
    restaurant: Named
    line_items: list[Line]
    total: str
    state: str
    created_at: datetime


class Filters(msgspec.Struct, frozen=True):
    since: datetime | None = None
    until: datetime | None = None
    status: str | None = None
    keywords: list[str] | None = None


def build(consumer_id: UUID, f: Filters, after: tuple[datetime, UUID] | None, limit: int) -> tuple[str, list[Any]]:
    clauses: list[str] = ["consumer_id = $1"]
    args: list[Any] = [consumer_id]

    def add(fragment: str, value: Any) -> None:
        args.append(value)
        clauses.append(fragment.replace("?", f"${len(args)}"))

    if f.since is not None:
        add("created_at >= ?", f.since)
    if f.until is not None:
        add("created_at < ?", f.until)
    if f.status is not None:
        add("state = ?", f.status)
    if f.keywords:
        add("words && ?::text[]", f.keywords)
    if after is not None:
        args += [after[0], after[1]]
        clauses.append(f"(created_at, id) < (${len(args) - 1}, ${len(args)})")
    args.append(limit)
    sql = (
        "SELECT id, restaurant_id, restaurant_name, line_items, total, state, created_at "
        f"FROM order_history WHERE {' AND '.join(clauses)} "
        f"ORDER BY created_at DESC, id DESC LIMIT ${len(args)}"
    )
    return sql, args


async def history(
    read: ViewRead, consumer_id: UUID, f: Filters, after: tuple[datetime, UUID] | None, limit: int
) -> list[OrderSummary]:
    sql, args = build(consumer_id, f, after, limit)
    return [
        OrderSummary(id_, Named(restaurant_id, restaurant_name), lines(line_items), money(total), state, created_at)
        for id_, restaurant_id, restaurant_name, line_items, total, state, created_at in await read.fetch(sql, *args)
    ]


KNOWN = "SELECT id FROM order_history_consumers WHERE id = $1"


async def consumer_known(read: ViewRead, consumer_id: UUID) -> bool:
    return await read.fetchrow(KNOWN, consumer_id) is not None
