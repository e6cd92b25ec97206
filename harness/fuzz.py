"""Schemathesis run against a live server, as the fuzz test and bench/fuzz.py both use it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# The checks the suite holds the service to: no 5xx, every status, content type, header
# and response body as the OpenAPI document says. (Not "schema-valid data is accepted":
# some rules span fields, e.g. end > start, and answer 422 by design.)
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance"
)


# The fuzzed server checks tokens (AUTH_SERVER_ENV); the fuzzer calls as an admin, so every
# operation is reached past its guard.
FUZZ_SECRET = "the-fuzzers-secret-of-32-bytes-or-more"
AUTH_SERVER_ENV = {"AUTH_DISABLED": "false", "AUTH_JWT_SECRET": FUZZ_SECRET}


def schemathesis(base_url: str, *options: str, timeout: float) -> subprocess.CompletedProcess[str]:
    from app.infra.auth.tokens import mint

    st = Path(sys.executable).parent / "st"
    admin = f"Authorization: Bearer {mint(FUZZ_SECRET, 'fuzzer', ['admin'], int(timeout) + 600)}"
    return subprocess.run(
        [
            str(st),
            "run",
            f"{base_url}/schema/openapi.json",
            "--checks",
            CHECKS,
            "--mode",
            "all",
            "--no-color",
            "-H",
            admin,
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
