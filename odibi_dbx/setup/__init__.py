"""Databricks onboarding: where we run, which identity reaches Key Vault, the grant commands,
and whether every vault, secret and container a project uses can be reached.

    from odibi_dbx.setup import run_checks
    report = run_checks("project.yaml", service_credential="kv-cred")
    print(report); report.ok

    from odibi_dbx.setup import get_databricks_identity_info, print_keyvault_setup_instructions
    get_databricks_identity_info().object_id      # the id to grant
    print_keyvault_setup_instructions("acme-kv")  # az commands for both permission models

CLI: `odibi-dbx setup [PROJECT.yaml] [--vault NAME|URL] [--service-credential NAME]`.
"""

from __future__ import annotations

from odibi_dbx.setup.checks import Setup, run_checks
from odibi_dbx.setup.helpers import (
    IdentityInfo,
    get_databricks_identity_info,
    print_keyvault_setup_instructions,
)
from odibi_dbx.setup.report import Check, Report, Section

__all__ = [
    "Check",
    "IdentityInfo",
    "Report",
    "Section",
    "Setup",
    "get_databricks_identity_info",
    "print_keyvault_setup_instructions",
    "run_checks",
]
