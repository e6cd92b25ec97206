"""A long, randomized fuzz run (schemathesis, valid and invalid data over every operation)
against a server of this code: no 5xx, and every answer as the OpenAPI document says.

    uv run python -m bench.fuzz --minutes 20            # a fresh database on the test server
    DATABASE_URL=postgresql://... uv run python -m bench.fuzz --minutes 20

Prints schemathesis' summary (operations, cases, failures) and the server's errors, if any."""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from app.infra.db import embedded_server_url
from harness.fuzz import AUTH_SERVER_ENV, schemathesis
from harness.processes import server_on_a_fresh_database

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=None, help="default: a random one, printed")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(2**31)

    server_url = os.environ.get("DATABASE_URL") or embedded_server_url(ROOT / ".data", "postgres")
    log = Path(tempfile.mkdtemp()) / "server.log"
    started = time.monotonic()
    with server_on_a_fresh_database(server_url, log, LOG_LEVEL="WARNING", **AUTH_SERVER_ENV) as server:
        seconds = int(args.minutes * 60)
        done = schemathesis(
            server.url,
            "--max-time", str(seconds),
            "--seed", str(seed),
            "--workers", str(args.workers),
            "--phases", "examples,coverage,fuzzing,stateful",
            # A read may wait 10 s for X-Min-Position (X-Wait-Ms) before its 412.
            "--request-timeout", "15",
            timeout=seconds + 600,
        )  # fmt: skip
    summary = done.stdout[done.stdout.rfind("SUMMARY") - 40 :] if "SUMMARY" in done.stdout else done.stdout[-4000:]
    print(f"seed {seed}, {(time.monotonic() - started) / 60:.1f} minutes, exit {done.returncode}")
    print(summary)
    errors = [line for line in log.read_text().splitlines() if '"level":"error"' in line]
    print(f"server errors logged: {len(errors)}")
    for line in errors[:5]:
        print(line[:2000])
    if done.returncode != 0:
        print(done.stdout[-20000:])
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
