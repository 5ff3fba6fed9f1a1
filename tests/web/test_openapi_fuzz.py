"""Schemathesis fuzzes every operation of the OpenAPI document against the live server and its real
chain: no input may produce a server error (5xx). Schemathesis needs a newer Hypothesis than
Brownie pins, so it lives in its own virtual environment (.venv-fuzz, made by `make setup`)."""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import PROJECT

SCHEMATHESIS = PROJECT / ".venv-fuzz" / "bin" / "schemathesis"


def test_no_request_makes_the_server_fail(server, tmp_path):
    if not SCHEMATHESIS.exists():
        pytest.fail("schemathesis is not installed: `make setup` makes .venv-fuzz")
    examples = os.environ.get("ELICENSE_FUZZ_EXAMPLES", "40")
    run = subprocess.run(
        [str(SCHEMATHESIS), "run", f"{server.url}/openapi.json", "--checks", "not_a_server_error",
         "--max-examples", examples, "--seed", "20261122", "--request-timeout", "60",
         "--report", "junit", "--report-junit-path", str(tmp_path / "fuzz.xml")],
        capture_output=True, text=True, timeout=900, cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )
    (PROJECT / "reports").mkdir(exist_ok=True)
    (PROJECT / "reports" / "schemathesis.txt").write_text(run.stdout + run.stderr)
    tail = (run.stdout + run.stderr)[-6000:]
    assert run.returncode == 0, tail
    assert "not_a_server_error" in run.stdout or "passed" in run.stdout.lower(), tail
