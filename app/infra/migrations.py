"""Running alembic from the app: `app migrate`, `app serve`, the tests.

alembic (and the SQLAlchemy it loads) is imported only when there is something to
migrate: at head, `app serve` starts a third sooner without it (BENCHMARKS.md, "Figures
behind the code's choices")."""

from __future__ import annotations

import ast
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.infra.db import Connection, connect

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from alembic.config import Config

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = ROOT / "migrations" / "versions"


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> tuple[str | None, str | None]:
    """Synchronous (alembic runs its own event loop): call it outside a running loop.
    Returns the revisions before and after (concurrent migrators take turns: see env.py)."""
    import asyncio

    from alembic import command

    before = asyncio.run(_revision(database_url))
    command.upgrade(alembic_config(database_url), revision)
    after = asyncio.run(_revision(database_url))
    if before != after:
        log.info("migrated from %s to %s", before or "an empty database", after)
    return before, after


def downgrade(database_url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str:
    """The one revision no other migration builds on, read from the scripts' `revision`
    and `down_revision` assignments (tests/infra/test_migrations.py holds it equal to alembic's)."""
    revisions: set[str] = set()
    built_on: set[str] = set()
    for script in VERSIONS.glob("*.py"):
        assigned = _assignments(script, ("revision", "down_revision"))
        revisions.add(str(assigned["revision"]))
        down = assigned.get("down_revision")
        if down is not None:
            built_on.update([down] if isinstance(down, str) else down)
    heads = revisions - built_on
    if len(heads) != 1:
        raise RuntimeError(f"migrations must have exactly one head, found {sorted(heads)}")
    return heads.pop()


def _assignments(script: Path, names: tuple[str, ...]) -> dict[str, Any]:
    """The literal values a script assigns (`x = ...` or `x: T = ...`) to `names`."""
    found: dict[str, Any] = {}
    for node in ast.parse(script.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in names:
            found[target.id] = ast.literal_eval(value)
    return found


async def _revision(database_url: str) -> str | None:
    conn = await connect(database_url)
    try:
        return await current_revision(conn)
    finally:
        await conn.close()


def upgrade_if_behind(database_url: str) -> None:
    """`upgrade`, unless the database is already at head (then alembic is not even loaded)."""
    import asyncio

    if asyncio.run(_revision(database_url)) != head_revision():
        upgrade(database_url)


async def current_revision(conn: Connection) -> str | None:
    exists = await conn.fetchval("SELECT to_regclass('public.alembic_version') IS NOT NULL")
    if not exists:
        return None
    value = await conn.fetchval("SELECT version_num FROM public.alembic_version")
    return None if value is None else str(value)
