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

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from odibi_dbx.setup.checks import Setup, run_checks
    from odibi_dbx.setup.helpers import (
        IdentityInfo,
        get_databricks_identity_info,
        print_keyvault_setup_instructions,
    )
    from odibi_dbx.setup.report import Check, Report, Section

# loaded on first use: `odibi-dbx run` builds the setup sub-command's parser without them
_LAZY = {
    "Setup": "checks",
    "run_checks": "checks",
    "IdentityInfo": "helpers",
    "get_databricks_identity_info": "helpers",
    "print_keyvault_setup_instructions": "helpers",
    "Check": "report",
    "Report": "report",
    "Section": "report",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"odibi_dbx.setup.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'odibi_dbx.setup' has no attribute {name!r}")


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
