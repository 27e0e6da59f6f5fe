"""`odibi-dbx setup`: hooked into odibi_dbx.cli by add_setup_parser / run_setup."""

from __future__ import annotations

import argparse
import json


def add_setup_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "setup",
        help="check Key Vault, secrets and containers for Databricks; print grants",
        description="Find the identity that reaches Key Vault, print the grant commands, and test "
        "every vault, secret and container the project uses. Exit 0 when all pass.",
    )
    p.add_argument("project", nargs="?", help="the project YAML file (optional)")
    p.add_argument(
        "--vault",
        action="append",
        default=[],
        metavar="NAME|URL",
        help="a Key Vault to check besides the project's (repeatable)",
    )
    p.add_argument(
        "--service-credential",
        metavar="NAME",
        help="Unity Catalog service credential to use (DBR 16.2+)",
    )
    p.add_argument(
        "--client-id",
        metavar="ID",
        help="client id of the managed identity when the VM has several",
    )
    p.add_argument("--env", help="environment from the project's environments: to apply")
    p.add_argument(
        "--no-workspace", action="store_true", help="skip the databricks-sdk workspace checks"
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    return p


def run_setup(args: argparse.Namespace) -> int:
    from odibi_dbx.setup.checks import Setup

    report = Setup(
        args.project,
        vaults=args.vault,
        service_credential=args.service_credential,
        client_id=args.client_id,
        env=args.env,
        workspace=not args.no_workspace,
    ).run()
    if args.json:
        from odibi_dbx.redact import redact

        print(redact(json.dumps(report.as_dict(), indent=2)))
    else:
        print(report.render())
    return report.exit_code
