"""Bearer tokens against a JWKS document served by a key server in the test process:
RS256 and ES256, key rotation picked up without a restart, the keys fetched once and not
per request, and the classic attacks refused (alg none, algorithm confusion, a key of
the wrong type), `aud` and `iss` when configured."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from app.config import Settings
from app.http import create_app
from app.infra.auth import Tokens, Unauthenticated
from app.infra.auth import tokens as tokens_module
from app.modules import ROLES
from app.roles import Role
from harness.processes import free_port
from tests.asgi import running_app
from tests.conftest import settings_for


@dataclass
class KeyServer:
    url: str
    published: list[dict[str, Any]] = field(default_factory=list)
    fetches: int = 0


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(private: Any, kid: str, alg: str) -> dict[str, Any]:
    algorithm = jwt.algorithms.RSAAlgorithm if alg == "RS256" else jwt.algorithms.ECAlgorithm
    return {**algorithm.to_jwk(private.public_key(), as_dict=True), "kid": kid, "alg": alg, "use": "sig"}


def signed(private: Any, kid: str, alg: str = "RS256", **claims: Any) -> str:
    body = {"sub": "alice", "roles": ["user"], "exp": int(time.time()) + 600, **claims}
    return jwt.encode(body, private, algorithm=alg, headers={"kid": kid})


@pytest.fixture
async def key_server() -> AsyncIterator[KeyServer]:
    port = free_port()
    server = KeyServer(f"http://127.0.0.1:{port}/.well-known/jwks.json")

    async def jwks(_: web.Request) -> web.Response:
        server.fetches += 1
        return web.json_response({"keys": server.published})

    app = web.Application()
    app.router.add_get("/.well-known/jwks.json", jwks)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield server
    await runner.cleanup()


@pytest.fixture
def quick_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new `kid` may be looked up again at once (the service waits 10 s between two)."""
    monkeypatch.setattr(tokens_module, "KEYS_MIN_REFRESH_S", 0)


async def test_rs256_through_the_app_fetches_the_keys_once_and_picks_up_a_rotation(
    key_server: KeyServer, database_url: str, quick_refresh: None
) -> None:
    first, second = rsa_key(), rsa_key()
    key_server.published = [jwk(first, "k1", "RS256")]
    settings = settings_for(database_url, auth_disabled=False, auth_jwks_url=key_server.url, run_subscriptions=False)
    async with running_app(create_app(settings)) as client:
        assert key_server.fetches == 1  # at start
        for n in range(20):  # distinct tokens: none is answered from the checked tokens
            r = await client.get("/rooms", headers={"Authorization": f"Bearer {signed(first, 'k1', jti=str(n))}"})
            assert r.status_code == 200, r.text
        assert key_server.fetches == 1  # not per request

        key_server.published = [jwk(first, "k1", "RS256"), jwk(second, "k2", "RS256")]
        r = await client.get("/rooms", headers={"Authorization": f"Bearer {signed(second, 'k2')}"})
        assert r.status_code == 200, r.text
        assert key_server.fetches == 2  # the new kid, once, without a restart
        r = await client.get("/rooms", headers={"Authorization": f"Bearer {signed(second, 'k2')}"})
        assert r.status_code == 200 and key_server.fetches == 2


async def test_unknown_kids_do_not_fetch_per_request(key_server: KeyServer) -> None:
    key = rsa_key()
    key_server.published = [jwk(key, "k1", "RS256")]
    tokens = Tokens(Settings(auth_jwks_url=key_server.url), roles=ROLES)
    await tokens.start()
    for n in range(10):
        with pytest.raises(Unauthenticated, match="no key"):
            await tokens.principal(f"Bearer {signed(rsa_key(), f'forged-{n}')}")
    assert key_server.fetches == 1  # the start's fetch serves for KEYS_MIN_REFRESH_S


async def test_es256_keys_and_the_principal_they_give(key_server: KeyServer) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    key_server.published = [jwk(key, "e1", "ES256")]
    tokens = Tokens(Settings(auth_jwks_url=key_server.url), roles=ROLES)
    await tokens.start()
    principal = await tokens.principal(f"Bearer {signed(key, 'e1', 'ES256', roles=['courier', 'ruler'])}")
    assert principal.sub == "alice" and principal.roles == {Role.COURIER}  # a role it does not know grants nothing


