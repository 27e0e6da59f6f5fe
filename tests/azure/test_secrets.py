"""Secret fetching against the fake Key Vault through the real azure-identity/keyvault clients."""

from __future__ import annotations

import time

import pytest

from odibi_dbx.connections import resolve_secrets
from odibi_dbx.connections.secrets import SecretFetchError, fetch_all
from tests.azure.adls_project import kv_connection

pytestmark = pytest.mark.azure
FAST = {"initial_delay": 0.01}  # backoff for tests; the product default is 0.5 s doubling


def _conns(url: str, secrets: list[str]):
    return [kv_connection(f"conn{i}", url, s, account=f"acct{i}") for i, s in enumerate(secrets)]


def test_each_secret_once_per_run(key_vault):
    key_vault.set_secret("k1", "value-one-123")
    key_vault.set_secret("k2", "value-two-456")
    conns = _conns(key_vault.url, ["k1", "k2", "k1", "k1"])
    resolve_secrets({c.name: c for c in conns})
    one, two = "value-one-123", "value-two-456"
    assert [c.account_key for c in conns] == [one, two, one, one]
    assert key_vault.count("get", "k1") == 1 and key_vault.count("get", "k2") == 1
    resolve_secrets({c.name: c for c in conns})  # already fetched: no request
    assert key_vault.count("get") == 2


def test_fetched_in_parallel(key_vault):
    names = [f"s{i}" for i in range(6)]
    for n in names:
        key_vault.set_secret(n, f"value-of-{n}")
    key_vault.inject("latency", seconds=0.5)
    conns = _conns(key_vault.url, names)
    t0 = time.monotonic()
    fetch_all(conns)
    elapsed = time.monotonic() - t0
    assert elapsed < 1.6, f"6 x 0.5 s secrets took {elapsed:.2f}s: not parallel"
    assert key_vault.max_in_flight >= 4
    assert [c.account_key for c in conns] == [f"value-of-{n}" for n in names]


def test_project_fetches_before_first_node(key_vault, tmp_path, storage_accounts):
    """Project.run: secrets resolved once, before any node, and reused by a second run."""
    from odibi_dbx import Project
    from tests.azure.adls_project import uid, write_project

    acct = storage_accounts[0]
    container = uid("kv")
    acct.create_container(container)
    key_vault.set_secret("bronze-key", acct.key)
    (tmp_path / "in.csv").write_text("a,b\n1,x\n2,y\n")
    path = write_project(
        tmp_path,
        f"""
        project: kv once
        connections:
          local: {{type: local, base_path: .}}
          lake: {{type: azure_adls, account: {acct.name}, container: {container},
                  key_vault_url: "{key_vault.url}", secret_name: bronze-key,
                  endpoint: "{acct.blob_endpoint}"}}
          lake2: {{type: azure_adls, account: {acct.name}, container: {container},
                   path_prefix: two, key_vault_url: "{key_vault.url}", secret_name: bronze-key,
                   endpoint: "{acct.blob_endpoint}"}}
        story: {{connection: local, path: stories/}}
        pipelines:
          - pipeline: p
            nodes:
              - {{name: r, read: {{connection: local, path: in.csv}}}}
              - name: w
                depends_on: [r]
                write: {{connection: lake, path: out, format: parquet}}
              - name: w2
                depends_on: [r]
                write: {{connection: lake2, path: out, format: csv}}
    """,
    )
    with Project.load(path) as p:
        assert p.run().ok and p.run().ok
    assert key_vault.count("get", "bronze-key") == 1


@pytest.mark.parametrize(
    ("behaviour", "kind", "advice"),
    [
        (
            "forbidden_rbac",
            "forbidden_rbac",
            'az role assignment create --role "Key Vault Secrets User" --assignee-object-id {oid} '
            "--assignee-principal-type ServicePrincipal "
            '--scope "$(az keyvault show --name kv-odibi-test --query id -o tsv)"',
        ),
        (
            "forbidden_access_policy",
            "forbidden_access_policy",
            "az keyvault set-policy --name kv-odibi-test --object-id {oid} --secret-permissions get list",
        ),
        ("not_found", "not_found", "secret 'bronze-key' does not exist in vault {url}"),
    ],
)
def test_failure_advice(key_vault, token_endpoint, behaviour, kind, advice):
    key_vault.set_secret("bronze-key", "v-123456")
    key_vault.inject(behaviour, secret="bronze-key")
    conn = kv_connection("bronze", key_vault.url, "bronze-key")
    with pytest.raises(SecretFetchError) as err:
        fetch_all([conn], **FAST)
    (f,) = err.value.failures
    assert f.kind == kind and f.connections == ["bronze"] and f.secret == "bronze-key"
    assert f.attempts == 1 and key_vault.count("get", "bronze-key") == 1  # never retried
    text = str(err.value)
    assert advice.format(oid=token_endpoint.claims["oid"], url=key_vault.url) in text
    assert "connection 'bronze'" in text and key_vault.url in text and "no node has run" in text
    assert conn.needs_secret


