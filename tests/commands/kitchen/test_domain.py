"""Kitchen ticket transitions, without a database."""

from __future__ import annotations

from uuid import uuid4

import pytest

from app.commands.kitchen.domain import advance
from app.errors import Conflict, NotFound


def test_a_ticket_goes_accepted_preparing_ready_in_that_order() -> None:
    order = uuid4()
    assert advance(order, "CREATED", "accept") == "ACCEPTED"
    assert advance(order, "ACCEPTED", "preparing") == "PREPARING"
    assert advance(order, "PREPARING", "ready") == "READY_FOR_PICKUP"


@pytest.mark.parametrize(
    ("status", "step"), [("CREATED", "preparing"), ("ACCEPTED", "ready"), ("CANCELLED", "accept"), ("REJECTED", "accept")]
)
def test_a_step_out_of_order_is_a_conflict(status: str, step: str) -> None:
    with pytest.raises(Conflict):
        advance(uuid4(), status, step)


@pytest.mark.parametrize("status", [None, "AWAITING_PAYMENT"])
def test_no_ticket_until_the_payment_is_authorized(status: str | None) -> None:
    with pytest.raises(NotFound):
        advance(uuid4(), status, "accept")
