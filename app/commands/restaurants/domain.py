"""Rules of restaurants and menus. Plain Python: no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from app.errors import Invalid

_ZONES = available_timezones()


def known_zone(name: str) -> bool:
    try:
        return name in _ZONES and ZoneInfo(name) is not None
    except (ZoneInfoNotFoundError, ValueError):
        return False


def _zone_errors(timezone: str) -> list[dict[str, str]]:
    return [] if known_zone(timezone) else [{"field": "timezone", "message": "must be an IANA time zone name"}]


def _menu_errors(menu_ids: Sequence[str]) -> list[dict[str, str]]:
    unique = len(set(menu_ids)) == len(menu_ids)
    return [] if unique else [{"field": "menu", "message": "menu item ids must be unique"}]


def _refuse_if(errors: list[dict[str, str]]) -> None:
    if errors:
        raise Invalid("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)


# Coordinates are kept to a billionth of a degree (0.1 mm): PostgreSQL's float8 arithmetic
# raises an underflow on the trigonometry of, say, a latitude of 1e-300.
COORDINATE_DIGITS = 9


def coordinate(degrees: float) -> float:
    return round(degrees, COORDINATE_DIGITS)


def check_restaurant(timezone: str, menu_ids: Sequence[str]) -> None:
    _refuse_if(_zone_errors(timezone) + _menu_errors(menu_ids))


def check_menu(menu_ids: Sequence[str]) -> None:
    _refuse_if(_menu_errors(menu_ids))
