"""Rules of event listeners. Plain Python: no I/O (addresses are resolved by the caller).

Webhook URLs: http or https, no user info, and a host that is (and resolves to) only
globally routable addresses, the IPv4 address inside an IPv6 form (mapped, 6to4, Teredo,
NAT64) included, unless the operator allows it (`LISTENER_ALLOWED_HOSTS`: host names and
CIDRs)."""

from __future__ import annotations

import ipaddress
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from app.errors import invalid

SECRET_PREFIX = "whsec_"

# A NATS subject a listener may publish to: plain tokens. Not the broker's own API (`$JS.`,
# `$SYS.`, `$KV.`: every `$` subject), not a wildcard (`*`, `>`), not a client's reply inbox.
NATS_SUBJECT = re.compile(r"^(?!_INBOX\.)[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")

# Headers a listener may not set: they frame the request (a Host sent as-is to a host
# allowed by name, a length or encoding that contradicts the body) or are the signature's.
RESERVED_HEADERS = frozenset(
    {
        *("host", "content-length", "transfer-encoding", "connection", "expect", "keep-alive", "upgrade", "te"),
        *("trailer", "proxy-authorization", "proxy-connection", "content-type", "content-encoding"),
        *("webhook-id", "webhook-timestamp", "webhook-signature"),
    }
)


@dataclass(frozen=True)
class Allowed:
    """The operator's exceptions to the address rules."""

    hosts: frozenset[str]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def of(cls, entries: Iterable[str]) -> Allowed:
        hosts, networks = set(), []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def address(self, address: str) -> bool:
        ip = ipaddress.ip_address(address)
        inner = _embedded_ipv4(ip)
        return any(ip in network or (inner is not None and inner in network) for network in self.networks) or _public(ip)


IP = ipaddress.IPv4Address | ipaddress.IPv6Address
# IPv6 forms that carry an IPv4 address in their last 32 bits: NAT64's well-known prefix
# (RFC 6052) and the deprecated IPv4-compatible addresses.
_LAST_32_BITS_IPV4 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("::/96"))
# Local-use NAT64 (RFC 8215): translates to whatever the operator's network chose.
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")


def _embedded_ipv4(ip: IP) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address reaches: IPv4-mapped, 6to4, Teredo (its client),
    NAT64 or IPv4-compatible; None for an IPv4 address or a plain IPv6 one."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in prefix for prefix in _LAST_32_BITS_IPV4):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _public(ip: IP) -> bool:
    """Globally routable (Python's is_global: not private, shared (100.64/10), reserved,
    loopback, link-local...), not multicast, and so is any IPv4 address it wraps."""
    inner = _embedded_ipv4(ip)
    if inner is not None and not _public(inner):
        return False
    if isinstance(ip, ipaddress.IPv6Address) and (ip.ipv4_mapped is not None or ip in _LOCAL_NAT64):
        return ip.ipv4_mapped is not None
    return ip.is_global and not ip.is_multicast


def webhook_host(url: str) -> str:
    """The host of a webhook URL that follows the rules of its form; else a 422 on `target.url`."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        raise invalid("target.url", "not a URL") from None
    if parts.scheme not in ("http", "https"):
        raise invalid("target.url", "http or https only")
    if parts.username is not None or parts.password is not None:
        raise invalid("target.url", "no user info in the URL")
    if not host:
        raise invalid("target.url", "a host is required")
    try:
        host.encode("idna")  # as the resolver will: labels of 1-63 characters
    except UnicodeError:
        raise invalid("target.url", "the host is not a valid domain name") from None
    return host.lower().rstrip(".")


def check_addresses(host: str, addresses: Sequence[str], allowed: Allowed) -> None:
    """A 422 on `target.url` unless the host is allowed by name, or every address it
    resolves to is allowed (public, or inside an allowed CIDR)."""
    if host in allowed.hosts:
        return
    if not addresses:
        raise invalid("target.url", f"{host} does not resolve")
    refused = [a for a in addresses if not allowed.address(a)]
    if refused:
        raise invalid("target.url", f"{host} is or resolves to an address not allowed ({refused[0]})")


def check_headers(headers: Mapping[str, str]) -> None:
    reserved = sorted(name for name in headers if name.lower() in RESERVED_HEADERS)
    if reserved:
        raise invalid("target.headers", f"{', '.join(reserved)} may not be set: the delivery sets it")
    if len({name.lower() for name in headers}) < len(headers):
        raise invalid("target.headers", "a header is named twice")


def own_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A stored listener's headers without the reserved ones (a listener registered before
    they were refused keeps working, without them)."""
    return {name: value for name, value in headers.items() if name.lower() not in RESERVED_HEADERS}


def check_window(starts_at: datetime, ends_at: datetime | None) -> None:
    if ends_at is not None and ends_at <= starts_at:
        raise invalid("ends_at", "must be after starts_at")


def state(
    now: datetime,
    *,
    starts_at: datetime,
    ends_at: datetime | None,
    paused: bool,
    disabled: bool,
    pending: int,
    head_failed: bool,
) -> str:
    """What the API shows: scheduled | active | retrying | paused | ended | disabled."""
    if disabled:
        return "disabled"
    if paused:
        return "paused"
    if now < starts_at:
        return "scheduled"
    if ends_at is not None and now >= ends_at and pending == 0:
        return "ended"
    return "retrying" if head_failed else "active"


def retry_delay(schedule: Sequence[float], attempts: int, rng: random.Random | None = None) -> timedelta | None:
    """After `attempts` failed attempts: how long until the next one (the schedule's step,
    with up to 10% jitter either way), or None when the schedule is spent (a dead letter)."""
    if attempts > len(schedule):
        return None
    jitter = 1 + ((rng or random).random() - 0.5) / 5
    return timedelta(seconds=schedule[attempts - 1] * jitter)
