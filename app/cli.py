"""`app serve | migrate | projections status | projections rebuild NAME`."""

from __future__ import annotations

import argparse
import sys

from app.config import Settings, SettingsError, load_settings


def _database_url(settings: Settings) -> str:
    from app.infra.db import embedded_server_url

    return settings.database_url or embedded_server_url(settings.data_dir)


def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    """One process, or `workers` processes on one port: each is a full replica (HTTP and a
    share of the subscriptions, which they divide among themselves by advisory locks)."""
    import os

    import uvicorn

    from app.http import create_app
    from app.infra.migrations import upgrade_if_behind

    url = _database_url(settings)
    upgrade_if_behind(url)
    options: dict[str, object] = dict(
        host=host, port=port, loop="uvloop", http="httptools", log_config=None, access_log=False, lifespan="on"
    )
    if workers > 1:
        os.environ["DATABASE_URL"] = url  # the workers build their app from the environment
        uvicorn.run("app.http:app_from_environment", factory=True, workers=workers, **options)  # type: ignore[arg-type]
        return
    settings = Settings(**{**{f: getattr(settings, f) for f in settings.__struct_fields__}, "database_url": url})
    uvicorn.run(create_app(settings), **options)  # type: ignore[arg-type]


def migrate(settings: Settings) -> None:
    from app.infra.migrations import upgrade

    before, after = upgrade(_database_url(settings))
    print(f"migrated from {before or 'an empty database'} to {after}" if before != after else f"already at {after}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="app")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_p = commands.add_parser("serve", help="migrate, then serve HTTP and run subscriptions")
    serve_p.add_argument("--host")
    serve_p.add_argument("--port", type=int)
    serve_p.add_argument("--workers", type=int, help="processes on the port (default: WORKERS or 1)")
    commands.add_parser("migrate", help="alembic upgrade head")
    projections = commands.add_parser("projections", help="views and other subscriptions")
    proj_cmds = projections.add_subparsers(dest="action", required=True)
    proj_cmds.add_parser("status", help="position, lag and state of every subscription")
    rebuild_p = proj_cmds.add_parser("rebuild", help="blue/green rebuild of a view from the outbox")
    rebuild_p.add_argument("name")
    args = parser.parse_args(argv)
    if args.command == "serve" and args.workers is not None and not 1 <= args.workers <= 64:
        parser.error("--workers must be 1-64")

    try:
        settings = load_settings()
    except SettingsError as exc:
        sys.exit(f"configuration error: {exc}")

    from app.infra.logs import configure

    configure(settings.log_level, settings.log_format)
    if args.command == "serve":
        serve(settings, args.host or settings.host, args.port or settings.port, args.workers or settings.workers)
    elif args.command == "migrate":
        migrate(settings)
    elif args.action == "status":
        from app.projections import print_status

        print_status(_database_url(settings))
    else:
        from app.projections import run_rebuild

        sys.exit(run_rebuild(_database_url(settings), args.name))
