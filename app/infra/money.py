"""Money: decimals with two places, written as strings ("12.50") on the wire."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from msgspec import Meta

CENT = Decimal("0.01")

# At most ten digits before the point: what a numeric(12, 2) column holds.
Money = Annotated[
    str,
    Meta(pattern=r"^\d{1,10}(\.\d{1,2})?$", description="a decimal string with at most two places", examples=["12.50"]),
]


def money(value: Decimal) -> str:
    return str(value.quantize(CENT))


def parse_money(value: str) -> Decimal:
    """A Money string (already matched by its pattern) as a Decimal with two places."""
    return Decimal(value).quantize(CENT)
