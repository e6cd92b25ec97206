"""Every log line written while a request is handled carries that request's id: the
access line, a handler's own warning and the 500's error line alike."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from litestar import get

from app.http import create_app
from tests.asgi import running_app
from tests.conftest import settings_for

log = logging.getLogger("app.test_request_logs")


@get("/fails", sync_to_thread=False)
def fails() -> None:
    log.warning("about to fail")
    raise RuntimeError("a bug")


async def test_a_handlers_warning_and_the_500_line_carry_the_request_id(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings_for(database_url, run_subscriptions=False))
    app.register(fails)
    caplog.set_level(logging.INFO)
    async with running_app(app) as client:
        r = await client.get("/fails", headers={"X-Request-Id": "req-500"})
        assert r.status_code == 500 and r.headers["X-Request-Id"] == "req-500"
        await client.get("/health/live", headers={"X-Request-Id": "req-live"})
    by_message = {r.getMessage(): r for r in caplog.records}
    assert by_message["about to fail"].request_id == "req-500"  # type: ignore[attr-defined]
    unhandled = next(r for r in caplog.records if r.getMessage().startswith("unhandled error on GET /fails"))
    assert unhandled.request_id == "req-500"  # type: ignore[attr-defined]
    access = next(r for r in caplog.records if r.getMessage().startswith("GET /health/live 200"))
    assert access.request_id == "req-live"  # type: ignore[attr-defined]
    outside = [r for r in caplog.records if r.name.startswith("app.infra.subscriptions") or r.name == "app.http"]
    assert all(getattr(r, "request_id", None) is None for r in outside)  # start-up lines belong to no request


async def test_every_response_carries_a_request_id(client: Any) -> None:
    mine = await client.get("/rooms", headers={"X-Request-Id": "trace-123"})
    assert mine.headers["X-Request-Id"] == "trace-123"
    generated = await client.post("/rooms", json={"name": "", "capacity": 1})
    assert len(generated.headers["X-Request-Id"]) == 32
    another = await client.get("/rooms")
    assert another.headers["X-Request-Id"] != generated.headers["X-Request-Id"]
