"""The usual batch of the reservation views: new reservations and nothing else they act on."""

from __future__ import annotations

from collections.abc import Sequence

from app.events.reservations import ReservationCancelled, ReservationChanged, ReservationRegistered, RoomAdded
from app.infra.outbox import Envelope


def only_new_reservations(batch: Sequence[Envelope]) -> list[ReservationRegistered] | None:
    """The batch's new reservations, if that is all it holds of rooms and reservations
    (a reservation registers once, so no two of them touch the same row: they can be
    written in one statement); else None."""
    if any(isinstance(e.event, RoomAdded | ReservationChanged | ReservationCancelled) for e in batch):
        return None
    registered = [e.event for e in batch if isinstance(e.event, ReservationRegistered)]
    return registered or None
