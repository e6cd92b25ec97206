"""Each benchmark script starts (they are run by hand, never inside the test suite)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.parametrize("script", sorted(p.name for p in BENCH.glob("*.py") if p.name != "__init__.py"))
def test_python_bench_script_starts(script: str) -> None:
    module = f"bench.{script.removesuffix('.py')}"  # as the README runs them: python -m bench.<name>
    done = subprocess.run([sys.executable, "-m", module, "--help"], cwd=BENCH.parent, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


@pytest.mark.parametrize("script", sorted(p.name for p in BENCH.glob("*.sh")))
def test_shell_bench_script_parses(script: str) -> None:
    done = subprocess.run(["bash", "-n", str(BENCH / script)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
