"""schemathesis against a real server's /openapi.json with an admin token (issue 11 point 4):
a bounded number of generated requests per operation, no 5xx, every answer as the spec says."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.remote.conftest import Live

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)
# positive_data_acceptance is left out on purpose: a schema-valid body can still be refused
# for what it means (an id in the body that differs from the path's, an unknown service,
# an action the lifecycle does not allow), and those are 4xx by design.


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_schemathesis_finds_no_5xx_and_no_spec_violation(live: Live, tmp_path: Path) -> None:
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or shutil.which("st")
    assert st, "schemathesis is in the test extra: pip install -e '.[test]'"
    result = subprocess.run(
        [
            st,
            "run",
            f"{live.url}/openapi.json",
            "-H",
            f"Authorization: Bearer {live.token('admin')}",
            "--phases",
            "fuzzing",
            "--max-examples",
            "4",
            "--seed",
            "11",
            "--workers",
            "2",
            "--checks",
            CHECKS,
            # Hypothesis's "too_slow" is a wall-clock check of schemathesis's own generator
            # (it fired once for POST /v1/directory on a machine at load 16): a timing
            # assertion, not a finding about the server; every check above still runs.
            "--suppress-health-check",
            "too_slow",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=280,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
