"""The design notes' helper API: get_databricks_identity_info(), print_keyvault_setup_instructions()
(through the real azure-identity against the local token endpoint) and a connection's
pandas_storage_options() (secrets masked when printed)."""

from __future__ import annotations

import pytest

from odibi_dbx.setup import (
    IdentityInfo,
    get_databricks_identity_info,
    print_keyvault_setup_instructions,
)
from tests.azure_fakes.tokens import DEFAULT_CLAIMS

pytestmark = pytest.mark.azure


def test_identity_info_from_the_token_claims(token_endpoint):
    info = get_databricks_identity_info()
    assert info.found and info.route == "default_credential"
    assert info.object_id == DEFAULT_CLAIMS["oid"]
    assert info.tenant_id == DEFAULT_CLAIMS["tid"]
    assert info.application_id == DEFAULT_CLAIMS["appid"]
    assert info.managed_identity == DEFAULT_CLAIMS["xms_mirid"]
    assert "ManagedIdentityCredential" in info.credential
    assert info.runtime in ("local", "ci") and info.compute is None
    assert info.as_dict()["object_id"] == info.object_id


def test_keyvault_instructions_for_the_identity_found(token_endpoint, capsys):
    text = print_keyvault_setup_instructions("acme-kv")
    assert capsys.readouterr().out.strip() == text.strip()
    oid = DEFAULT_CLAIMS["oid"]
    assert (
        f'az role assignment create --role "Key Vault Secrets User" --assignee-object-id {oid} '
        "--assignee-principal-type ServicePrincipal "
        '--scope "$(az keyvault show --name acme-kv --query id -o tsv)"'
    ) in text
    assert (
        f"az keyvault set-policy --name acme-kv --object-id {oid} --secret-permissions get list"
        in text
    )
    assert (
        "az keyvault show --name acme-kv --query properties.enableRbacAuthorization -o tsv" in text
    )


def test_keyvault_instructions_without_an_identity(capsys):
    none = IdentityInfo(
        "local",
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        "ServicePrincipal",
        ("DefaultAzureCredential: no token",),
    )
    text = print_keyvault_setup_instructions("https://acme-kv.vault.azure.net/", none)
    assert "DefaultAzureCredential: no token" in text
    assert "-n dbmanagedidentity --query principalId -o tsv" in text
    assert "az keyvault set-policy --name acme-kv --object-id <object-id>" in text


def test_pandas_storage_options_are_masked_when_printed():
    from tests.azure.adls_project import key_connection

    key = "S2V5Rm9yVGVzdHMtbm90LWEtcmVhbC1rZXktMDEyMzQ1Njc4OQ=="
    c = key_connection("lake", "acmebronze", key)
    opts = c.pandas_storage_options()
    assert opts == {"account_name": "acmebronze", "account_key": key}  # what pandas receives
    assert dict(opts)["account_key"] == key
    for shown in (repr(opts), str(opts), f"{opts}", repr([opts])):
        assert key not in shown and "'account_key': '***'" in shown and "acmebronze" in shown
