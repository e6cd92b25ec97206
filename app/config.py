"""One typed settings object, parsed from the environment once at start."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

MIN_SECRET_BYTES = 32  # HS256 keys shorter than the hash are guessable (RFC 7518 3.2)


class SettingsError(ValueError):
    """A bad environment value: start-up stops with this one-line reason."""


class Settings(msgspec.Struct, frozen=True):
    database_url: str | None = None
    data_dir: Path = Path(".data")
    host: str = "127.0.0.1"
    port: int = 8000
    pool_min_size: int = 2
    pool_max_size: int = 10
    log_level: str = "INFO"
    log_format: str = "auto"  # json | text | auto (text on a terminal)
    run_subscriptions: bool = True
    idle_in_transaction_timeout_ms: int = 10_000
    statement_timeout_ms: int = 30_000
    standby_retry_s: float = 1.0
    workers: int = 1
    # Event listeners: hosts and CIDRs webhooks may reach although they are (or resolve to)
    # loopback, private, link-local or multicast addresses; a delivery's timeout; the
    # seconds between retries of a failing event (then it is a dead letter).
    listener_allowed_hosts: tuple[str, ...] = ()
    listener_timeout_s: float = 10.0
    listener_retry_schedule: tuple[float, ...] = (1, 5, 30, 120, 600, 3600, 10800)
    nats_url: str = "nats://127.0.0.1:4222"
    # Who may do what (API.md): HS256 tokens signed with the secret and/or RS256/ES256
    # tokens signed by a key of the JWKS document; `aud` and `iss` checked when set.
    auth_jwt_secret: str | None = None
    auth_jwks_url: str | None = None
    auth_jwt_audience: str | None = None
    auth_jwt_issuer: str | None = None
    auth_disabled: bool = False
    # Hot standbys the views are read from (commands, subscriptions, listeners, idempotency
    # and the outbox stay on DATABASE_URL), and how far behind one may be and still be read.
    query_database_urls: tuple[str, ...] = ()
    query_max_lag_ms: int = 5000
    # Retention: an Idempotency-Key is free again this long after its first use; a
    # listener's delivery attempts are kept this long (a dead letter's until redelivered);
    # the purger (one process at a time) runs every purge_every_s.
    idempotency_key_ttl_s: float = 86_400
    listener_attempts_retention_s: float = 30 * 86_400
    purge_every_s: float = 300

    @property
    def auth_open(self) -> bool:
        """Every caller is an admin: auth turned off, or the embedded development database
        with no auth setting (see check_auth)."""
        return self.auth_disabled or (self.database_url is None and not self.auth_jwt_secret and not self.auth_jwks_url)

    def check_auth(self) -> None:
        """Serving a configured database needs a way to check tokens, or auth turned off on
        purpose: raises SettingsError otherwise."""
        if self.database_url is not None and not (self.auth_disabled or self.auth_jwt_secret or self.auth_jwks_url):
            raise SettingsError(
                "DATABASE_URL is set but no auth is configured: set AUTH_JWT_SECRET or AUTH_JWKS_URL "
                "(or AUTH_DISABLED=true to serve without auth)"
            )


class Seconds(tuple[float, ...]):
    """A comma-separated list of seconds, each > 0."""


_ENV: dict[str, tuple[str, type]] = {
    "DATABASE_URL": ("database_url", str),
    "DATA_DIR": ("data_dir", Path),
    "HOST": ("host", str),
    "PORT": ("port", int),
    "DB_POOL_MIN_SIZE": ("pool_min_size", int),
    "DB_POOL_MAX_SIZE": ("pool_max_size", int),
    "LOG_LEVEL": ("log_level", str),
    "LOG_FORMAT": ("log_format", str),
    "RUN_SUBSCRIPTIONS": ("run_subscriptions", bool),
    "IDLE_IN_TRANSACTION_TIMEOUT_MS": ("idle_in_transaction_timeout_ms", int),
    "STATEMENT_TIMEOUT_MS": ("statement_timeout_ms", int),
    "STANDBY_RETRY_S": ("standby_retry_s", float),
    "WORKERS": ("workers", int),
    "LISTENER_ALLOWED_HOSTS": ("listener_allowed_hosts", list),
    "LISTENER_TIMEOUT_S": ("listener_timeout_s", float),
    "LISTENER_RETRY_SCHEDULE": ("listener_retry_schedule", Seconds),
    "NATS_URL": ("nats_url", str),
    "AUTH_JWT_SECRET": ("auth_jwt_secret", str),
    "AUTH_JWKS_URL": ("auth_jwks_url", str),
    "AUTH_JWT_AUDIENCE": ("auth_jwt_audience", str),
    "AUTH_JWT_ISSUER": ("auth_jwt_issuer", str),
    "AUTH_DISABLED": ("auth_disabled", bool),
    "QUERY_DATABASE_URLS": ("query_database_urls", list),
    "QUERY_MAX_LAG_MS": ("query_max_lag_ms", int),
    "IDEMPOTENCY_KEY_TTL_S": ("idempotency_key_ttl_s", float),
    "LISTENER_ATTEMPTS_RETENTION_S": ("listener_attempts_retention_s", float),
    "PURGE_EVERY_S": ("purge_every_s", float),
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _parse(name: str, raw: str, kind: type) -> object:
    if kind is list:
        return tuple(item.strip() for item in raw.split(",") if item.strip())
    if kind is Seconds:
        try:
            values = tuple(float(item) for item in raw.split(","))
        except ValueError:
            raise SettingsError(f"{name}={raw!r}: expected seconds, comma-separated") from None
        if not values or any(v <= 0 for v in values):
            raise SettingsError(f"{name}={raw!r}: expected seconds > 0, comma-separated")
        return values
    if kind is bool:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise SettingsError(f"{name}={raw!r}: expected one of {sorted(_TRUE | _FALSE)}")
    try:
        return kind(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected {kind.__name__}") from None


def _https_or_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for name, (field, kind) in _ENV.items():
        raw = env.get(name)
        if raw is not None and raw != "":
            values[field] = _parse(name, raw, kind)
    settings = Settings(**values)  # type: ignore[arg-type]
    if not 1 <= settings.port <= 65535:
        raise SettingsError(f"PORT={settings.port}: must be 1-65535")
    if not 1 <= settings.workers <= 64:
        raise SettingsError(f"WORKERS={settings.workers}: must be 1-64")
    if not 1 <= settings.pool_min_size <= settings.pool_max_size:
        raise SettingsError("DB_POOL_MIN_SIZE must be >= 1 and <= DB_POOL_MAX_SIZE")
    if settings.log_format not in ("json", "text", "auto"):
        raise SettingsError(f"LOG_FORMAT={settings.log_format!r}: expected json, text or auto")
    if not 0 < settings.listener_timeout_s <= 300:
        raise SettingsError(f"LISTENER_TIMEOUT_S={settings.listener_timeout_s}: must be > 0 and <= 300")
    if settings.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError(f"LOG_LEVEL={settings.log_level!r}: expected DEBUG/INFO/WARNING/ERROR")
    for name, value in (
        ("IDEMPOTENCY_KEY_TTL_S", settings.idempotency_key_ttl_s),
        ("LISTENER_ATTEMPTS_RETENTION_S", settings.listener_attempts_retention_s),
        ("PURGE_EVERY_S", settings.purge_every_s),
    ):
        if not value > 0:
            raise SettingsError(f"{name}={value}: must be > 0")
    if settings.statement_timeout_ms < 0:
        raise SettingsError(f"STATEMENT_TIMEOUT_MS={settings.statement_timeout_ms}: must be >= 0 (0: no limit)")
    if settings.query_max_lag_ms < 0:
        raise SettingsError(f"QUERY_MAX_LAG_MS={settings.query_max_lag_ms}: must be >= 0")
    if settings.auth_jwt_secret is not None and len(settings.auth_jwt_secret.encode()) < MIN_SECRET_BYTES:
        raise SettingsError(f"AUTH_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")
    if settings.auth_jwks_url is not None and not _https_or_loopback(settings.auth_jwks_url):
        raise SettingsError(
            f"AUTH_JWKS_URL={settings.auth_jwks_url!r}: expected an https URL (http only to this machine: "
            "whoever can change the keys on the way can sign any token)"
        )
    return settings
