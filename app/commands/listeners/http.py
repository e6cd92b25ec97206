"""Event listeners over HTTP: the commands as declarations, and the reads of the module's
own state (listeners, their deliveries log; operational state the delivery loop writes,
so read where it lives, not projected) and of the published event types."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Response, get
from litestar.params import FromPath, QueryParameter

from app.commands.listeners import handlers, store
from app.commands.listeners.handlers import ChangeListener, DeleteListener, Listener, Redeliver, RegisterListener, RotateSecret
from app.errors import Conflict, NotFound
from app.events import published
from app.infra.web.commands import command
from app.infra.web.openapi import plain_read
from app.infra.web.pages import Cursor, PageSize, decode_cursor, encode_cursor, page_of
from app.infra.web.services import ServicesDep


class ListenerPage(msgspec.Struct, frozen=True):
    items: list[Listener]
    next_cursor: str | None


class DeliveryAttempt(msgspec.Struct, frozen=True):
    event_id: UUID
    type: str
    position: str
    attempt: int
    status: str
    response_status: int | None
    error: str | None
    duration_ms: float
    at: Any


class DeliveryPage(msgspec.Struct, frozen=True):
    items: list[DeliveryAttempt]
    next_cursor: str | None


class EventType(msgspec.Struct, frozen=True):
    type: str
    schema: dict[str, Any]


class EventTypes(msgspec.Struct, frozen=True):
    items: list[EventType]


_STORY = {
    "name": "mailer",
    "event_types": ["orders.order_placed"],
    "filter": "$.total.double() > 100",
    "fields": {"orderId": "$.order_id"},
    "target": {"kind": "webhook", "url": "https://mailer.example.com/hooks/orders"},
    "starts_at": "2027-10-01T00:00:00Z",
    "ends_at": "2027-12-31T00:00:00Z",
}
_ID = "/listeners/{listener_id:uuid}"


@get(
    "/listeners",
    summary="Listeners, by name",
    description="Each with its state and delivery stats; never a secret.",
    operation_id="listListeners",
    opt=plain_read(400),
)
async def list_listeners(services: ServicesDep, page_size: PageSize = 20, cursor: Cursor = None) -> Response[ListenerPage]:
    after = decode_cursor(cursor, tuple[str, UUID]) if cursor else None
    now = services.clock.now()
    found = [handlers.as_listener(row, now) for row in await store.page(services.pool, after, page_size + 1)]
    items, next_cursor = page_of(found, page_size, lambda listener: (listener.name, listener.id))
    return Response(ListenerPage(items, next_cursor))


@get(
    _ID,
    summary="A listener (never its secret)",
    description="`state`: scheduled, active, retrying, paused, ended or disabled; "
    "`stats.pending`: matching events not yet delivered.",
    operation_id="getListener",
    opt=plain_read(404),
)
async def get_listener(services: ServicesDep, listener_id: FromPath[UUID]) -> Listener:
    row = await store.one(services.pool, listener_id)
    if row is None:
        raise NotFound(f"listener {listener_id} does not exist")
    return handlers.as_listener(row, services.clock.now())


Status = Annotated[str | None, QueryParameter(pattern="^(delivered|failed|dead)$", description="delivered | failed | dead")]


@get(
    f"{_ID}/deliveries",
    summary="Every attempt, newest first",
    description="One row per attempt: delivered, failed (to be retried) or dead (a dead letter: redeliver it).",
    operation_id="listDeliveries",
    opt=plain_read(400, 404),
)
async def list_deliveries(
    services: ServicesDep, listener_id: FromPath[UUID], status: Status = None, page_size: PageSize = 20, cursor: Cursor = None
) -> DeliveryPage:
    if not await store.exists(services.pool, listener_id):
        raise NotFound(f"listener {listener_id} does not exist")
    before = decode_cursor(cursor, tuple[int])[0] if cursor else None
    rows = await store.deliveries(services.pool, listener_id, status, before, page_size + 1)
    items = [
        DeliveryAttempt(
            r["event_id"],
            r["type"],
            f"{r['xid']}.{r['id']}",
            r["attempt"],
            r["status"],
            r["response_status"],
            r["error"],
            r["duration_ms"],
            r["at"],
        )
        for r in rows[:page_size]
    ]
    next_cursor = encode_cursor(rows[page_size - 1]["seq"]) if len(rows) > page_size else None
    return DeliveryPage(items, next_cursor)


@get(
    "/event-types",
    summary="Every published event type with the JSON Schema of its payload",
    description="What a listener's `event_types`, `filter` and `fields` paths can refer to.",
    operation_id="listEventTypes",
    opt=plain_read(),
)
async def event_types() -> EventTypes:
    return EventTypes([EventType(name, msgspec.json.schema(kind)) for name, kind in published().items()])


routes = [
    command(
        "POST",
        "/listeners",
        RegisterListener,
        handlers.register_listener,
        status=201,
        operation_id="registerListener",
        summary="Register a listener",
        description="A webhook's `secret` is in this answer only. 422: an unknown event type, a filter that is not an "
        "SQL/JSON path predicate, a field that is not a path, `ends_at <= starts_at`, or a URL the rules refuse.",
        example=_STORY,
        kept_out=handlers.SECRET_KEPT_OUT,
    ),
    command(
        "PATCH",
        _ID,
        ChangeListener,
        handlers.change_listener,
        refusals=[NotFound],
        operation_id="changeListener",
        summary="Change a listener's name, filter, fields or end, or pause it",
        description="A new filter applies to the events not yet delivered.",
        example={"paused": True},
    ),
    command(
        "DELETE",
        _ID,
        DeleteListener,
        handlers.delete_listener,
        status=204,
        refusals=[NotFound],
        operation_id="deleteListener",
        summary="Delete a listener",
        description="Its deliveries stop: a send already begun completes; see the README for the window.",
    ),
    command(
        "POST",
        f"{_ID}/rotate-secret",
        RotateSecret,
        handlers.rotate_secret,
        refusals=[NotFound, Conflict],
        operation_id="rotateListenerSecret",
        summary="A new webhook secret (shown once)",
        description="The old secret stops signing at once. 409: a NATS listener has no secret.",
        kept_out=handlers.SECRET_KEPT_OUT,
    ),
    command(
        "POST",
        f"{_ID}/deliveries/{{event_id:uuid}}/redeliver",
        Redeliver,
        handlers.redeliver,
        status=202,
        refusals=[NotFound, Conflict],
        operation_id="redeliver",
        summary="Deliver a dead letter again",
        description="Before the listener's next pending event. 409: the event is not a dead letter of this listener.",
    ),
    list_listeners,
    get_listener,
    list_deliveries,
    event_types,
]
