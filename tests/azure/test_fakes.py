"""The fakes behave like the services, as seen through the real Azure SDKs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.azure_fakes.keyvault import KeyVault
from tests.azure_fakes.tokens import MULTIPLE_IDENTITIES, UNSET_ENV, TokenEndpoint, jwt_claims

pytestmark = pytest.mark.azure
ROOT = Path(__file__).resolve().parents[2]
VAULT_SCOPE = "https://vault.azure.net/.default"


def _uid(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


# -- token endpoint --------------------------------------------------------------------------------


def test_default_credential_gets_token_with_claims(monkeypatch):
    from azure.identity import DefaultAzureCredential

    claims = {"oid": "11111111-2222-3333-4444-555555555555", "appid": "app-1", "tid": "tenant-1"}
    with TokenEndpoint(claims, credentials="prod") as t:
        monkeypatch.setenv("AZURE_CLIENT_ID", "stray-client-id")  # must be cleared by apply_env
        t.apply_env(monkeypatch)
        token = DefaultAzureCredential().get_token(VAULT_SCOPE)
    got = jwt_claims(token.token)
    assert got["oid"] == claims["oid"] and got["appid"] == "app-1" and got["tid"] == "tenant-1"
    assert got["aud"] == "https://vault.azure.net"
    assert got["iss"] == "https://sts.windows.net/tenant-1/"
    assert got["idtyp"] == "app" and "dbmanagedidentity" in got["xms_mirid"]
    assert 3500 < token.expires_on - time.time() <= 3600
    (req,) = t.requests
    assert req["route"] == "imds" and req["headers"]["Metadata"] == "true"
    assert req["query"] == {"api-version": "2018-02-01", "resource": "https://vault.azure.net"}


def test_user_assigned_identity_selection_and_multiple_identities(token_endpoint):
    from azure.identity import CredentialUnavailableError, ManagedIdentityCredential

    token_endpoint.multiple_identities = True
    token_endpoint.identities = {"client-b": {"oid": "oid-b"}}
    with pytest.raises(CredentialUnavailableError, match="Multiple user assigned identities"):
        ManagedIdentityCredential().get_token(VAULT_SCOPE)
    token = ManagedIdentityCredential(client_id="client-b").get_token(VAULT_SCOPE)
    assert jwt_claims(token.token)["oid"] == "oid-b"
    assert token_endpoint.requests[-1]["query"]["client_id"] == "client-b"


def test_token_endpoint_failures(token_endpoint):
    from azure.identity import CredentialUnavailableError, ManagedIdentityCredential

    token_endpoint.fail(400, times=1)
    with pytest.raises(CredentialUnavailableError, match=MULTIPLE_IDENTITIES[:40]):
        ManagedIdentityCredential().get_token(VAULT_SCOPE)
    token_endpoint.fail(500, times=1)  # the SDK retries IMDS 5xx: the second request succeeds
    assert ManagedIdentityCredential().get_token(VAULT_SCOPE).token
    assert token_endpoint.counts["imds"] == 3
    token_endpoint.fail("refused")
    with pytest.raises(CredentialUnavailableError):
        ManagedIdentityCredential(retry_total=0).get_token(VAULT_SCOPE)
    token_endpoint.fail(None)
    assert ManagedIdentityCredential().get_token(VAULT_SCOPE).token
    assert token_endpoint.counts["imds"] == 4


def test_app_service_route(monkeypatch):
    from azure.identity import ManagedIdentityCredential

    with TokenEndpoint({"oid": "oid-app-service"}) as t:
        t.apply_env(monkeypatch, app_service=True)
        token = ManagedIdentityCredential().get_token(VAULT_SCOPE)
    assert jwt_claims(token.token)["oid"] == "oid-app-service"
    assert t.counts == {"app_service": 1}


# -- Key Vault -------------------------------------------------------------------------------------


def test_get_secret_via_challenge_flow(key_vault, secret_client, token_endpoint):
    version = key_vault.set_secret("adls-key", "s3cret", content_type="text/plain")
    secret = secret_client.get_secret("adls-key")
    assert secret.value == "s3cret" and secret.properties.version == version
    assert secret.properties.content_type == "text/plain"
    assert secret_client.get_secret("adls-key", version).value == "s3cret"
    statuses = [e["status"] for e in key_vault.log]
    assert statuses == [401, 200, 200]  # challenge first, then bearer requests
    assert key_vault.log[1]["oid"] == jwt_claims(token_endpoint.issued[0])["oid"]
    assert key_vault.count("get", "adls-key") == 2


def test_a_new_vault_gets_a_port_no_earlier_vault_used(token_endpoint, monkeypatch):
    # the SDK caches a vault's challenge per host:port for the process; a fake on an earlier
    # fake's port would answer its first request with 200, not the 401 challenge tests assert
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.secrets import SecretClient

    from tests.azure_fakes._http import BackgroundServer, _Server

    def statuses(kv: KeyVault) -> list[int]:
        with SecretClient(
            kv.url,
            DefaultAzureCredential(),
            verify_challenge_resource=False,
            connection_verify=str(kv.ca_path),
        ) as client:
            assert client.get_secret("k").value == "v"
        return [e["status"] for e in kv.log]

    with KeyVault({"k": "v"}) as first:
        assert statuses(first) == [401, 200]
    kernel_reuses = [first.port]  # the kernel hands out the first fake's port once more
    bind = BackgroundServer._bind
    monkeypatch.setattr(
        BackgroundServer,
        "_bind",
        lambda s: (
            _Server(("127.0.0.1", kernel_reuses.pop()), s.handler) if kernel_reuses else bind(s)
        ),
    )
    with KeyVault({"k": "v"}) as second:
        assert not kernel_reuses and second.port != first.port
        assert statuses(second) == [401, 200]


def test_tls_trust_from_env(key_vault, monkeypatch):
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.secrets import SecretClient

    key_vault.set_secret("s", "v")
    # key_vault fixture exported REQUESTS_CA_BUNDLE: no connection_verify needed
    client = SecretClient(key_vault.url, DefaultAzureCredential(), verify_challenge_resource=False)
    assert client.get_secret("s").value == "v"


def test_list_follows_next_link(key_vault, secret_client):
    key_vault.page_size = 2
    for i in range(3):
        key_vault.set_secret(f"s{i}", str(i))
    assert [p.name for p in secret_client.list_properties_of_secrets()] == ["s0", "s1", "s2"]
    assert key_vault.count("list") == 2  # two pages


@pytest.mark.parametrize(
    ("behaviour", "inner", "text"),
    [
        (
            "forbidden_rbac",
            "ForbiddenByRbac",
            "Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'",
        ),
        (
            "forbidden_access_policy",
            "AccessDenied",
            "does not have secrets get permission on key vault",
        ),
    ],
)
def test_forbidden_shapes(key_vault, secret_client, behaviour, inner, text):
    from azure.core.exceptions import HttpResponseError

    key_vault.set_secret("adls-key", "v")
    key_vault.inject(behaviour, secret="adls-key", times=1)
    with pytest.raises(HttpResponseError) as err:
        secret_client.get_secret("adls-key")
    assert err.value.status_code == 403
    assert err.value.error.code == "Forbidden"
    assert err.value.error.innererror["code"] == inner
    assert text in err.value.message
    assert secret_client.get_secret("adls-key").value == "v"  # times=1: next request is fine


def test_allowed_oids(token_endpoint, monkeypatch):
    from azure.core.exceptions import HttpResponseError
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.secrets import SecretClient

    with KeyVault({"k": "v"}, allowed_oids={"someone-else"}, denied_shape="access_policy") as kv:
        client = SecretClient(
            kv.url,
            DefaultAzureCredential(),
            verify_challenge_resource=False,
            connection_verify=str(kv.ca_path),
        )
        with pytest.raises(HttpResponseError) as err:
            list(client.list_properties_of_secrets())
        assert err.value.error.innererror["code"] == "AccessDenied"
        assert "does not have secrets list permission" in err.value.message
        kv.allowed_oids.add(token_endpoint.claims["oid"])
        assert client.get_secret("k").value == "v"


def test_not_found(key_vault, secret_client):
    from azure.core.exceptions import ResourceNotFoundError

    with pytest.raises(ResourceNotFoundError) as err:
        secret_client.get_secret("missing")
    assert err.value.error.code == "SecretNotFound"
    key_vault.set_secret("there", "v")
    key_vault.inject("not_found", secret="there")  # always
    with pytest.raises(ResourceNotFoundError):
        secret_client.get_secret("there")


def test_throttle_and_unavailable_are_retried(key_vault, secret_client):
    key_vault.set_secret("k", "v")
    key_vault.inject("throttle", secret="k", times=1, retry_after=1)
    t0 = time.monotonic()
    assert secret_client.get_secret("k").value == "v"
    assert time.monotonic() - t0 >= 1.0  # honoured Retry-After
    key_vault.inject("unavailable", secret="k", times=1)
    assert secret_client.get_secret("k").value == "v"
    assert [e["status"] for e in key_vault.log if e["secret"] == "k"] == [401, 429, 200, 503, 200]


def test_concurrent_requests_and_latency(key_vault, secret_client):
    names = [f"s{i}" for i in range(6)]
    for n in names:
        key_vault.set_secret(n, n.upper())
    secret_client.get_secret("s0")  # do the challenge once
    key_vault.inject("latency", seconds=0.5)
    t0 = time.monotonic()
    with ThreadPoolExecutor(6) as pool:
        values = list(pool.map(lambda n: secret_client.get_secret(n).value, names))
    assert values == [n.upper() for n in names]
    assert time.monotonic() - t0 < 2.0  # served in parallel, not 6 x 0.5 s
    assert key_vault.max_in_flight >= 3


# -- Azurite ---------------------------------------------------------------------------------------


def test_azurite_two_accounts_blob_sdk(azurite, storage_accounts):
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
    from azure.storage.blob import BlobServiceClient

    a, b = storage_accounts
    container = _uid("c")
    a.create_container(container)
    a.blob_service_client().get_blob_client(container, "x.txt").upload_blob(b"from a")
    names_b = [c.name for c in b.blob_service_client().list_containers()]
    assert container not in names_b  # accounts are isolated
    b.create_container(container)
    assert list(b.blob_service_client().get_container_client(container).list_blobs()) == []
    blob = a.blob_service_client().get_blob_client(container, "x.txt")
    assert blob.download_blob().readall() == b"from a"
    # a wrong key is rejected like the real service
    wrong = a.connection_string.replace(a.key, b.key)
    with pytest.raises((ClientAuthenticationError, HttpResponseError)) as err:
        BlobServiceClient.from_connection_string(wrong).get_blob_client(
            container, "x.txt"
        ).download_blob()
    assert err.value.status_code == 403
    # the well-known emulator account stays available next to the custom ones
    assert "devstoreaccount1" in azurite.accounts
    azurite.accounts["devstoreaccount1"].create_container(container)


def test_pandas_adlfs_production_urls(storage_accounts):
    import pandas as pd

    df = pd.DataFrame({"id": [1, 2, 3], "name": ["a", "b", "c"]})
    container = _uid("raw")
    for i, acct in enumerate(storage_accounts):
        acct.create_container(container)
        url = acct.abfss(container, "bronze/customers.parquet")
        assert (
            url == f"abfss://{container}@{acct.name}.dfs.core.windows.net/bronze/customers.parquet"
        )
        df.assign(acct=i).to_parquet(url, storage_options=acct.adlfs_options(), index=False)
        df.to_csv(
            acct.abfss(container, "bronze/c.csv"), storage_options=acct.adlfs_options(), index=False
        )
    for i, acct in enumerate(storage_accounts):
        back = pd.read_parquet(
            acct.abfss(container, "bronze/customers.parquet"), storage_options=acct.adlfs_options()
        )
        assert back["acct"].unique().tolist() == [i]  # each account got its own data
        csv = pd.read_csv(
            acct.abfss(container, "bronze/c.csv"), storage_options=acct.adlfs_options()
        )
        assert csv.equals(df)


def test_deltalake_both_accounts(storage_accounts):
    import pandas as pd
    from deltalake import DeltaTable, write_deltalake

    container = _uid("delta")
    for i, acct in enumerate(storage_accounts):
        acct.create_container(container)
        uri = acct.abfss(container, "silver/orders")
        opts = acct.delta_options()
        write_deltalake(uri, pd.DataFrame({"x": [i]}), storage_options=opts)
        write_deltalake(uri, pd.DataFrame({"x": [i + 10]}), storage_options=opts, mode="append")
    for i, acct in enumerate(storage_accounts):
        dt = DeltaTable(
            acct.abfss(container, "silver/orders"), storage_options=acct.delta_options()
        )
        assert dt.version() == 1
        assert sorted(dt.to_pandas()["x"]) == [i, i + 10]


def test_azurite_https_account_host_in_subprocess(azurite_https):
    """adlfs' account_name/account_key/account_host style needs TLS + SSL_CERT_FILE at startup."""
    acct = azurite_https.accounts["odibitest2"]
    acct.create_container("raw")
    child = (
        "import json, sys, pandas as pd\n"
        "a = json.loads(sys.argv[1])\n"
        "url = f\"abfss://raw@{a['name']}.dfs.core.windows.net/h.parquet\"\n"
        "pd.DataFrame({'v': [1, 2]}).to_parquet(url, storage_options=a['opts'])\n"
        "print(pd.read_parquet(url, storage_options=a['opts'])['v'].sum())\n"
    )
    arg = json.dumps({"name": acct.name, "opts": acct.adlfs_options(style="account_host")})
    r = subprocess.run(
        [sys.executable, "-c", child, arg],
        env={**os.environ, **azurite_https.env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip() == "3"


# -- end to end and the serve entry point ---------------------------------------------------------


def test_key_vault_key_to_storage(token_endpoint, key_vault, secret_client, storage_accounts):
    import pandas as pd

    acct = storage_accounts[1]
    key_vault.set_secret("adls-key", acct.key)
    key = secret_client.get_secret("adls-key").value
    container = _uid("e2e")
    acct.create_container(container)
    opts = {**acct.delta_options(), "account_key": key}
    from deltalake import DeltaTable, write_deltalake

    write_deltalake(acct.abfss(container, "t"), pd.DataFrame({"a": [1]}), storage_options=opts)
    assert DeltaTable(acct.abfss(container, "t"), storage_options=opts).version() == 0


def test_serve_subprocess(azurite):  # `azurite` only to skip when Azurite is not installed
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.azure_fakes.serve",
            "--tokens",
            "--keyvault",
            "--azurite",
            "--json",
            "--secrets",
            "adls-key=@azurite:odibitest1,other=x",
            "--claims",
            "oid=oid-from-serve",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        info = json.loads(proc.stdout.readline())
        env = {k: v for k, v in os.environ.items() if k not in UNSET_ENV} | info["env"]
        child = (
            "import os\n"
            "from azure.identity import DefaultAzureCredential\n"
            "from azure.keyvault.secrets import SecretClient\n"
            "c = SecretClient(os.environ['ODIBI_TEST_KEY_VAULT_URL'], DefaultAzureCredential(),"
            " verify_challenge_resource=False)\n"
            "print(c.get_secret('adls-key').value)\n"
        )
        r = subprocess.run(
            [sys.executable, "-c", child], env=env, capture_output=True, text=True, timeout=60
        )
        assert r.returncode == 0, r.stderr[-3000:]
        assert r.stdout.strip() == info["azurite"]["accounts"]["odibitest1"]["key"]
        assert set(info["unset"]) == set(UNSET_ENV)
    finally:
        proc.terminate()
        assert proc.wait(timeout=15) == 0
    with pytest.raises(ProcessLookupError):  # serve stopped its Azurite
        os.kill(info["azurite"]["pid"], 0)


def test_azurite_start_failure_is_explained(azurite, tmp_path):
    from tests.azure_fakes.azurite import Azurite, AzuriteError
    from tests.azure_fakes.certs import TlsFiles

    bad = TlsFiles(tmp_path / "ca.pem", tmp_path / "no-cert.pem", tmp_path / "no-key.pem")
    with pytest.raises(AzuriteError, match="exited with code") as err:
        Azurite(["odibitest1"], https=True, tls=bad, startup_timeout=20).start()
    assert "no-cert.pem" in str(err.value)
