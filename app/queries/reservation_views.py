"""What the reservation views share: the events they act on, their usual batch (new
reservations and nothing else they act on), and the shape of a view that keeps one row
per reservation (a room's name copied in, a registration, a change, a cancellation)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.events.reservations import ReservationCancelled, ReservationChanged, ReservationRegistered, RoomAdded
from app.infra.batching import ColumnStatement, StatementRuns, columns
from app.infra.db import Connection
from app.infra.outbox import Envelope, Write

# The events every reservation view acts on (each keeps its own copy of room names).
RESERVATION_EVENTS = (RoomAdded, ReservationRegistered, ReservationChanged, ReservationCancelled)


def only_new_reservations(batch: Sequence[Envelope]) -> list[ReservationRegistered] | None:
    """The batch's new reservations, if that is all it holds of rooms and reservations
    (a reservation registers once, so no two of them touch the same row: they can be
    written in one statement); else None."""
    if any(isinstance(e.event, RoomAdded | ReservationChanged | ReservationCancelled) for e in batch):
        return None
    registered = [e.event for e in batch if isinstance(e.event, ReservationRegistered)]
    return registered or None


Args = tuple[object, ...]


@dataclass(frozen=True)
class PerReservation:
    """A view with a row per reservation: its statements, each with its arguments taken
    from the event. New reservations go in one statement (`register`: the live batch's
    usual one, and runs of them in any batch); updates carry the reservation's version and
    only move forward, so a replayed event changes nothing."""

    add_room: str  # $1 room id, $2 name
    register: ColumnStatement
    registered: Callable[[ReservationRegistered], Args]
    change: str
    changed: Callable[[ReservationChanged], Args]
    cancel: str
    cancelled: Callable[[ReservationCancelled], Args]

    async def project(self, conn: Connection, batch: Sequence[Envelope]) -> None:
        runs = StatementRuns(conn)
        for envelope in batch:
            match envelope.event:
                case RoomAdded(room_id=room_id, name=name):
                    await runs.add(self.add_room, room_id, name)
                case ReservationRegistered() as e:
                    await runs.add(self.register, *self.registered(e))
                case ReservationChanged() as e:
                    await runs.add(self.change, *self.changed(e))
                case ReservationCancelled() as e:
                    await runs.add(self.cancel, *self.cancelled(e))
        await runs.flush()

    def as_one_statement(self, batch: Sequence[Envelope]) -> Write | None:
        """A batch of new reservations (the usual one) as `register`; any other: None."""
        registered = only_new_reservations(batch)
        return None if registered is None else Write(self.register.sql, columns([self.registered(e) for e in registered]))
