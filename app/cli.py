"""`app serve | migrate | projections status | projections rebuild NAME | token`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from importlib.metadata import version

import asyncpg

from app.config import Settings, SettingsError, load_settings
from app.infra.db import DatabaseUnavailable


def _database_url(settings: Settings) -> str:
    """The database to use, once it answers (else DatabaseUnavailable, one line)."""
    import asyncio

    from app.infra.db import embedded_server_url, probe

    url = settings.database_url or embedded_server_url(settings.data_dir)
    asyncio.run(probe(url))
    return url


def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    """One process, or `workers` processes on one port: each is a full replica (HTTP and a
    share of the subscriptions, which they divide among themselves by advisory locks)."""
    import uvicorn

    from app.http import create_app
    from app.infra.migrations import upgrade_if_behind
    from app.infra.web.http_protocol import HeadLimitedProtocol

    upgrade_if_behind(_database_url(settings))
    options: dict[str, object] = dict(
        host=host, port=port, loop="uvloop", http=HeadLimitedProtocol, log_config=None, access_log=False, lifespan="on"
    )
    # The settings stay as the operator gave them: an embedded database is found again by
    # create_app (each worker's too), and is what keeps auth off when nothing was set.
    if workers > 1:
        uvicorn.run("app.http:app_from_environment", factory=True, workers=workers, **options)  # type: ignore[arg-type]
        return
    uvicorn.run(create_app(settings), **options)  # type: ignore[arg-type]


def migrate(settings: Settings) -> None:
    from app.infra.migrations import upgrade

    before, after = upgrade(_database_url(settings))
    print(f"migrated from {before or 'an empty database'} to {after}" if before != after else f"already at {after}")


def _in_range(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{raw!r} is not an integer") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not in {low}-{high}")
        return value

    return parse


def _parser() -> argparse.ArgumentParser:
    from app.modules import ROLES, VIEWS

    parser = argparse.ArgumentParser(prog="app", description="CQRS monolith: room reservations and food ordering")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('cqrs-monolith')}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_p = commands.add_parser("serve", help="migrate, then serve HTTP and run subscriptions")
    serve_p.add_argument("--host")
    serve_p.add_argument("--port", type=_in_range(1, 65535), help="1-65535 (default: PORT or 8000)")
    serve_p.add_argument("--workers", type=_in_range(1, 64), help="processes on the port, 1-64 (default: WORKERS or 1)")
    commands.add_parser("migrate", help="alembic upgrade head, one migrator at a time")
    projections = commands.add_parser("projections", help="views and other subscriptions")
    proj_cmds = projections.add_subparsers(dest="action", required=True)
    proj_cmds.add_parser("status", help="position, lag and state of every subscription")
    rebuild_p = proj_cmds.add_parser(
        "rebuild", help="blue/green rebuild of a view from the outbox", description=f"views: {', '.join(VIEWS)}"
    )
    rebuild_p.add_argument("name", choices=list(VIEWS), metavar="VIEW", help=f"one of: {', '.join(VIEWS)}")
    token_p = commands.add_parser("token", help="print a token signed with AUTH_JWT_SECRET (development and tests)")
    token_p.add_argument("--sub", required=True, help="the caller: a user_id, or a consumer, restaurant or courier id")
    token_p.add_argument("--role", required=True, action="append", choices=["admin", *ROLES], help="repeat for several")
    token_p.add_argument("--ttl", type=_in_range(1, 365 * 86400), default=3600, help="seconds until it expires (default 3600)")
    return parser


def token(settings: Settings, sub: str, roles: list[str], ttl_s: int) -> None:
    from app.infra.auth.tokens import mint

    if not settings.auth_jwt_secret:
        raise SettingsError("app token signs with AUTH_JWT_SECRET, which is not set")
    claims = {k: v for k, v in (("aud", settings.auth_jwt_audience), ("iss", settings.auth_jwt_issuer)) if v}
    print(mint(settings.auth_jwt_secret, sub, roles, ttl_s, **claims))


def _run(args: argparse.Namespace, settings: Settings) -> None:
    if args.command == "token":
        token(settings, args.sub, args.role, args.ttl)
    elif args.command == "serve":
        settings.check_auth()
        serve(settings, args.host or settings.host, args.port or settings.port, args.workers or settings.workers)
    elif args.command == "migrate":
        migrate(settings)
    elif args.action == "status":
        from app.projections import print_status

        print_status(_database_url(settings))
    else:
        from app.projections import run_rebuild

        sys.exit(run_rebuild(_database_url(settings), args.name))


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        sys.exit(f"configuration error: {exc}")

    from app.infra.logs import configure

    configure(settings.log_level, settings.log_format)
    try:
        _run(args, settings)
    except SettingsError as exc:
        sys.exit(f"configuration error: {exc}")
    except DatabaseUnavailable as exc:
        sys.exit(f"database error: {exc}")
    except asyncpg.UndefinedTableError:
        sys.exit("database error: the database is not migrated (run `app migrate`)")
