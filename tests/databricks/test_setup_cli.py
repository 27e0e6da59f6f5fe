"""`odibi-dbx setup` against the local token endpoint, HTTPS Key Vault, Azurite and a fake
workspace, through the real azure-identity / azure-keyvault-secrets / azure-storage-blob /
databricks-sdk clients."""

from __future__ import annotations

import time

import pytest
from azure.core.credentials import AccessToken

from odibi_dbx.cli import main
from odibi_dbx.setup import Setup
from tests.azure_fakes.tokens import make_jwt
from tests.databricks.dbx_helpers import adls_project

pytestmark = pytest.mark.azure
OID = "0d1b1e2a-0000-4000-8000-0000000000a1"  # the token endpoint's default claims
RBAC = (
    'az role assignment create --role "Key Vault Secrets User" --assignee-object-id '
    f"{OID} --assignee-principal-type ServicePrincipal "
    '--scope "$(az keyvault show --name kv-odibi-test --query id -o tsv)"'
)
POLICY = (
    f"az keyvault set-policy --name kv-odibi-test --object-id {OID} --secret-permissions get list"
)
WHICH = "az keyvault show --name kv-odibi-test --query properties.enableRbacAuthorization -o tsv"


@pytest.fixture
def lake(azurite, key_vault, tmp_path):
    """A project whose ADLS connection's key is in the vault; container 'raw' exists."""
    acct = azurite.accounts["odibitest1"]
    acct.create_container("raw")
    key_vault.set_secret("adls-key", acct.key)
    key_vault.set_secret("unrelated", "x" * 20)
    return adls_project(tmp_path / "p", key_vault.url, endpoint=acct.blob_endpoint), acct


def run_cli(capsys, *args: str) -> tuple[int, str]:
    code = main(["setup", *args])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_all_checks_pass(lake, workspace, capsys):
    project, acct = lake
    code, out = run_cli(capsys, str(project))
    assert code == 0, out
    assert "token from ManagedIdentityCredential" in out and "not an officially documented" in out
    assert f"oid        {OID}" in out and "dbmanagedidentity" in out  # xms_mirid shown
    assert RBAC in out and POLICY in out and WHICH in out
    assert "2 secret(s): adls-key, unrelated" in out
    assert "read secret 'adls-key' (used by lake): readable (value not shown)" in out
    assert "lake: container 'raw' in account 'odibitest1': reachable" in out
    assert f"workspace: {workspace.url} (id 1234567890123456)" in out
    assert "current user: dev@example.com" in out
    assert "secret scope 'kv-scope'" in out and "service credential 'kv-cred'" in out
    assert acct.key not in out and "x" * 20 not in out  # names only, never values
    assert out.rstrip().endswith("0 failed, 0 warnings")


@pytest.mark.parametrize(("shape", "command"), [("rbac", RBAC), ("access_policy", POLICY)])
def test_forbidden_gives_the_grant_for_the_vault_model(lake, key_vault, capsys, shape, command):
    project, _ = lake
    key_vault.allowed_oids = {"someone-else"}
    key_vault.denied_shape = shape
    code, out = run_cli(capsys, str(project), "--no-workspace")
    assert code == 1
    inner = "ForbiddenByRbac" if shape == "rbac" else "AccessDenied"
    assert f"✗ list secrets in kv-odibi-test: HttpResponseError (Forbidden/{inner})" in out
    assert inner in out, out
    step = out.split("✗ read secret 'adls-key'")[1]
    assert command in step.split("==")[0]
    assert "not tested: the key 'adls-key' could not be read" in out


def test_missing_secret_and_missing_container(azurite, key_vault, tmp_path, capsys):
    acct = azurite.accounts["odibitest2"]
    project = adls_project(
        tmp_path,
        key_vault.url,
        account="odibitest2",
        container="nosuch",
        secret="absent",
        endpoint=acct.blob_endpoint,
    )
    code, out = run_cli(capsys, str(project), "--no-workspace")
    assert code == 1
    assert "SecretNotFound" in out
    assert "az keyvault secret set --vault-name kv-odibi-test --name absent --value" in out
    key_vault.set_secret("absent", acct.key)
    code, out = run_cli(capsys, str(project), "--no-workspace")
    assert code == 1 and "ContainerNotFound" in out
    assert (
        "az storage container create --account-name odibitest2 --name nosuch --auth-mode login"
        in out
    )


