"""Keyset pagination: `page_size` and an opaque `cursor` (the sort key after the last row)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import msgspec
from litestar.params import QueryParameter

from app.infra.web.decoding import EARLIEST, LATEST
from app.infra.web.problems import BadRequest

PageSize = Annotated[int, QueryParameter(name="page_size", ge=1, le=100, description="1-100, default 20")]
Cursor = Annotated[str | None, QueryParameter(name="cursor", required=False, description="next_cursor of the previous page")]

Item = TypeVar("Item")


def encode_cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(values)).decode().rstrip("=")


def page_of(found: list[Item], page_size: int, sort_key: Callable[[Item], tuple[Any, ...]]) -> tuple[list[Item], str | None]:
    """A page from `page_size + 1` rows fetched: the rows, and the cursor after the last
    one (None when that was the last page)."""
    items = found[:page_size]
    return items, (encode_cursor(*sort_key(items[-1])) if len(found) > page_size else None)


def decode_cursor(cursor: str, types: Any) -> Any:
    """Decode a cursor into `types` (a tuple type); a 400 for anything we did not issue,
    including values of the right type that no row can have (a timestamp past what
    PostgreSQL stores, a NUL in a text)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = msgspec.json.decode(raw, type=types)
        if all(_storable(v) for v in values):
            return values
    except (binascii.Error, ValueError, msgspec.ValidationError, msgspec.DecodeError):
        pass
    raise BadRequest("cursor is not valid", errors=[{"field": "cursor", "message": "use next_cursor as given"}])


def _storable(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, datetime):
        try:
            return value.tzinfo is not None and EARLIEST <= value.astimezone(UTC) <= LATEST
        except OverflowError:
            return False
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return True
