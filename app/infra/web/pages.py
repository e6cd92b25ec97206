"""Keyset pagination: `page_size` and an opaque `cursor` (the sort key after the last row)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import msgspec
from litestar.params import QueryParameter

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
    """Decode a cursor into `types` (a tuple type); a 400 for anything we did not issue."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return msgspec.json.decode(raw, type=types)
    except (binascii.Error, ValueError, msgspec.ValidationError, msgspec.DecodeError):
        raise BadRequest(
            "cursor is not valid",
            errors=[{"field": "cursor", "message": "use next_cursor as given"}],
        ) from None
