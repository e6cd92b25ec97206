"""The operations endpoints are public, so they show nothing an anonymous caller should not
see: no credential of a standby's URL, no listener's name (its registrant's text), no error
text (an admin sees those); and the service's own safety settings hold: JWKS only over https
(or to this machine), and no request statement runs past STATEMENT_TIMEOUT_MS."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import jwt
import pytest

from app.config import SettingsError, load_settings
from app.http import create_app
from tests.asgi import running_app
from tests.conftest import settings_for
from tests.helpers import slot

SECRET = "an-operations-secret-of-32-bytes!!"
STANDBY = "postgresql://reader@127.0.0.1:1/app?password=standby-sekret&sslmode=disable"


def admin() -> dict[str, str]:
    claims = {"sub": "ops", "roles": ["admin"], "exp": int(time.time()) + 600}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


@pytest.fixture(scope="module")
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = settings_for(
        database_url, auth_disabled=False, auth_jwt_secret=SECRET, query_database_urls=(STANDBY,), statement_timeout_ms=300
    )
    async with running_app(create_app(settings)) as c:
        yield c


async def test_readiness_shows_no_credential_to_anyone_and_error_texts_to_admins_only(client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/health/ready")
    assert anonymous.status_code == 200
    assert "sekret" not in anonymous.text and "reader" not in anonymous.text
    (standby,) = anonymous.json()["standbys"]
    assert standby == {"name": "127.0.0.1:1/app", "state": "down", "lag_ms": None}
    as_admin = (await client.get("/health/ready", headers=admin())).json()
    assert as_admin["standbys"][0]["error"] and "sekret" not in str(as_admin)
    bad_token = await client.get("/health/ready", headers={"Authorization": "Bearer nonsense"})
    assert bad_token.status_code == 200 and "error" not in bad_token.json()["standbys"][0]


async def test_metrics_name_listeners_by_id_and_standbys_without_credentials(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/listeners",
        headers=admin(),
        json={
            "name": "acme-private-hook",
            "event_types": ["orders.order_placed"],
            "target": {"kind": "nats", "subject": "acme.orders"},
        },
    )
    assert r.status_code == 201, r.text
    text = (await client.get("/metrics")).text
    assert f'listener_pending_events{{listener="{r.json()["id"]}"}} 0' in text
    assert "acme-private-hook" not in text and "sekret" not in text and "reader" not in text
    assert 'query_standby_up{standby="127.0.0.1:1/app"} 0' in text


@pytest.mark.parametrize("url", ["http://keys.example.com/jwks", "ftp://keys.example.com/jwks", "https:///jwks"])
def test_a_jwks_url_must_be_https(url: str) -> None:
    with pytest.raises(SettingsError, match="AUTH_JWKS_URL"):
        load_settings({"AUTH_JWKS_URL": url})


@pytest.mark.parametrize("url", ["https://keys.example.com/jwks", "http://127.0.0.1:8080/jwks", "http://localhost/jwks"])
def test_a_jwks_url_over_https_or_to_this_machine_is_taken(url: str) -> None:
    assert load_settings({"AUTH_JWKS_URL": url}).auth_jwks_url == url


async def test_a_statement_past_the_timeout_is_cancelled_and_changes_nothing(
    client: httpx.AsyncClient, database_url: str
) -> None:
    room = await client.post("/rooms", json={"name": "Slow room", "capacity": 2}, headers=admin())
    s, e = slot(1, 9, 10)
    booked = await client.post(
        "/reservations", json={"room_id": room.json()["id"], "user_id": "alice", "start": s, "end": e}, headers=admin()
    )
    assert booked.status_code == 201, booked.text
    holder = await asyncpg.connect(database_url)
    try:
        async with holder.transaction():
            await holder.execute("SELECT 1 FROM command.reservations WHERE id = $1 FOR UPDATE", booked.json()["id"])
            started = time.perf_counter()
            r = await client.post(f"/reservations/{booked.json()['id']}/cancel", headers=admin())
            waited = time.perf_counter() - started
        assert r.status_code == 503 and r.headers["retry-after"] == "1", r.text
        assert r.json()["type"] == "/problems/unavailable"
        assert waited < 10  # cut at the timeout (0.3 s), not at the lock's release
        status = await holder.fetchval("SELECT status FROM command.reservations WHERE id = $1", booked.json()["id"])
        assert status == "active"
    finally:
        await holder.close()


async def test_operations_endpoints(client: Any) -> None:
    assert (await client.get("/health/live")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    metrics = (await client.get("/metrics")).text
    assert 'subscription_lag_events{subscription="rooms"}' in metrics
    assert "http_request_duration_seconds_bucket" in metrics
    schema = await client.get("/schema/openapi.json")
    assert schema.status_code == 200
    assert "/reservations/{reservation_id}" in schema.json()["paths"]
