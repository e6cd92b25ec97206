"""HTTP plumbing shared by every module's controller: services, commands, view reads."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request, Response
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, QueryParameter

from app.infra.bus import EventBus
from app.infra.clock import Clock
from app.infra.consistency import (
    PositionNotReached,
    ViewPositions,
    ViewRead,
    parse_wait_ms,
)
from app.infra.db import Pool
from app.infra.idempotency import Work, check_key, fingerprint, run_command
from app.infra.metrics import Metrics
from app.infra.money import CENT
from app.infra.outbox import Position
from app.infra.problems import BadRequest, PreconditionFailed, Unprocessable
from app.infra.subscriptions import SubscriptionHost

# Timestamps must carry an offset; a naive one is a 400 like any wrong type.
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(name="Idempotency-Key", required=False, description="1-200 characters"),
]
MinPosition = Annotated[
    str | None,
    HeaderParameter(
        name="X-Min-Position",
        required=False,
        description="Wait until the view has applied this position (from X-Position)",
    ),
]
WaitMs = Annotated[
    str | None,
    HeaderParameter(name="X-Wait-Ms", required=False, description="0-10000, default 2000"),
]
PageSize = Annotated[int, QueryParameter(name="page_size", ge=1, le=100)]
Cursor = Annotated[str | None, QueryParameter(name="cursor", required=False)]


@dataclass
class Services:
    pool: Pool
    bus: EventBus
    clock: Clock
    positions: ViewPositions
    metrics: Metrics
    database_url: str
    head_revision: str
    host: SubscriptionHost | None = None


ServicesDep = NamedDependency[Services]

JSON = "application/json"


async def command(
    request: Request[Any, Any, Any],
    services: Services,
    work: Work,
    *,
    body: Any = None,
    key: str | None = None,
    single_statement: bool = False,
) -> Response[Any]:
    """Run a command (see idempotency.run_command) and answer with its stored response."""
    key = check_key(key)
    outcome = await run_command(
        services.pool,
        services.bus,
        work,
        instance=request.url.path,
        key=key,
        key_fingerprint=fingerprint(request.method, request.url.path, body) if key else b"",
        single_statement=single_statement,
    )
    headers = {"X-Position": outcome.position} if outcome.position else {}
    return Response(outcome.body, status_code=outcome.status, media_type=JSON, headers=headers)


async def read_view(services: Services, view: str, min_position: str | None, wait_ms: str | None) -> ViewRead:
    """A read of `view`, once it has applied `X-Min-Position` (a 412 if it does not in time)."""
    try:
        wait = parse_wait_ms(wait_ms)
    except ValueError:
        raise BadRequest(
            "X-Wait-Ms must be an integer 0-10000",
            errors=[{"field": "X-Wait-Ms", "message": "integer 0-10000"}],
        ) from None
    if min_position is None:
        return ViewRead(services.pool, view)
    try:
        target = Position.parse(min_position)
    except ValueError:
        raise BadRequest(
            "X-Min-Position is not a position token",
            errors=[{"field": "X-Min-Position", "message": "use a token from X-Position"}],
        ) from None

    try:
        await services.positions.wait_for(services.pool, view, target, wait)
    except PositionNotReached as exc:
        raise PreconditionFailed(
            f"view {view} has not applied position {min_position} within {wait} ms",
            view=view,
            view_position=exc.view_position.token(),
        ) from None
    return ViewRead(services.pool, view)


def view_response(content: Any, read: ViewRead) -> Response[Any]:
    assert read.position is not None, "the view was not read"
    return Response(content, headers={"X-View-Position": read.position.token()})


T = TypeVar("T")


async def strict_body(request: Request[Any, Any, Any], body_type: type[T]) -> T:
    """Decode the JSON body strictly (Litestar's own parse coerces "2" into 2; the
    contract says a wrong type is a 400). The parsed `data` argument still documents
    the body in the OpenAPI schema."""
    try:
        return msgspec.json.decode(await request.body(), type=body_type)
    except msgspec.ValidationError as exc:
        message = str(exc)
        where = message.rpartition(" - at `$.")[2].rstrip("`") if " - at `$." in message else "body"
        raise BadRequest(
            f"the request body does not match the schema: {message}",
            errors=[{"field": where, "message": message.partition(" - at ")[0]}],
        ) from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}") from None


def encode_cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(values)).decode().rstrip("=")


Item = TypeVar("Item")


def page_of(found: list[Item], page_size: int, sort_key: Callable[[Item], tuple[Any, ...]]) -> tuple[list[Item], str | None]:
    """A page from `page_size + 1` rows fetched: the rows, and the cursor after the last
    one (None when that was the last page)."""
    items = found[:page_size]
    return items, (encode_cursor(*sort_key(items[-1])) if len(found) > page_size else None)


def decode_cursor(cursor: str, types: Any) -> Any:
    """Decode a cursor into `types` (a tuple type); a 400 for anything we did not issue."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return msgspec.json.decode(raw, type=types)
    except (binascii.Error, ValueError, msgspec.ValidationError, msgspec.DecodeError):
        raise BadRequest(
            "cursor is not valid",
            errors=[{"field": "cursor", "message": "use next_cursor as given"}],
        ) from None


_MONEY = re.compile(r"\d{1,10}(\.\d{1,2})?")


class Rules:
    """Collects rule violations stated as validation; raises one 422 listing them all."""

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def check(self, ok: bool, field_name: str, message: str) -> None:
        if not ok:
            self.errors.append({"field": field_name, "message": message})

    def length(self, value: str | None, field_name: str, low: int, high: int) -> None:
        if value is not None:
            self.check(low <= len(value) <= high, field_name, f"length must be {low}-{high}")

    def money(self, value: str, field_name: str) -> Decimal:
        """A decimal string with at most two places, e.g. "12.50"; returns it quantized."""
        if not _MONEY.fullmatch(value):
            self.errors.append({"field": field_name, "message": 'money as a string like "12.50"'})
            return Decimal(0)
        return Decimal(value).quantize(CENT)

    def raise_if_any(self) -> None:
        if self.errors:
            raise Unprocessable("; ".join(f"{e['field']}: {e['message']}" for e in self.errors), errors=self.errors)


def aware(value: datetime, field_name: str) -> datetime:
    """Query parameters are not covered by AwareDatetime: check the offset here."""
    if value.tzinfo is None:
        raise BadRequest(
            f"{field_name} must be an RFC 3339 timestamp with an offset",
            errors=[{"field": field_name, "message": "timestamp needs an offset, e.g. Z"}],
        )
    return value
