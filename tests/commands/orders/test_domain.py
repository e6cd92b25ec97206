"""Order rules, without a database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.commands.orders import domain
from app.errors import Conflict, Invalid

MENU = {"marg": ("Margherita", Decimal("9.50")), "cola": ("Cola", Decimal("2.00"))}


def test_lines_take_the_menus_names_and_prices_and_sum_to_the_total() -> None:
    lines, total = domain.price_lines(MENU, [("marg", 2), ("cola", 1)])
    assert [(line.name, line.price, line.quantity) for line in lines] == [
        ("Margherita", Decimal("9.50"), 2),
        ("Cola", Decimal("2.00"), 1),
    ]
    assert total == Decimal("21.00")


def test_a_total_past_what_is_stored_is_refused() -> None:
    pricey = {"gold": ("Gold Leaf", Decimal("9999999999.00"))}
    domain.price_lines(pricey, [("gold", 1)])
    with pytest.raises(Invalid, match="total"):
        domain.price_lines(pricey, [("gold", 2)])


def test_an_item_not_on_the_menu_is_named() -> None:
    with pytest.raises(Invalid, match="sushi"):
        domain.price_lines(MENU, [("marg", 1), ("sushi", 1)])


@pytest.mark.parametrize("state", ["APPROVAL_PENDING", "APPROVED", "ACCEPTED", "PREPARING", "READY_FOR_PICKUP"])
def test_an_order_can_be_cancelled_before_pickup(state: str) -> None:
    domain.check_cancel(state)


@pytest.mark.parametrize("state", ["PICKED_UP", "DELIVERED", "CANCELLED", "REJECTED"])
def test_not_after(state: str) -> None:
    with pytest.raises(Conflict):
        domain.check_cancel(state)
