"""SQL on the consumers module's table."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from app.infra.outbox import Write
from app.infra.unit_of_work import UnitOfWork

INSERT = "INSERT INTO command.consumers (id, name, credit_limit, created_at) VALUES ($1, $2, $3, $4)"


def insert_consumer(uow: UnitOfWork, consumer_id: UUID, name: str, credit_limit: Decimal, at: datetime) -> None:
    """The consumer, saved to be written with its events in one statement."""
    uow.save(Write(INSERT, (consumer_id, name, credit_limit, at)))
