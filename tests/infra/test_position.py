"""Position tokens: what X-Position and X-Min-Position carry."""

from __future__ import annotations

import pytest

from app.infra.outbox import Position


def test_position_tokens_round_trip_and_order() -> None:
    assert Position.parse(Position(12, 7).token()) == Position(12, 7)
    assert Position(2, 1) > Position(1, 99)
    for bad in ("", "1", "a.b", "1.-2", "1.2.3"):
        with pytest.raises(ValueError):
            Position.parse(bad)
