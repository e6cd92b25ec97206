"""The parts of an order document that the order views share: a named reference (a
restaurant, a courier) and the order's lines as the projectors stored them."""

from __future__ import annotations

from uuid import UUID

import msgspec


class Named(msgspec.Struct, frozen=True):
    id: UUID
    name: str


class Line(msgspec.Struct, frozen=True):
    menu_item_id: str
    name: str
    price: str
    quantity: int


_lines = msgspec.json.Decoder(list[Line])


def lines(raw: str) -> list[Line]:
    """The jsonb a projector stored from the event's lines (prices already strings)."""
    return _lines.decode(raw)
