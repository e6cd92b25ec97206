"""Oversized headers are refused before anything parses them, and cost the other callers
nothing: a request head past 64 KiB is cut off by the server's protocol as it arrives (431,
connection closed), headers past 16 KiB together get a 431 problem, a bearer token past
8 KiB a 401 before any decoding. Against a real `app serve` (the protocol is uvicorn's)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.infra.auth.tokens import mint
from harness.processes import ServerProcess

SECRET = "a-header-limits-secret-of-32-bytes!!"


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    log = tmp_path_factory.mktemp("limits") / "server.log"
    process = ServerProcess(database_url, log, AUTH_DISABLED="false", AUTH_JWT_SECRET=SECRET, RUN_SUBSCRIPTIONS="false")
    process.wait_live()
    yield process
    process.stop()


def raw_request(port: int, header: bytes) -> bytes:
    """Sends a GET with `header`; what the server answered before closing (b"" if it reset
    the connection while the request was still being sent)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        try:
            s.sendall(b"GET /rooms HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n\r\n")
            return s.recv(4096)
        except (ConnectionResetError, BrokenPipeError):
            return b""


def test_a_22_mb_authorization_header_is_cut_off_and_others_are_served_meanwhile(server: ServerProcess) -> None:
    answered: list[bytes] = []
    sender = threading.Thread(
        target=lambda: answered.append(raw_request(server.port, b"Authorization: Bearer " + b"a" * 22_000_000))
    )
    sender.start()
    while sender.is_alive():
        assert httpx.get(f"{server.url}/health/live", timeout=10).status_code == 200
    sender.join()
    assert answered[0] == b"" or answered[0].startswith(b"HTTP/1.1 431 "), answered[0][:100]
    assert httpx.get(f"{server.url}/health/live").status_code == 200
    assert "Traceback" not in Path(server.log_path).read_text()


def test_headers_past_16_kib_get_a_431_problem(server: ServerProcess) -> None:
    r = httpx.get(f"{server.url}/rooms", headers={f"X-Filler-{i}": "x" * 1000 for i in range(20)})
    assert r.status_code == 431 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "/problems/headers-too-large"
    raw = raw_request(server.port, b"X-Filler: " + b"y" * 70_000)
    assert raw.startswith(b"HTTP/1.1 431 ") and b"/problems/headers-too-large" in raw


def test_a_token_past_8_kib_is_refused_unread(server: ServerProcess) -> None:
    r = httpx.get(f"{server.url}/rooms", headers={"Authorization": "Bearer " + "a" * 9000})
    assert r.status_code == 401 and "longer than 8192 characters" in r.json()["detail"]
    good = mint(SECRET, "alice", ["user"], 600)
    assert httpx.get(f"{server.url}/rooms", headers={"Authorization": f"Bearer {good}"}).status_code == 200


def test_a_large_body_sent_with_its_head_in_one_write_is_not_taken_for_a_large_head(server: ServerProcess) -> None:
    body = b'{"name": "' + b"x" * 300_000 + b'", "capacity": 1}'
    head = f"POST /rooms HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(head.encode() + body)
        answer = s.recv(4096)
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]  # past the head's limit: to the app, which wants a token
