"""The listeners module's commands: register, change, delete a listener, rotate its secret,
redeliver a dead letter."""

from __future__ import annotations

import base64
import os
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import msgspec
from msgspec import Meta

from app.commands.listeners import domain, store
from app.commands.listeners.addresses import checked_address
from app.errors import Conflict, Invalid, NotFound, invalid
from app.events import published
from app.events.listeners import ListenerChanged, ListenerDeleted, ListenerRegistered, ListenerSecretRotated
from app.infra.clock import uuid7
from app.infra.outbox import ORIGIN, Position
from app.infra.unit_of_work import UnitOfWork
from app.infra.web.decoding import NO_NUL, AwareDatetime, text
from app.infra.web.pipeline import KeptOut

EventType = Annotated[str, text(100, examples=["orders.order_placed"])]
FieldName = Annotated[str, Meta(min_length=1, max_length=100, pattern=NO_NUL)]
PathText = Annotated[str, text(2000, examples=["$.order_id"])]
HeaderName = Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")]
HeaderValue = Annotated[str, Meta(max_length=1000, pattern=r"^[\t\x20-\x7e\x80-\xff]*$")]


class WebhookTarget(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="webhook", tag_field="kind"):
    url: Annotated[str, text(2000, examples=["https://shipping.example.com/hooks/orders"])]
    headers: Annotated[dict[HeaderName, HeaderValue], Meta(max_length=20)] | None = None


class NatsTarget(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="nats", tag_field="kind"):
    subject: Annotated[str, Meta(min_length=1, max_length=200, pattern=domain.NATS_SUBJECT.pattern)]


Filter = Annotated[str, text(2000, examples=['$.total.double() > 100 && $.restaurant_name == "Pizza"'])]
Fields = Annotated[dict[FieldName, PathText], Meta(max_length=50)]


