"""A real HTTP receiver in the test process (uvicorn on a free port), for webhooks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn

from harness.processes import free_port


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Receiver:
    """Answers each POST with `answer(request number)` (200 unless told), and keeps them all."""

    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    answer: Callable[[int], int] = lambda _: 200
    delay: float = 0.0  # seconds before each answer (deliveries in flight)
    host: str = "127.0.0.1"
    location: str | None = None  # sent with every answer (a redirect, with a 3xx answer)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/hooks"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.received.append(Received({k.decode(): v.decode() for k, v in scope["headers"]}, body))
        status = self.answer(len(self.received))
        if self.delay:
            await asyncio.sleep(self.delay)
        headers = [(b"content-type", b"text/plain")]
        if self.location is not None:
            headers.append((b"location", self.location.encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok" if status < 300 else b"no thanks"})


@contextlib.asynccontextmanager
async def receiving(receiver: Receiver | None = None) -> AsyncIterator[Receiver]:
    receiver = receiver or Receiver()
    server = uvicorn.Server(uvicorn.Config(receiver, host=receiver.host, port=receiver.port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task
