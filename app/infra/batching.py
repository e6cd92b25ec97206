"""Sends runs of the same statement as one `executemany` (a pipeline), keeping order."""

from __future__ import annotations

from typing import Any

from app.infra.db import Connection


class StatementRuns:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._sql: str | None = None
        self._rows: list[tuple[Any, ...]] = []

    async def add(self, sql: str, *args: Any) -> None:
        if sql != self._sql:
            await self.flush()
            self._sql = sql
        self._rows.append(args)

    async def flush(self) -> None:
        if self._sql is not None and self._rows:
            await self._conn.executemany(self._sql, self._rows)
        self._rows = []
