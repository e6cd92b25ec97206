"""Alembic environment: raw SQL migrations over asyncpg (no ORM models)."""

from __future__ import annotations

import asyncio

import asyncpg
from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

config = context.config

# One migrator at a time (N containers started together on an empty database): the others
# wait for this session lock, then find the database at head and have nothing to do.
MIGRATION_LOCK = 7_340_002


def _url() -> str:
    url = config.attributes.get("database_url")
    if not url:
        from app.config import load_settings
        from app.infra.db import embedded_server_url

        settings = load_settings()
        url = settings.database_url or embedded_server_url(settings.data_dir)
    return str(url)


def _run(connection: Connection) -> None:
    connection.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
    connection.commit()  # the lock is the session's: it outlives this transaction
    context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()


async def _online() -> None:
    url = _url()

    async def creator() -> asyncpg.Connection:
        return await asyncpg.connect(url)

    engine = create_async_engine("postgresql+asyncpg://", async_creator=creator, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url="postgresql://", literal_binds=True, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_online())
