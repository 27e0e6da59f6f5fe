"""The setup's workspace checks with the databricks-sdk each runtime ships (DBR 15.4: 0.20,
16.4: 0.30, serverless v2: 0.40, 17.3 and serverless v3/v4: 0.49), against the local workspace
stand-in. Each SDK is installed (no deps: requests and google-auth are in the dev venv) into its
own folder put first on the path of a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_SDKS = {
    "0.20.0": "DBR 15.4",
    "0.30.0": "DBR 16.4",
    "0.40.0": "serverless v2",
    "0.49.0": "DBR 17.3",
}

CHECK = """
import json, databricks.sdk
from odibi_dbx.setup.report import Section
from odibi_dbx.setup.workspace import check_workspace
s = Section("ws")
check_workspace(s, on_databricks=False, vault_hosts={"kv-odibi-test.vault.azure.net"})
print(json.dumps({"sdk": databricks.sdk.version.__version__,
                  "checks": {c.name: [c.status, c.detail] for c in s.checks}}))
"""


@pytest.fixture(scope="module")
def sdk_dirs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("sdks")
    out = {}
    for version in RUNTIME_SDKS:
        target = base / version
        p = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "--no-deps",
                "--target",
                str(target),
                f"databricks-sdk=={version}",
            ],
            capture_output=True,
            text=True,
        )
        if p.returncode != 0:
            pytest.skip(f"cannot install databricks-sdk=={version}: {p.stderr[-500:]}")
        out[version] = target
    return out


@pytest.mark.parametrize(
    "version", list(RUNTIME_SDKS), ids=[f"{v}-{r}" for v, r in RUNTIME_SDKS.items()]
)
def test_workspace_checks_with_the_runtime_sdk(version, sdk_dirs, workspace):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(sdk_dirs[version]), str(ROOT)])}
    p = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, env=env, timeout=120
    )
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout.splitlines()[-1])
    assert out["sdk"] == version
    checks = out["checks"]
    assert checks["workspace"] == ["ok", f"{workspace.url} (id 1234567890123456)"]
    assert checks["current user"][1] == "dev@example.com"
    assert "the project's vault" in checks["secret scope 'kv-scope'"][1]
    assert checks["service credential 'kv-cred'"] == [
        "info",
        "access connector /subscriptions/x/resourceGroups/rg/providers/Microsoft.Databricks/accessConnectors/odibi-ac",
    ]
