"""The garbage collector during a cold start: off while a Lambda function loads and through its
first invocation, then on with everything loaded frozen; untouched outside Lambda."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROBE = """
import gc, json
import app
after_import = gc.isenabled()
from chalice.test import Client
with Client(app.app) as client:
    status = client.http.get("/health").status_code
print(json.dumps({"after_import": after_import, "status": status, "after_first": gc.isenabled(), "frozen": gc.get_freeze_count()}))
"""


def _probe(**env: str) -> dict[str, object]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_LAMBDA_")}
    proc = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env={**base, **env, "AWS_DEFAULT_REGION": "us-east-1"},
                          capture_output=True, text=True, timeout=120, check=True)
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_in_lambda_the_collector_is_off_until_the_first_invocation_has_run() -> None:
    seen = _probe(AWS_LAMBDA_FUNCTION_NAME="complaints-dev")
    assert seen == {"after_import": False, "status": 200, "after_first": True, "frozen": seen["frozen"]}
    assert int(str(seen["frozen"])) > 10_000  # what the start loaded is out of the collector's way


def test_outside_lambda_importing_the_app_leaves_the_collector_on() -> None:
    assert _probe() == {"after_import": True, "status": 200, "after_first": True, "frozen": 0}
