"""The credit decision, without a database."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

from app.commands.accounting.domain import decide
from tests.food import order_placed


def test_each_order_is_judged_against_the_credit_the_ones_before_it_left() -> None:
    ada = uuid4()
    run = [order_placed(ada, "12.50"), order_placed(ada, "12.50"), order_placed(ada, "12.50")]
    decisions = decide(run, {ada: Decimal("30.00")}, set())
    assert [d.authorized for d in decisions] == [True, True, False]
    assert decisions[2].reason == "exceeds available credit 5.00"


def test_an_order_exactly_at_the_limit_is_authorized() -> None:
    ada = uuid4()
    assert decide([order_placed(ada, "30.00")], {ada: Decimal("30.00")}, set())[0].authorized


def test_a_consumer_without_an_account_is_declined() -> None:
    (decision,) = decide([order_placed(uuid4(), "1.00")], {}, set())
    assert (decision.authorized, decision.reason) == (False, "no account")


def test_an_order_decided_before_or_twice_in_the_run_gets_no_second_decision() -> None:
    ada = uuid4()
    first, second = order_placed(ada, "1.00"), order_placed(ada, "1.00")
    decisions = decide([first, second, second], {ada: Decimal("10.00")}, {first.order_id})
    assert [d.order.order_id for d in decisions] == [second.order_id]


def test_the_callers_standing_is_left_as_it_was() -> None:
    ada = uuid4()
    available = {ada: Decimal("30.00")}
    decide([order_placed(ada, "12.50")], available, set())
    assert available == {ada: Decimal("30.00")}
