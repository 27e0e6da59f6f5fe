"""pytest fixtures for the Azure fakes.

Use from a conftest.py:  `from tests.azure_fakes.pytest_plugin import *  # noqa: F403`
(or `pytest_plugins = ["tests.azure_fakes.pytest_plugin"]` in the rootdir conftest).

token_endpoint  function  fake IMDS; env applied with monkeypatch
                          (AZURE_POD_IDENTITY_AUTHORITY_HOST, AZURE_TOKEN_CREDENTIALS=
                          ManagedIdentityCredential; every name in tokens.UNSET_ENV removed)
key_vault       function  HTTPS Key Vault, empty; needs token_endpoint; sets REQUESTS_CA_BUNDLE
secret_client   function  real SecretClient(key_vault.url, DefaultAzureCredential(), ...)
azurite         session   Azurite (http) with accounts odibitest1, odibitest2 (+ devstoreaccount1)
azurite_https   session   the same over TLS (azurite_https.ca_path)
storage_accounts function [odibitest1, odibitest2] StorageAccount objects of `azurite`
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .azurite import Azurite, missing_reason
from .keyvault import KeyVault
from .tokens import TokenEndpoint

__all__ = [
    "azurite",
    "azurite_https",
    "key_vault",
    "secret_client",
    "storage_accounts",
    "token_endpoint",
]

ACCOUNTS = ("odibitest1", "odibitest2")


@pytest.fixture
def token_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[TokenEndpoint]:
    with TokenEndpoint() as t:
        t.apply_env(monkeypatch)
        yield t


@pytest.fixture
def key_vault(token_endpoint: TokenEndpoint, monkeypatch: pytest.MonkeyPatch) -> Iterator[KeyVault]:
    with KeyVault() as kv:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(kv.ca_path))
        yield kv
        assert not kv.errors, f"the Key Vault fake itself failed: {kv.errors}"


@pytest.fixture
def secret_client(key_vault: KeyVault):
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.secrets import SecretClient

    # each fake serves on a port no earlier fake of this process used (KeyVault.ports_used), so
    # no challenge the SDK cached is reused and the first request gets the 401 tests assert
    cred = DefaultAzureCredential()
    client = SecretClient(
        key_vault.url,
        cred,
        verify_challenge_resource=False,
        connection_verify=str(key_vault.ca_path),
    )
    with client, cred:
        yield client


def _start_azurite(**kwargs) -> Azurite:
    reason = missing_reason()
    if reason:
        # CI installs Azurite (`make test` depends on `make azurite`): never skip silently there.
        if os.environ.get("CI") or os.environ.get("ODIBI_REQUIRE_AZURITE"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return Azurite(ACCOUNTS, **kwargs).start()


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    az = _start_azurite()
    try:
        yield az
    finally:
        az.stop()


@pytest.fixture(scope="session")
def azurite_https() -> Iterator[Azurite]:
    az = _start_azurite(https=True)
    try:
        yield az
    finally:
        az.stop()


@pytest.fixture
def storage_accounts(azurite: Azurite):
    return [azurite.accounts[n] for n in ACCOUNTS]
