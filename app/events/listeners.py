"""Events of the listeners module (never a secret in them)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from app.events import Event, register


class ListenerRegistered(Event, frozen=True, tag="listeners.listener_registered"):
    STREAM = "listener_id"
    listener_id: UUID
    name: str
    event_types: list[str]
    filter: str | None
    fields: dict[str, str] | None
    target_kind: str
    starts_at: datetime
    ends_at: datetime | None


class ListenerChanged(Event, frozen=True, tag="listeners.listener_changed"):
    STREAM = "listener_id"
    listener_id: UUID
    name: str
    filter: str | None
    fields: dict[str, str] | None
    ends_at: datetime | None
    paused: bool
    version: int


class ListenerDeleted(Event, frozen=True, tag="listeners.listener_deleted"):
    STREAM = "listener_id"
    listener_id: UUID


class ListenerSecretRotated(Event, frozen=True, tag="listeners.listener_secret_rotated"):
    STREAM = "listener_id"
    listener_id: UUID


register(ListenerRegistered, ListenerChanged, ListenerDeleted, ListenerSecretRotated)
