"""Databricks onboarding: where we run, which identity reaches Key Vault, the grant commands,
and whether every vault, secret and container a project uses can be reached.

    from odibi_dbx.setup import run_checks
    report = run_checks("project.yaml", service_credential="kv-cred")
    print(report); report.ok

CLI: `odibi-dbx setup [PROJECT.yaml] [--vault NAME|URL] [--service-credential NAME]`.
"""

from __future__ import annotations

from odibi_dbx.setup.checks import Setup, run_checks
from odibi_dbx.setup.report import Check, Report, Section

__all__ = ["Check", "Report", "Section", "Setup", "run_checks"]
