"""Reservation rules, without a database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.commands.reservations import domain
from app.errors import Conflict, Invalid

T0 = datetime(2027, 1, 1, 9, tzinfo=UTC)
H = timedelta(hours=1)


def registered() -> domain.Reservation:
    reservation, _ = domain.register(uuid.uuid4(), uuid.uuid4(), "u", T0, T0 + H, T0)
    return reservation


def test_end_must_be_after_start() -> None:
    with pytest.raises(Invalid):
        domain.register(uuid.uuid4(), uuid.uuid4(), "u", T0, T0, T0)


def test_change_bumps_version_and_remembers_the_previous_period() -> None:
    changed, event = domain.change(registered(), room_id=None, start=T0 + H, end=T0 + 2 * H, expected_version=1, at=T0)
    assert changed.version == 2 and event.previous_start == T0 and event.start == T0 + H


def test_change_that_inverts_the_period_is_rejected() -> None:
    with pytest.raises(Invalid):
        domain.change(registered(), room_id=None, start=T0 + 2 * H, end=None, expected_version=None, at=T0)


def test_stale_version_and_cancelled_reservations_conflict() -> None:
    with pytest.raises(Conflict):
        domain.change(registered(), room_id=None, start=T0, end=None, expected_version=5, at=T0)
    cancelled, _ = domain.cancel(registered(), T0)
    with pytest.raises(Conflict):
        domain.cancel(cancelled, T0)
    with pytest.raises(Conflict):
        domain.change(cancelled, room_id=None, start=T0, end=None, expected_version=None, at=T0)
