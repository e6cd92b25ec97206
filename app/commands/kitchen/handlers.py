"""The kitchen's commands: accept a ticket (with ready_by), start preparing, mark ready."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from app.commands.kitchen import domain, store
from app.events.kitchen import TicketAccepted, TicketStatusChanged
from app.infra.unit_of_work import UnitOfWork
from app.infra.web.decoding import AwareDatetime
from app.roles import Role


class AcceptTicket(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    order_id: UUID
    ready_by: AwareDatetime


class StartPreparing(msgspec.Struct, frozen=True):
    order_id: UUID


class MarkReady(msgspec.Struct, frozen=True):
    order_id: UUID


class TicketState(msgspec.Struct, frozen=True):
    order_id: UUID
    status: str
    ready_by: datetime | None
    position: str = ""


async def _advance(uow: UnitOfWork, order_id: UUID, step: str, ready_by: datetime | None = None) -> TicketState:
    ticket = await store.load(uow.conn, order_id)
    # someone else's ticket is one that does not exist, for this caller
    status = ticket[0] if ticket is not None and uow.actor.owns(Role.RESTAURANT, ticket[1]) else None
    target = domain.advance(order_id, status, step)
    now = uow.now()
    ready_by = await store.save(uow.conn, order_id, target, ready_by, now)
    if step == "accept":
        assert ready_by is not None
        uow.emit(TicketAccepted(order_id=order_id, ready_by=ready_by, at=now))
    else:
        uow.emit(TicketStatusChanged(order_id=order_id, status=target, at=now))
    return TicketState(order_id, target, ready_by)


async def accept_ticket(cmd: AcceptTicket, uow: UnitOfWork) -> TicketState:
    return await _advance(uow, cmd.order_id, "accept", cmd.ready_by)


async def start_preparing(cmd: StartPreparing, uow: UnitOfWork) -> TicketState:
    return await _advance(uow, cmd.order_id, "preparing")


async def mark_ready(cmd: MarkReady, uow: UnitOfWork) -> TicketState:
    return await _advance(uow, cmd.order_id, "ready")
