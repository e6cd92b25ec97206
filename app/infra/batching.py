"""Sends runs of the same statement at once, keeping order: a run of a plain statement as
one `executemany` (a pipeline), a run of a `ColumnStatement` as one execution with a list
per column (its SQL reads them with `unnest`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from app.infra.db import Connection


class ColumnStatement(NamedTuple):
    """A statement over `unnest($1::type[], $2::type[], ...)`: many rows in one execution.
    Rows are added one at a time, like a plain statement's arguments."""

    sql: str


def columns(rows: Sequence[Sequence[Any]]) -> tuple[list[Any], ...]:
    """Rows of arguments as the lists a ColumnStatement takes, one per column."""
    return tuple(list(column) for column in zip(*rows, strict=True))


class StatementRuns:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._sql: str | ColumnStatement | None = None
        self._rows: list[tuple[Any, ...]] = []

    async def add(self, sql: str | ColumnStatement, *args: Any) -> None:
        if sql != self._sql:
            await self.flush()
            self._sql = sql
        self._rows.append(args)

    async def flush(self) -> None:
        if self._sql is not None and self._rows:
            if isinstance(self._sql, ColumnStatement):
                await self._conn.execute(self._sql.sql, *columns(self._rows))
            else:
                await self._conn.executemany(self._sql, self._rows)
        self._rows = []