def hs256_by_hand(claims: dict[str, Any], key: bytes, **header: str) -> str:
    """PyJWT will not sign HS256 with a PEM key (an attacker would): done by hand."""

    def part(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signing_input = part(json.dumps({"alg": "HS256", "typ": "JWT", **header}).encode()) + b"." + part(json.dumps(claims).encode())
    return (signing_input + b"." + part(hmac.new(key, signing_input, hashlib.sha256).digest())).decode()


async def test_the_classic_attacks_are_refused(key_server: KeyServer) -> None:
    key = rsa_key()
    key_server.published = [jwk(key, "k1", "RS256")]
    tokens = Tokens(Settings(auth_jwks_url=key_server.url), roles=ROLES)
    await tokens.start()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    now = int(time.time())
    attacks = {
        # HS256 keyed with the published public key: only AUTH_JWT_SECRET signs HS256
        "confusion": hs256_by_hand({"sub": "x", "roles": ["admin"], "exp": now + 60}, public_pem, kid="k1"),
        "wrong key type": signed(key, "k1", "PS256"),
        "no exp": jwt.encode({"sub": "x", "roles": ["admin"]}, key, algorithm="RS256", headers={"kid": "k1"}),
        "expired": signed(key, "k1", exp=now - 3600),
        "not yet valid": signed(key, "k1", nbf=now + 3600),
        "tampered": signed(key, "k1")[:-4] + "AAAA",
        "not a token": "a.b.c",
    }
    for name, token in attacks.items():
        with pytest.raises(Unauthenticated):
            await tokens.principal(f"Bearer {token}")
            pytest.fail(name)


async def test_audience_and_issuer_when_configured() -> None:
    secret = "s" * 32
    tokens = Tokens(
        Settings(auth_jwt_secret=secret, auth_jwt_audience="rooms-api", auth_jwt_issuer="https://id.example"), roles=ROLES
    )
    now = int(time.time())

    def hs(**claims: Any) -> str:
        return "Bearer " + jwt.encode({"sub": "a", "roles": ["user"], "exp": now + 60, **claims}, secret, algorithm="HS256")

    assert (await tokens.principal(hs(aud="rooms-api", iss="https://id.example"))).sub == "a"
    for claims in ({"aud": "other", "iss": "https://id.example"}, {"aud": "rooms-api", "iss": "https://evil"}, {}):
        with pytest.raises(Unauthenticated):
            await tokens.principal(hs(**claims))
    # a small clock skew is allowed, a large one is not
    assert (await tokens.principal(hs(aud="rooms-api", iss="https://id.example", exp=now - 5))).sub == "a"


async def test_a_checked_token_is_not_admitted_past_its_exp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens_module, "LEEWAY_S", 0)
    secret = "s" * 32
    tokens = Tokens(Settings(auth_jwt_secret=secret), roles=ROLES)
    exp = int(time.time()) + 3  # seconds enough for the two calls below on a slow machine
    short = "Bearer " + jwt.encode({"sub": "a", "roles": ["user"], "exp": exp}, secret, algorithm="HS256")
    assert (await tokens.principal(short)).sub == "a"
    assert (await tokens.principal(short)).sub == "a"  # remembered
    await anyio.sleep(exp - time.time() + 1.1)  # past exp, however long the calls took
    with pytest.raises(Unauthenticated, match="expired"):
        await tokens.principal(short)


async def test_a_sub_that_no_row_can_hold_is_refused() -> None:
    secret = "s" * 32
    tokens = Tokens(Settings(auth_jwt_secret=secret), roles=ROLES)
    for sub in ("al\x00ice", "a" * 201):
        token = jwt.encode({"sub": sub, "roles": ["user"], "exp": int(time.time()) + 600}, secret, algorithm="HS256")
        with pytest.raises(Unauthenticated, match="sub must be"):
            await tokens.principal("Bearer " + token)


async def test_auth_off_is_said_at_every_start(database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    async with running_app(create_app(settings_for(database_url, run_subscriptions=False))) as client:
        assert (await client.get("/listeners")).status_code == 200  # every caller an admin
    assert any("auth is OFF" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)


async def test_an_unreachable_key_server_refuses_tokens_without_failing_the_start(database_url: str) -> None:
    url = f"http://127.0.0.1:{free_port()}/jwks.json"
    settings = settings_for(database_url, auth_disabled=False, auth_jwks_url=url, run_subscriptions=False)
    async with running_app(create_app(settings)) as client:
        r = await client.get("/rooms", headers={"Authorization": f"Bearer {signed(rsa_key(), 'k1')}"})
        assert r.status_code == 401 and r.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        assert (await client.get("/health/live")).status_code == 200
