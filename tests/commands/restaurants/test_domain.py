"""Restaurant and menu rules, without a database."""

from __future__ import annotations

import pytest

from app.commands.restaurants import domain
from app.errors import Invalid


def test_a_time_zone_must_be_an_iana_name() -> None:
    domain.check_restaurant("Europe/Paris", [])
    with pytest.raises(Invalid) as refused:
        domain.check_restaurant("Mars/Base", [])
    assert refused.value.extra["errors"] == [{"field": "timezone", "message": "must be an IANA time zone name"}]


def test_menu_item_ids_are_unique_and_every_broken_rule_is_listed() -> None:
    domain.check_menu(["a", "b"])
    with pytest.raises(Invalid) as refused:
        domain.check_restaurant("Nowhere", ["a", "a"])
    assert [e["field"] for e in refused.value.extra["errors"]] == ["timezone", "menu"]
