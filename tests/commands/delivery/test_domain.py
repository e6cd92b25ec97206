"""Delivery transitions, without a database."""

from __future__ import annotations

from uuid import uuid4

import pytest

from app.commands.delivery import domain
from app.errors import Conflict, NotFound


def test_pickup_needs_a_courier_and_the_food_ready() -> None:
    domain.check_pick_up("ASSIGNED", ready=True)
    with pytest.raises(Conflict, match="not ready"):
        domain.check_pick_up("ASSIGNED", ready=False)
    with pytest.raises(Conflict, match="WAITING"):
        domain.check_pick_up("WAITING", ready=True)


def test_only_a_picked_up_delivery_can_be_delivered() -> None:
    domain.check_deliver("PICKED_UP")
    for status in ("WAITING", "ASSIGNED", "DELIVERED", "CANCELLED"):
        with pytest.raises(Conflict):
            domain.check_deliver(status)


def test_no_delivery_is_not_found() -> None:
    with pytest.raises(NotFound):
        domain.check_exists(uuid4(), None)
    assert domain.check_exists(uuid4(), "ASSIGNED") == "ASSIGNED"
