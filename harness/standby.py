"""A hot standby of the tests' PostgreSQL, made with `pg_basebackup -R` and the server's own
binaries (its BINDIR: the embedded server's, or the machine's), on a free port.

Where the server does not let us replicate (no `replication` line in its pg_hba.conf, a
server on another machine, binaries not here), `StandbyUnavailable` says why, and the
tests that need a standby skip with that reason."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import anyio
import asyncpg

from harness.processes import free_port


class StandbyUnavailable(Exception):
    pass


@dataclass
class Standby:
    directory: Path
    bindir: Path
    port: int
    user: str | None  # the system user the server runs as (None: ourselves)
    url_template: str  # postgresql://...:{port}/ ; a database name is appended

    def url(self, database: str) -> str:
        return f"{self.url_template}{database}"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]], user=self.user, capture_output=True, text=True, timeout=timeout
        )

    def start(self) -> None:
        done = self._run("pg_ctl", "-D", str(self.directory), "-l", str(self.directory / "server.log"), "-w", "-t", "60", "start")
        if done.returncode != 0:
            log = (self.directory / "server.log").read_text()[-2000:] if (self.directory / "server.log").exists() else ""
            raise RuntimeError(f"the standby did not start: {done.stderr}{done.stdout}\n{log}")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.directory), "-m", "fast", "-w", "stop")

    def promote(self) -> None:
        """Out of recovery: a primary of its own, as a failover would make it."""
        done = self._run("pg_ctl", "-D", str(self.directory), "-w", "promote")
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl promote failed: {done.stderr}")


async def _server_facts(server_url: str) -> dict[str, Any]:
    conn = await asyncpg.connect(server_url)
    try:
        return {
            "bindir": await conn.fetchval("SELECT setting FROM pg_config WHERE name = 'BINDIR'"),
            "data_directory": await conn.fetchval("SHOW data_directory"),
            "port": int(await conn.fetchval("SHOW port")),
        }
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def standby_of(server_url: str) -> Any:
    """A running hot standby of the server at `server_url` (a server on this machine)."""
    facts = await _server_facts(server_url)
    standby = await anyio.to_thread.run_sync(_made, server_url, facts)
    try:
        yield standby
    finally:
        await anyio.to_thread.run_sync(_removed, standby)


def _made(server_url: str, facts: dict[str, Any]) -> Standby:
    bindir, data_directory = Path(facts["bindir"]), Path(facts["data_directory"])
    parts = urlsplit(server_url)
    # a TCP address on this machine, or the directory of its Unix socket (the embedded server)
    host = parts.hostname or parse_qs(parts.query).get("host", [""])[0]
    if not (host in ("127.0.0.1", "localhost", "::1") or host.startswith("/")) or not (bindir / "pg_basebackup").exists():
        raise StandbyUnavailable(f"the server is not on this machine with its binaries ({bindir})")
    user = None
    if os.geteuid() == 0:  # PostgreSQL will not run as root: as the user that runs the primary
        user = pwd.getpwuid(data_directory.stat().st_uid).pw_name
    directory = Path(tempfile.mkdtemp(prefix="standby-"))
    if user is not None:
        shutil.chown(directory, user)
    directory.chmod(0o700)
    port = free_port()
    standby = Standby(directory, bindir, port, user, urlunsplit(("postgresql", _netloc(parts, port), "/", "", "")))
    env_password = {"PGPASSWORD": parts.password} if parts.password else {}
    done = subprocess.run(
        [
            str(bindir / "pg_basebackup"),
            *("-h", host, "-p", str(facts["port"]), "-U", parts.username or "postgres"),
            *("-D", str(directory), "-R", "-X", "stream", "-c", "fast", "-w"),
        ],
        user=user,
        env={**os.environ, **env_password},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        reason = (done.stderr.strip().splitlines() or ["pg_basebackup failed"])[-1]
        raise StandbyUnavailable(f"the tests' PostgreSQL does not permit replication here: {reason}")
    _configure(directory, port, user)
    try:
        standby.start()
    except Exception:
        _removed(standby)
        raise
    return standby


def _removed(standby: Standby) -> None:
    standby.stop()
    shutil.rmtree(standby.directory, ignore_errors=True)


def _netloc(parts: Any, port: int) -> str:
    credentials = parts.username or "postgres"
    if parts.password:
        credentials += f":{parts.password}"
    return f"{credentials}@127.0.0.1:{port}"


def _configure(directory: Path, port: int, user: str | None) -> None:
    """Its own port and socket directory; a server whose configuration lives outside its
    data directory (Debian's) gets a minimal one."""
    for name, default in (("postgresql.conf", ""), ("pg_hba.conf", "local all all trust\nhost all all 127.0.0.1/32 trust\n")):
        path = directory / name
        if not path.exists():
            path.write_text(default)
            if user is not None:
                shutil.chown(path, user)
    with open(directory / "postgresql.auto.conf", "a") as conf:
        conf.write(
            f"\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{directory}'\n"
            "hot_standby = on\nlogging_collector = off\n"
        )
