"""Fixtures for the Databricks onboarding tests: the Azure fakes, a fake workspace, projects."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.azure_fakes.pytest_plugin import *  # noqa: E402, F403
from tests.databricks.fake_workspace import FakeWorkspace  # noqa: E402

ROOT = Path(_ROOT)


@pytest.fixture
def workspace(monkeypatch: pytest.MonkeyPatch):
    with FakeWorkspace(
        scopes=[
            {
                "name": "kv-scope",
                "backend_type": "AZURE_KEYVAULT",
                "keyvault_metadata": {
                    "dns_name": "https://kv-odibi-test.vault.azure.net/",
                    "resource_id": "/subscriptions/x/resourceGroups/rg/providers/"
                    "Microsoft.KeyVault/vaults/kv-odibi-test",
                },
            },
            {"name": "plain", "backend_type": "DATABRICKS"},
        ],
        credentials=[
            {
                "name": "kv-cred",
                "purpose": "SERVICE",
                "azure_managed_identity": {
                    "access_connector_id": "/subscriptions/x/"
                    "resourceGroups/rg/providers/Microsoft.Databricks/"
                    "accessConnectors/odibi-ac"
                },
            }
        ],
    ) as ws:
        for k in list(os.environ):
            if k.startswith("DATABRICKS_"):
                monkeypatch.delenv(k)
        for k, v in ws.env.items():
            monkeypatch.setenv(k, v)
        yield ws
