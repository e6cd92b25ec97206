"""Listener rules, without a database."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from app.commands.listeners import domain
from app.errors import Invalid

NOBODY = domain.Allowed.of([])
T0 = datetime(2027, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "url",
    [
        *("ftp://a.example/x", "http://u:p@a.example/x", "http:///x", "http://a.example:port/x"),
        "http://" + "\u00e9" * 64 + ".example/x",  # a non-ASCII label past 63 characters once encoded
        "http://" + "a" * 64 + ".example/x",
    ],
)
def test_a_webhook_url_is_http_or_https_with_a_host_and_no_user_info(url: str) -> None:
    with pytest.raises(Invalid):
        domain.webhook_host(url)


@pytest.mark.parametrize(
    "address",
    [
        *("127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.169.254", "224.0.0.1", "::1", "fe80::1", "::ffff:10.0.0.1", "0.0.0.0"),
        *("100.100.100.200", "100.64.0.1", "198.18.0.1", "192.0.2.1", "240.0.0.1", "255.255.255.255"),  # shared, test, reserved
        "2002:7f00:1::1",  # 6to4 around 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 around 169.254.169.254
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
        "64:ff9b::7f00:1",  # NAT64 around 127.0.0.1
        "64:ff9b::6464:64c8",  # NAT64 around 100.100.100.200
        "64:ff9b:1::a00:1",  # local-use NAT64
        "::127.0.0.1",  # IPv4-compatible
        "fc00::1",  # unique local
        "ff0e::1",  # global-scope multicast
    ],
)
def test_addresses_not_public_are_refused_unless_allowed(address: str) -> None:
    with pytest.raises(Invalid):
        domain.check_addresses("h.example", [address], NOBODY)
    domain.check_addresses("h.example", [address], domain.Allowed.of([address]))


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "2002:808:808::1", "64:ff9b::808:808"])
def test_globally_routable_addresses_pass_wrapped_or_not(address: str) -> None:
    domain.check_addresses("h.example", [address], NOBODY)


def test_an_allowed_network_covers_its_addresses_wrapped_in_ipv6() -> None:
    domain.check_addresses("h.example", ["::ffff:10.0.0.1", "2002:a00:1::1"], domain.Allowed.of(["10.0.0.0/8"]))


def test_one_refused_address_among_several_refuses_the_host_and_a_name_can_be_allowed() -> None:
    with pytest.raises(Invalid):
        domain.check_addresses("h.example", ["93.184.216.34", "10.0.0.1"], NOBODY)
    domain.check_addresses("h.example", ["93.184.216.34"], NOBODY)
    domain.check_addresses("intranet", ["10.0.0.1"], domain.Allowed.of(["intranet", "192.168.0.0/16"]))
    with pytest.raises(Invalid):
        domain.check_addresses("nowhere.example", [], NOBODY)


def test_state() -> None:
    def state(**kw: object) -> str:
        args = {"starts_at": T0, "ends_at": None, "paused": False, "disabled": False, "pending": 0, "head_failed": False}
        return domain.state(T0 + timedelta(hours=1), **{**args, **kw})  # type: ignore[arg-type]

    assert state() == "active"
    assert state(starts_at=T0 + timedelta(days=1)) == "scheduled"
    assert state(ends_at=T0) == "ended"
    assert state(ends_at=T0, pending=2) == "active"  # still delivering what it matched
    assert state(head_failed=True, pending=1) == "retrying"
    assert state(paused=True) == "paused"
    assert state(disabled=True, paused=True) == "disabled"


def test_retries_follow_the_schedule_with_jitter_then_stop() -> None:
    rng = random.Random(1)
    schedule = (1.0, 5.0, 30.0)
    delays = [domain.retry_delay(schedule, n, rng) for n in (1, 2, 3)]
    for delay, step in zip(delays, schedule, strict=True):
        assert delay is not None and step * 0.9 <= delay.total_seconds() <= step * 1.1
    assert domain.retry_delay(schedule, 4, rng) is None  # a dead letter


def test_an_end_before_the_start_is_refused() -> None:
    with pytest.raises(Invalid):
        domain.check_window(T0, T0)
    domain.check_window(T0, T0 + timedelta(seconds=1))
