"""Input decoded strictly, once: a wrong shape or type is a 400, a value outside a limit
declared on its field (length, range, pattern) is a 422, each naming the field."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, TypeVar

import msgspec

from app.errors import Invalid
from app.infra.web.problems import BadRequest

# Timestamps must carry an offset; a naive one is a 400 like any wrong type.
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]

# Text PostgreSQL can store: anything but the NUL character (a 422 naming the field).
NO_NUL = r"^[^\x00]*$"

# What a timestamp's UTC value may be: a day inside what Python's datetime holds, so that
# shifting it to any time zone (the restaurants' opening hours) or to UTC (PostgreSQL)
# cannot overflow.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)

T = TypeVar("T")

# msgspec's words for a value of the right type that breaks a declared limit.
_LIMIT = re.compile(r"Expected `\w+` (of length|matching regex|[<>]=?|that is a multiple of)")
_NAMED = re.compile(r"Object (missing required|contains unknown) field `([^`]+)`")


def _field(message: str) -> tuple[str, str]:
    """(the field the message is about, as a path like `line_items[0].quantity`, the message
    without its location)."""
    text, _, where = message.partition(" - at `$")
    where = where.rstrip("`").lstrip(".")
    named = _NAMED.fullmatch(text)
    if named:
        where = f"{where}.{named[2]}" if where else named[2]
    return where or "body", text


def text(max_length: int, min_length: int = 1, description: str | None = None, examples: list[str] | None = None) -> msgspec.Meta:
    """The limits of a text field: its length, and no NUL character."""
    return msgspec.Meta(min_length=min_length, max_length=max_length, pattern=NO_NUL, description=description, examples=examples)


def decode(decoder: msgspec.json.Decoder[T], raw: bytes) -> T:
    try:
        return decoder.decode(raw)
    except msgspec.ValidationError as exc:
        where, text = _field(str(exc))
        if _LIMIT.match(text):
            raise Invalid(f"{where}: {text}", errors=[{"field": where, "message": text}]) from None
        raise BadRequest(
            f"the request body does not match the schema: {exc}",
            errors=[{"field": where, "message": text}],
        ) from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}") from None
    except UnicodeDecodeError:
        raise BadRequest("the request body is not valid UTF-8") from None
    except RecursionError:
        raise BadRequest("the request body is nested too deeply") from None


def check_time(value: datetime, field_name: str) -> datetime:
    """A 422 for a timestamp whose UTC value is outside EARLIEST..LATEST."""
    try:
        inside = EARLIEST <= value.astimezone(UTC) <= LATEST
    except OverflowError:
        inside = False
    if not inside:
        raise Invalid(
            f"{field_name}: outside the timestamps this service stores",
            errors=[{"field": field_name, "message": "UTC value must be within 0001-01-02 and 9999-12-30"}],
        )
    return value


def aware(value: datetime, field_name: str) -> datetime:
    """Query parameters are not covered by AwareDatetime: check the offset and the range here."""
    if value.tzinfo is None:
        raise BadRequest(
            f"{field_name} must be an RFC 3339 timestamp with an offset",
            errors=[{"field": field_name, "message": "timestamp needs an offset, e.g. Z"}],
        )
    return check_time(value, field_name)
