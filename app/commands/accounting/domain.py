"""The credit decision. Plain Python: no I/O.

A payment is authorized when the order total is at most the consumer's credit limit minus
what is already authorized and not yet settled (nor reversed); else it is declined."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from app.events.orders import OrderPlaced


@dataclass(frozen=True)
class Decision:
    order: OrderPlaced
    authorized: bool
    reason: str | None = None  # why it was declined


def decide(orders: Sequence[OrderPlaced], available: Mapping[UUID, Decimal], decided: Set[UUID]) -> list[Decision]:
    """Decisions for a run of orders, in their order, each against what its consumer has
    left after the ones before (`available`: per consumer with an account). An order in
    `decided` already has one (a redelivered event) and gets none."""
    left = dict(available)
    seen = set(decided)
    decisions = []
    for order in orders:
        if order.order_id in seen:
            continue
        seen.add(order.order_id)
        credit = left.get(order.consumer_id)
        if credit is not None and order.total <= credit:
            left[order.consumer_id] = credit - order.total
            decisions.append(Decision(order, authorized=True))
        else:
            reason = "no account" if credit is None else f"exceeds available credit {credit}"
            decisions.append(Decision(order, authorized=False, reason=reason))
    return decisions
