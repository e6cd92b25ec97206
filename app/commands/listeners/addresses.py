"""Where a webhook may be sent: its URL's host resolved now and held to the rules
(domain.check_addresses). At registration, and again before each attempt."""

from __future__ import annotations

import socket

import anyio

from app.commands.listeners import domain


async def checked_address(url: str, allowed: domain.Allowed) -> str | None:
    """The URL's rules, its host resolved now (a 422 on `target.url`): the address to
    connect to, or None for a host the operator allows by name. At registration, and again
    before each delivery (a host that resolved to a public address may not any more)."""
    host = domain.webhook_host(url)
    if host in allowed.hosts:
        return None
    try:
        infos = await anyio.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        infos = []
    addresses = sorted({str(info[4][0]) for info in infos})
    domain.check_addresses(host, addresses, allowed)
    return addresses[0]
