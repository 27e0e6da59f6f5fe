"""Where are we running? One module answers it: Databricks (and which compute), Jupyter, or
plain Python. Everything else asks here."""

from __future__ import annotations

import os
import sys
from typing import Any


def on_databricks() -> bool:
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


def in_jupyter() -> bool:
    ip = sys.modules.get("IPython")
    shell = ip.get_ipython() if ip and hasattr(ip, "get_ipython") else None
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def kind() -> str:
    if on_databricks():
        return "databricks"
    if in_jupyter():
        return "jupyter"
    return "ci" if os.environ.get("CI") else "local"


def run_context() -> dict[str, Any]:
    """Facts a story records about where it ran (no secrets, no network)."""
    info: dict[str, Any] = {"runtime": kind(), "python": sys.version.split()[0]}
    if on_databricks():
        info["databricks_runtime"] = os.environ.get("DATABRICKS_RUNTIME_VERSION")
        for key, env in (("cluster_id", "DATABRICKS_CLUSTER_ID"), ("job_id", "DATABRICKS_JOB_ID"),
                         ("job_run_id", "DATABRICKS_RUN_ID"), ("workspace_url", "DATABRICKS_HOST")):
            if os.environ.get(env):
                info[key] = os.environ[env]
    return info
