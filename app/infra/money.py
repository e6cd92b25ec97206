"""Money: decimals with two places, written as strings ("12.50") on the wire."""

from __future__ import annotations

from decimal import Decimal

CENT = Decimal("0.01")


def money(value: Decimal) -> str:
    return str(value.quantize(CENT))
