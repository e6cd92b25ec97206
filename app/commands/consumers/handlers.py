"""Register a consumer with a credit limit."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec

from app.commands.consumers import store
from app.events.consumers import ConsumerRegistered
from app.infra.clock import uuid7
from app.infra.money import Money, money, parse_money
from app.infra.unit_of_work import UnitOfWork
from app.infra.web.decoding import text


class RegisterConsumer(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Annotated[str, text(200)]
    credit_limit: Money = "1000.00"


class ConsumerCreated(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    credit_limit: str
    position: str = ""


async def register_consumer(cmd: RegisterConsumer, uow: UnitOfWork) -> ConsumerCreated:
    consumer_id, credit_limit = uuid7(), parse_money(cmd.credit_limit)
    uow.emit(ConsumerRegistered(consumer_id=consumer_id, name=cmd.name, credit_limit=credit_limit))
    store.insert_consumer(uow, consumer_id, cmd.name, credit_limit, uow.now())
    return ConsumerCreated(consumer_id, cmd.name, money(credit_limit))
