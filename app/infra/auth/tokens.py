"""Bearer tokens: HS256 against AUTH_JWT_SECRET, RS256/ES256 against the keys of
AUTH_JWKS_URL.

The algorithm a token names picks the key source, and each source accepts only its own
algorithms, so `alg: none` and algorithm confusion (an RS256 public key used as an HS256
secret) are refused before any signature is checked. The key set is fetched at start and
again only when a token names a `kid` it does not hold (key rotation) or it is older
than KEYS_MAX_AGE_S, at most once per KEYS_MIN_REFRESH_S whatever tokens arrive: never
once per request."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

import aiohttp
import anyio
import jwt

from app.config import Settings
from app.infra.auth.principal import ADMIN, Principal

log = logging.getLogger(__name__)

LEEWAY_S = 30  # clocks of issuers and replicas disagree a little
KEYS_MAX_AGE_S = 600
KEYS_MIN_REFRESH_S = 10
FETCH_TIMEOUT_S = 5
CHECKED_FOR_S = 60
CHECKED_TOKENS = 10_000
SECRET_ALGORITHMS = ("HS256",)
KEY_SET_ALGORITHMS = ("RS256", "ES256")


class Unauthenticated(Exception):
    """No token, or one that does not verify: `detail` says which, for the caller."""

    def __init__(self, detail: str, *, presented: bool = True) -> None:
        super().__init__(detail)
        self.detail = detail
        self.presented = presented


class KeySet:
    """The signing keys published at a JWKS URL, by `kid`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._attempted_at = float("-inf")
        self._lock = anyio.Lock()

    async def key(self, kid: str | None) -> jwt.PyJWK | None:
        stale = time.monotonic() - self._fetched_at > KEYS_MAX_AGE_S
        if kid not in self._keys or stale:
            await self.refresh()
        return self._keys.get(kid)

    async def refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._attempted_at < KEYS_MIN_REFRESH_S:
                return  # another request just fetched (or failed to): use what we hold
            self._attempted_at = time.monotonic()
            try:
                document = await self._fetch()
                keys = jwt.PyJWKSet.from_dict(document).keys
            except (aiohttp.ClientError, TimeoutError, ValueError, jwt.PyJWKSetError) as exc:
                log.error("could not fetch the token keys from %s: %s", self.url, exc)
                return
            self._keys = {k.key_id: k for k in keys}
            if len(keys) == 1:
                self._keys.setdefault(None, keys[0])  # a token without `kid` against a one-key set
            self._fetched_at = time.monotonic()
            log.info("token keys fetched from %s: %s", self.url, sorted(str(k) for k in self._keys if k))

    async def _fetch(self) -> dict[str, Any]:
        timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(self.url, allow_redirects=False) as answer:
            answer.raise_for_status()
            document = await answer.json(content_type=None)
        if not isinstance(document, dict):
            raise ValueError("the JWKS document is not an object")
        return document


# A token with a few claims and an RS256 signature is about 1 KiB; nothing is parsed past this.
MAX_TOKEN_CHARS = 8192
MAX_SUB_CHARS = 200


class Tokens:
    """Checks a bearer token and says who presented it.

    A token that verified is remembered (by its exact text) until its `exp` or for
    CHECKED_FOR_S, whichever comes first: a client sends the same token on every request,
    and checking it again costs a good part of a request's CPU each time (PyJWT; BENCHMARKS.md
    has the figure). A key withdrawn from the key set therefore
    stops admitting its tokens within CHECKED_FOR_S."""

    def __init__(self, settings: Settings, roles: Iterable[str] = ()) -> None:
        """`roles`: those a token's `roles` may grant besides admin (the modules' own)."""
        self._known_roles = frozenset({ADMIN, *roles})
        self._checked: dict[str, tuple[float, Principal]] = {}
        self._secret = settings.auth_jwt_secret
        self.keys = KeySet(settings.auth_jwks_url) if settings.auth_jwks_url else None
        self._audience = settings.auth_jwt_audience
        self._issuer = settings.auth_jwt_issuer

    async def start(self) -> None:
        if self.keys is not None:
            await self.keys.refresh()

    async def principal(self, authorization: str | None) -> Principal:
        if not authorization:
            raise Unauthenticated("this endpoint needs Authorization: Bearer <token>", presented=False)
        if len(authorization) > MAX_TOKEN_CHARS:
            raise Unauthenticated(f"the token was refused: longer than {MAX_TOKEN_CHARS} characters")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("the Authorization header must be: Bearer <token>", presented=False)
        token = token.strip()
        now = time.time()
        checked = self._checked.get(token)
        if checked is not None and now < checked[0]:
            return checked[1]
        try:
            claims = await self._verified(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"the token was refused: {exc}") from None
        principal = _principal(claims, self._known_roles)
        if len(self._checked) >= CHECKED_TOKENS:
            self._checked.clear()  # many callers at once: start over rather than track ages
        self._checked[token] = (min(float(claims["exp"]) + LEEWAY_S, now + CHECKED_FOR_S), principal)
        return principal

    async def _verified(self, token: str) -> dict[str, Any]:
        header = jwt.get_unverified_header(token)
        alg = header.get("alg")
        key: Any
        if alg in SECRET_ALGORITHMS and self._secret is not None:
            key = self._secret
        elif alg in KEY_SET_ALGORITHMS and self.keys is not None:
            kid = header.get("kid")
            key = await self.keys.key(kid if isinstance(kid, str) else None)
            if key is None:
                raise jwt.InvalidKeyError(f"no key {kid!r} in the key set")
            if key.algorithm_name != alg:
                raise jwt.InvalidAlgorithmError(f"key {kid!r} is for {key.algorithm_name}, not {alg}")
        else:
            raise jwt.InvalidAlgorithmError(f"algorithm {alg!r} is not accepted")
        return jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=self._audience,
            issuer=self._issuer,
            leeway=LEEWAY_S,
            options={"require": ["exp", "sub"], "verify_aud": self._audience is not None},
        )


def _principal(claims: dict[str, Any], known_roles: frozenset[str]) -> Principal:
    sub, roles = claims.get("sub"), claims.get("roles", [])
    if not isinstance(sub, str) or not sub:
        raise Unauthenticated("the token's sub must be a non-empty string")
    if len(sub) > MAX_SUB_CHARS or "\x00" in sub:
        # It is compared with, and stored in, text columns (user_id: 1-100, no NUL).
        raise Unauthenticated(f"the token's sub must be at most {MAX_SUB_CHARS} characters, without NUL")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise Unauthenticated("the token's roles must be a list of strings")
    # A role this release does not know grants nothing.
    return Principal(sub, frozenset(r for r in roles if r in known_roles))


def mint(secret: str, sub: str, roles: list[str], ttl_s: int, **claims: Any) -> str:
    """An HS256 token (`app token`, the tests and the benchmarks)."""
    now = int(time.time())
    return jwt.encode({"sub": sub, "roles": roles, "iat": now, "exp": now + ttl_s, **claims}, secret, algorithm="HS256")