class RegisterListener(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Annotated[str, text(200)]
    event_types: Annotated[list[EventType], Meta(min_length=1, max_length=50)]
    target: WebhookTarget | NatsTarget
    filter: Filter | None = None
    fields: Fields | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None

    def check(self) -> None:
        known = published()
        unknown = [t for t in self.event_types if t not in known]
        if unknown:
            raise invalid("event_types", f"not a published event type: {', '.join(unknown)} (see GET /event-types)")
        if self.starts_at is not None:
            domain.check_window(self.starts_at, self.ends_at)


class ChangeListener(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    listener_id: UUID
    name: Annotated[str, text(200)] | None = None
    filter: Filter | None = None
    fields: Fields | None = None
    ends_at: AwareDatetime | None = None
    paused: bool | None = None


class DeleteListener(msgspec.Struct, frozen=True):
    listener_id: UUID


class RotateSecret(msgspec.Struct, frozen=True):
    listener_id: UUID


class Redeliver(msgspec.Struct, frozen=True):
    listener_id: UUID
    event_id: UUID


class Stats(msgspec.Struct, frozen=True):
    delivered: int
    failed_attempts: int
    dead_letters: int
    pending: int
    last_delivered_position: str | None


class Listener(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    event_types: list[str]
    filter: str | None
    fields: dict[str, str] | None
    target: dict[str, Any]
    starts_at: datetime
    ends_at: datetime | None
    state: str
    stats: Stats
    created_at: datetime
    position: str = ""


class RegisteredListener(Listener, frozen=True):
    """A listener as registered: with its webhook secret, shown this once."""

    secret: str | None = None


class Secret(msgspec.Struct, frozen=True):
    secret: str
    position: str = ""


class Accepted(msgspec.Struct, frozen=True):
    listener_id: UUID
    event_id: UUID
    status: str
    position: str = ""


def new_secret() -> str:
    return domain.SECRET_PREFIX + base64.b64encode(os.urandom(24)).decode()


def public_target(target: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in target.items() if v is not None}


def as_listener(r: asyncpg.Record, now: datetime) -> Listener:
    """A listener as the API shows it, from its row (store.LISTENER / store.LISTENERS_PAGE)."""
    last = None if r["last_xid"] is None else Position(r["last_xid"], r["last_id"]).token()
    return Listener(
        id=r["id"],
        name=r["name"],
        event_types=list(r["event_types"]),
        filter=r["filter"],
        fields=None if r["fields"] is None else msgspec.json.decode(r["fields"]),
        target=public_target(msgspec.json.decode(r["target"])),
        starts_at=r["starts_at"],
        ends_at=r["ends_at"],
        state=domain.state(
            now,
            starts_at=r["starts_at"],
            ends_at=r["ends_at"],
            paused=r["paused"],
            disabled=r["disabled"],
            pending=r["pending"],
            head_failed=r["head_failed"],
        ),
        stats=Stats(r["delivered"], r["failed_attempts"], r["dead_letters"], r["pending"], last),
        created_at=r["created_at"],
    )


def _without_secret(body: bytes) -> bytes:
    answer = msgspec.json.decode(body)
    answer["secret"] = None
    return msgspec.json.encode(answer)


async def _with_current_secret(conn: Any, cmd: Any, body: bytes) -> bytes:
    answer = msgspec.json.decode(body)
    listener_id = cmd.listener_id if isinstance(cmd, RotateSecret) else UUID(answer["id"])
    if answer.get("secret") is None:
        answer["secret"] = await store.secret(conn, listener_id)
    return msgspec.json.encode(answer)


# The secret in the answer to a registration or a rotation is not kept under the
# Idempotency-Key as a second copy: a repeat gets the listener's current secret.
SECRET_KEPT_OUT = KeptOut(_without_secret, _with_current_secret)


async def _check_paths(uow: UnitOfWork, filter_: str | None, fields: dict[str, str] | None) -> None:
    errors = []
    if filter_ is not None and (why := await store.check_filter(uow.conn, filter_)):
        errors.append({"field": "filter", "message": f"not an SQL/JSON path predicate: {why}"})
    for name, path in (fields or {}).items():
        if why := await store.check_path(uow.conn, path):
            errors.append({"field": f"fields.{name}", "message": f"not an SQL/JSON path: {why}"})
    if errors:
        raise Invalid("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)


async def register_listener(cmd: RegisterListener, uow: UnitOfWork) -> RegisteredListener:
    now = uow.now()
    starts_at = cmd.starts_at or now
    domain.check_window(starts_at, cmd.ends_at)
    if isinstance(cmd.target, WebhookTarget):
        domain.check_headers(cmd.target.headers or {})
        await checked_address(cmd.target.url, domain.Allowed.of(uow.settings.listener_allowed_hosts))
    await _check_paths(uow, cmd.filter, cmd.fields)
    listener_id = uuid7()
    target = msgspec.to_builtins(cmd.target)
    secret = new_secret() if isinstance(cmd.target, WebhookTarget) else None
    fanned_out = await store.fanout_position(uow.conn)
    await store.insert(
        uow.conn, listener_id, cmd.name, cmd.event_types, cmd.filter, cmd.fields, target, secret, starts_at, cmd.ends_at, now
    )
    await store.rematch(uow.conn, listener_id, ORIGIN, fanned_out)  # a past starts_at: the backfill, in windows
    uow.emit(
        ListenerRegistered(
            listener_id=listener_id,
            name=cmd.name,
            event_types=cmd.event_types,
            filter=cmd.filter,
            fields=cmd.fields,
            target_kind=target["kind"],
            starts_at=starts_at,
            ends_at=cmd.ends_at,
        )
    )
    row = await store.one(uow.conn, listener_id)
    assert row is not None
    shown = as_listener(row, now)
    return RegisteredListener(**msgspec.structs.asdict(shown), secret=secret)


async def _load(uow: UnitOfWork, listener_id: UUID) -> Any:
    row = await store.load_for_update(uow.conn, listener_id)
    if row is None:
        raise NotFound(f"listener {listener_id} does not exist")
    return row


async def change_listener(cmd: ChangeListener, uow: UnitOfWork) -> Listener:
    current = await _load(uow, cmd.listener_id)
    now = uow.now()
    name = cmd.name if cmd.name is not None else current["name"]
    filter_ = cmd.filter if cmd.filter is not None else current["filter"]
    stored_fields = None if current["fields"] is None else msgspec.json.decode(current["fields"])
    fields = cmd.fields if cmd.fields is not None else stored_fields
    ends_at = cmd.ends_at if cmd.ends_at is not None else current["ends_at"]
    paused = cmd.paused if cmd.paused is not None else current["paused"]
    domain.check_window(current["starts_at"], ends_at)
    await _check_paths(uow, cmd.filter, cmd.fields)
    version = await store.save(uow.conn, cmd.listener_id, name, filter_, fields, ends_at, paused, now)
    await store.stop_deliveries(uow.conn, cmd.listener_id)
    if cmd.filter is not None or cmd.ends_at is not None:
        # A new filter (or end) applies to the events not yet delivered: match them again,
        # from the last one delivered up to where the fan-out has come.
        fanned_out = await store.fanout_position(uow.conn)
        last = Position(current["last_xid"], current["last_id"]) if current["last_xid"] is not None else ORIGIN
        await store.forget_pending(uow.conn, cmd.listener_id)
        await store.rematch(uow.conn, cmd.listener_id, last, fanned_out)
    uow.emit(
        ListenerChanged(
            listener_id=cmd.listener_id, name=name, filter=filter_, fields=fields, ends_at=ends_at, paused=paused, version=version
        )
    )
    row = await store.one(uow.conn, cmd.listener_id)
    assert row is not None
    return as_listener(row, now)


async def delete_listener(cmd: DeleteListener, uow: UnitOfWork) -> None:
    if not await store.delete(uow.conn, cmd.listener_id, uow.now()):
        raise NotFound(f"listener {cmd.listener_id} does not exist")
    await store.stop_deliveries(uow.conn, cmd.listener_id)
    uow.emit(ListenerDeleted(listener_id=cmd.listener_id))


async def rotate_secret(cmd: RotateSecret, uow: UnitOfWork) -> Secret:
    await _load(uow, cmd.listener_id)
    secret = new_secret()
    if not await store.rotate_secret(uow.conn, cmd.listener_id, secret, uow.now()):
        raise Conflict("only a webhook listener has a secret", listener_id=str(cmd.listener_id))
    uow.emit(ListenerSecretRotated(listener_id=cmd.listener_id))
    return Secret(secret)


async def redeliver(cmd: Redeliver, uow: UnitOfWork) -> Accepted:
    await _load(uow, cmd.listener_id)
    if not await store.redeliver(uow.conn, cmd.listener_id, cmd.event_id):
        if not await store.matched(uow.conn, cmd.listener_id, cmd.event_id):
            raise NotFound(f"event {cmd.event_id} was never matched by this listener", event_id=str(cmd.event_id))
        raise Conflict(f"event {cmd.event_id} is not a dead letter of this listener", event_id=str(cmd.event_id))
    await uow.conn.execute("SELECT pg_notify('listener_queue', '')")
    return Accepted(cmd.listener_id, cmd.event_id, "pending")