def test_wrong_key_is_explained(azurite, key_vault, tmp_path, capsys):
    acct = azurite.accounts["odibitest1"]
    acct.create_container("raw")
    key_vault.set_secret("adls-key", azurite.accounts["odibitest2"].key)  # the other account's
    project = adls_project(tmp_path, key_vault.url, endpoint=acct.blob_endpoint)
    code, out = run_cli(capsys, str(project), "--no-workspace")
    assert code == 1
    assert "refused the key from the Key Vault secret 'adls-key'" in out
    assert "az storage account keys list --account-name odibitest1" in out


def test_multiple_identities_then_client_id(key_vault, token_endpoint, capsys):
    token_endpoint.multiple_identities = True
    token_endpoint.identities = {"client-of-dbmanagedidentity": {"oid": OID}}
    key_vault.set_secret("s", "v" * 10)
    code, out = run_cli(capsys, "--vault", key_vault.url, "--no-workspace")
    assert code == 1
    assert "Multiple user assigned identities exist" in out
    assert (
        "az identity show -g <workspace-managed-resource-group> -n dbmanagedidentity "
        "--query clientId -o tsv"
    ) in out
    assert "--client-id <client-id>" in out
    code, out = run_cli(
        capsys,
        "--vault",
        key_vault.url,
        "--no-workspace",
        "--client-id",
        "client-of-dbmanagedidentity",
    )
    assert code == 0, out
    assert "1 secret(s): s" in out
    assert token_endpoint.requests[-1]["query"]["client_id"] == "client-of-dbmanagedidentity"
    # a vault given by URL with no known name: grant commands keep a placeholder
    assert "az keyvault set-policy --name <vault-name>" in out


class StaticCredential:
    """What dbutils.credentials.getServiceCredentialsProvider returns: a TokenCredential."""

    def __init__(self, oid: str):
        self.oid = oid

    def get_token(self, *scopes, **kwargs):
        claims = {
            "oid": self.oid,
            "appid": "connector-app",
            "tid": "t",
            "xms_mirid": "/subscriptions/x/.../accessConnectors/odibi-ac",
            "aud": "https://vault.azure.net",
        }
        return AccessToken(make_jwt(claims), int(time.time()) + 3600)


class FakeDbutils:
    class credentials:
        @staticmethod
        def getServiceCredentialsProvider(name):
            if name != "kv-cred":
                raise ValueError(f"Service credential '{name}' does not exist.")
            return StaticCredential("connector-oid")


def test_service_credential_route(lake, key_vault, token_endpoint):
    project, _ = lake
    key_vault.allowed_oids = {"connector-oid"}  # only the access connector's identity is granted
    report = Setup(
        project, service_credential="kv-cred", dbutils=FakeDbutils(), workspace=False
    ).run()
    text = report.render()
    assert report.ok, text
    assert "✓ Unity Catalog service credential 'kv-cred': token from StaticCredential" in text
    assert "DefaultAzureCredential" not in text  # stopped at the first route that worked
    assert "--assignee-object-id connector-oid" in text
    assert token_endpoint.request_count == 0


def test_unknown_service_credential_falls_back(lake, key_vault):
    project, _ = lake
    report = Setup(project, service_credential="nope", dbutils=FakeDbutils(), workspace=False).run()
    text = report.render()
    assert report.ok, text
    assert (
        "! Unity Catalog service credential 'nope': ValueError: "
        "Service credential 'nope' does not exist." in text
    )
    assert "✓ DefaultAzureCredential: token from ManagedIdentityCredential" in text


def test_serverless_is_said_plainly(lake, monkeypatch):
    project, _ = lake
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "client.2.1")
    report = Setup(project, workspace=False, dbutils=False).run()
    text = report.render()
    assert "serverless compute does not allow storage account keys in Spark conf" in text
    assert "Unity Catalog external location" in text


def test_json_output(lake, capsys):
    import json

    project, acct = lake
    code, out = run_cli(capsys, str(project), "--no-workspace", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["ok"] is True
    assert acct.key not in out
    assert [s["title"] for s in doc["sections"]][:3] == [
        "Runtime",
        "Project",
        "Identity that reaches Key Vault",
    ]