def test_no_identity_advice(key_vault, token_endpoint):
    key_vault.set_secret("k", "v-123456")
    token_endpoint.fail(400)  # IMDS: several user-assigned identities, none chosen
    with pytest.raises(SecretFetchError) as err:
        fetch_all([kv_connection("bronze", key_vault.url, "k")], **FAST)
    (f,) = err.value.failures
    assert f.kind == "no_identity" and f.attempts == 1
    text = str(err.value)
    assert "DefaultAzureCredential found no identity; it tried:" in text
    assert "ManagedIdentityCredential" in text and "Multiple user assigned identities" in text
    assert "getServiceCredentialsProvider" in text and "az login" in text
    assert "AZURE_CLIENT_ID" in text


def test_user_credential_is_used(key_vault, token_endpoint):
    """Any object with get_token works: what a Unity Catalog service credential provides."""
    from azure.identity import ManagedIdentityCredential

    class Provider:  # duck-typed, like dbutils.credentials.getServiceCredentialsProvider(...)
        calls = 0

        def __init__(self):
            self._inner = ManagedIdentityCredential()

        def get_token(self, *scopes, **kwargs):
            Provider.calls += 1
            return self._inner.get_token(*scopes, **kwargs)

    key_vault.set_secret("k", "user-cred-value")
    conn = kv_connection("bronze", key_vault.url, "k")
    fetch_all([conn], Provider())
    assert Provider.calls >= 1 and conn.account_key == "user-cred-value"


def test_retries_throttling_and_unavailable(key_vault):
    key_vault.set_secret("k1", "v1-123456")
    key_vault.set_secret("k2", "v2-123456")
    key_vault.inject("throttle", secret="k1", times=2, retry_after=0)
    key_vault.inject("unavailable", secret="k2", times=1)
    conns = _conns(key_vault.url, ["k1", "k2"])
    fetch_all(conns, **FAST)
    assert [c.account_key for c in conns] == ["v1-123456", "v2-123456"]
    assert key_vault.count("get", "k1") == 3 and key_vault.count("get", "k2") == 2


def test_retries_are_bounded(key_vault):
    key_vault.set_secret("k", "v-123456")
    key_vault.inject("unavailable", secret="k")  # always
    with pytest.raises(SecretFetchError) as err:
        fetch_all([kv_connection("c", key_vault.url, "k")], attempts=3, **FAST)
    (f,) = err.value.failures
    assert f.kind == "transient" and f.attempts == 3
    assert key_vault.count("get", "k") == 3  # the SDK's own retries are off: 3 requests in all


def test_retry_after_is_honoured(key_vault):
    key_vault.set_secret("k", "v-123456")
    key_vault.inject("throttle", secret="k", times=1, retry_after=1)
    t0 = time.monotonic()
    fetch_all([kv_connection("c", key_vault.url, "k")], **FAST)
    assert time.monotonic() - t0 >= 1.0


def test_all_failures_reported_at_once(key_vault):
    key_vault.set_secret("ok", "fine-123456")
    key_vault.set_secret("rbac", "x-123456")
    key_vault.set_secret("policy", "x-123456")
    key_vault.inject("forbidden_rbac", secret="rbac")
    key_vault.inject("forbidden_access_policy", secret="policy")
    conns = [
        kv_connection("good", key_vault.url, "ok"),
        kv_connection("bronze", key_vault.url, "rbac"),
        kv_connection("silver", key_vault.url, "policy"),
        kv_connection("gold", key_vault.url, "missing"),
    ]
    with pytest.raises(SecretFetchError) as err:
        fetch_all(conns, **FAST)
    kinds = {f.connections[0]: f.kind for f in err.value.failures}
    assert kinds == {
        "bronze": "forbidden_rbac",
        "silver": "forbidden_access_policy",
        "gold": "not_found",
    }
    assert "could not read 3 Key Vault secrets" in str(err.value)
    assert conns[0].account_key == "fine-123456"


def test_cli_reports_secret_failures(key_vault, token_endpoint, tmp_path):
    from tests.azure.adls_project import run_cli, write_project

    key_vault.set_secret("k", "v-123456")
    key_vault.inject("forbidden_rbac", secret="k")
    path = write_project(
        tmp_path,
        f"""
        project: denied
        connections:
          local: {{type: local, base_path: .}}
          lake: {{type: azure_adls, account: acct, container: data,
                  key_vault_url: "{key_vault.url}", secret_name: k}}
        story: {{connection: local, path: stories/}}
        pipelines:
          - pipeline: p
            nodes:
              - {{name: w, read: {{connection: lake, path: x.csv}}}}
    """,
    )
    env = token_endpoint.env_for_subprocess()
    env["REQUESTS_CA_BUNDLE"] = str(key_vault.ca_path)
    r = run_cli(["run", str(path)], env, tmp_path.parent)
    assert r.returncode == 2, r.stderr
    assert "connection 'lake': secret 'k'" in r.stderr and "az role assignment create" in r.stderr
    assert "Traceback" not in r.stderr
