"""AdlsConnection without any network: URLs, per-client options, Spark conf, secrets hidden."""

from __future__ import annotations

import logging
import sys

import pytest

from odibi_dbx import redact
from odibi_dbx.connections import keyvault as kv
from odibi_dbx.connections.adls import AdlsConnection, SecretNotFetched
from odibi_dbx.connections.identity import Identity, jwt_claims
from tests.azure.adls_project import adls_config, key_connection, kv_connection

pytestmark = pytest.mark.azure
KEY = "S2V5Rm9yVGVzdHMtbm90LWEtcmVhbC1rZXktMDEyMzQ1Njc4OQ=="


def test_uri_and_prefix():
    c = key_connection("lake", "acmebronze", KEY, container="bronze", path_prefix="/sales/")
    assert c.uri("orders") == "abfss://bronze@acmebronze.dfs.core.windows.net/sales/orders"
    assert c.uri("/a/b/") == "abfss://bronze@acmebronze.dfs.core.windows.net/sales/a/b"
    assert key_connection("x", "acct", KEY).uri("") == "abfss://data@acct.dfs.core.windows.net/"
    assert not c.is_local and c.type == "azure_adls"


def test_options_for_each_client():
    c = key_connection("lake", "acmebronze", KEY)
    assert c.storage_options() == {"account_name": "acmebronze", "account_key": KEY}
    assert c.delta_storage_options() == {
        "account_name": "acmebronze",
        "account_key": KEY,
        "max_retries": "0",  # our retry loop owns retries (bounded by retry.max_seconds)
        "connect_timeout": "10s",
    }
    assert c.spark_conf()["fs.azure.account.key.acmebronze.dfs.core.windows.net"] == KEY


def test_emulator_endpoint_keeps_production_urls():
    ep = "http://127.0.0.1:10000/acmebronze"
    c = key_connection("lake", "acmebronze", KEY, endpoint=ep + "/")
    assert c.uri("t") == "abfss://data@acmebronze.dfs.core.windows.net/t"
    assert c.storage_options() == {
        "account_name": "acmebronze",
        "connection_string": f"DefaultEndpointsProtocol=http;AccountName=acmebronze;"
        f"AccountKey={KEY};BlobEndpoint={ep};",
    }
    assert c.delta_storage_options() == {
        "account_name": "acmebronze",
        "account_key": KEY,
        "endpoint": ep,
        "allow_http": "true",
        "max_retries": "0",
        "connect_timeout": "10s",
    }
    assert c.spark_conf()["fs.azure.account.key.acmebronze.dfs.core.windows.net"] == KEY


def test_sovereign_cloud_endpoint_moves_the_dfs_host():
    c = key_connection(
        "gov", "acmegov", KEY, endpoint="https://acmegov.blob.core.usgovcloudapi.net"
    )
    assert c.uri("t") == "abfss://data@acmegov.dfs.core.usgovcloudapi.net/t"
    assert "fs.azure.account.key.acmegov.dfs.core.usgovcloudapi.net" in c.spark_conf()
    assert all(k.endswith(".acmegov.dfs.core.usgovcloudapi.net") for k in c.spark_conf())
    assert "allow_http" not in c.delta_storage_options()


def test_several_accounts_never_share_keys():
    conns = [key_connection(f"c{i}", f"acct{i}", f"{KEY[:-4]}{i:02d}==") for i in range(3)]
    conf: dict[str, str] = {}
    for c in conns:
        conf.update(c.spark_conf())
    assert len([k for k in conf if k.startswith("fs.azure.account.key.")]) == 3
    for c in conns:
        assert conf[f"fs.azure.account.key.acct{c.name[1]}.dfs.core.windows.net"] == c.account_key
        assert c.storage_options()["account_name"] == c.account


def test_key_vault_connection_needs_its_secret_first():
    c = kv_connection("bronze", None, "bronze-key", key_vault_name="acme-kv")
    assert c.needs_secret and c.vault_url == "https://acme-kv.vault.azure.net/"
    with pytest.raises(SecretNotFetched, match=r"bronze-key.*acme-kv.*resolve_secrets"):
        c.storage_options()
    c.set_secret(KEY + "kv")
    assert not c.needs_secret and c.delta_storage_options()["account_key"] == KEY + "kv"
    assert redact.redact(f"x {KEY}kv y") == "x *** y"


def test_key_never_in_repr_str_or_dumps():
    secret = "cmVwci1jYW5hcnktbmV2ZXItcHJpbnQtbWUtMDEyMzQ1Njc4"
    cfg = adls_config(account="acct", auth_mode="direct_key", account_key=secret)
    c = AdlsConnection("lake", cfg)
    texts = [
        repr(c),
        str(c),
        repr(cfg),
        str(cfg),
        str(cfg.model_dump()),
        cfg.model_dump_json(),
        str(cfg.model_dump(mode="json")),
    ]
    for t in texts:
        assert secret not in t
    assert "direct_key" in repr(c) and "abfss://data@acct" in str(c)
    assert redact.redact(secret) == redact.MASK  # registered at construction


def test_production_direct_key_warns(monkeypatch, caplog):
    monkeypatch.setenv("ODIBI_ENV", "production")
    with caplog.at_level(logging.WARNING, logger="odibi_dbx"):
        key_connection("lake", "acct", KEY)
    assert "direct_key in production" in caplog.text and "key_vault is recommended" in caplog.text
    caplog.clear()
    monkeypatch.setenv("ODIBI_ENV", "dev")
    with caplog.at_level(logging.WARNING, logger="odibi_dbx"):
        key_connection("lake", "acct", KEY)
    assert caplog.text == ""


def test_missing_extra_is_explained(monkeypatch):
    from odibi_dbx.connections import adls
    from odibi_dbx.errors import MissingExtraError

    monkeypatch.setitem(sys.modules, "adlfs", None)
    adls._filesystem_class.cache_clear()  # an earlier in-process run may have built it
    try:
        with pytest.raises(MissingExtraError, match=r'pip install .*"adlfs>='):
            key_connection("lake", "acct", KEY).filesystem()
    finally:
        adls._filesystem_class.cache_clear()  # not cached without adlfs for later tests
    monkeypatch.setitem(sys.modules, "azure.identity", None)
    with pytest.raises(MissingExtraError, match="azure-identity"):
        kv.default_credential()
    monkeypatch.setitem(sys.modules, "azure.keyvault.secrets", None)
    with pytest.raises(MissingExtraError, match="azure-keyvault-secrets"):
        kv.secret_client("https://x.vault.azure.net/", object())


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("https://127.0.0.1:8443/", True),
        ("https://127.9.8.7/", True),
        ("https://localhost:1/", True),
        ("https://[::1]:8443/", True),
        ("https://acme-kv.vault.azure.net/", False),
        ("https://10.0.0.4/", False),
        ("https://127.0.0.1.evil.example/", False),
    ],
)
def test_challenge_check_only_relaxed_for_loopback(url, loopback, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    kwargs = kv.client_kwargs(url)
    assert ("verify_challenge_resource" in kwargs) is loopback
    if loopback:
        assert kwargs["verify_challenge_resource"] is False
    assert kwargs["retry_total"] == 0 and "connection_verify" not in kwargs


def test_tls_trust_from_standard_env(monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", "/etc/ca.pem")
    assert kv.client_kwargs("https://a.vault.azure.net/")["connection_verify"] == "/etc/ca.pem"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/corp.pem")
    assert kv.client_kwargs("https://a.vault.azure.net/")["connection_verify"] == "/etc/corp.pem"


def test_grant_commands():
    rbac, policy = kv.grant_commands("https://acme-kv.vault.azure.net/", "oid-1")
    assert rbac == (
        'az role assignment create --role "Key Vault Secrets User" '
        "--assignee-object-id oid-1 --assignee-principal-type ServicePrincipal "
        '--scope "$(az keyvault show --name acme-kv --query id -o tsv)"'
    )
    assert policy == (
        "az keyvault set-policy --name acme-kv --object-id oid-1 --secret-permissions get list"
    )
    assert kv.grant_commands("acme-kv", None, "access_policy") == [
        policy.replace("oid-1", "<object-id>")
    ]


def test_identity_from_claims():
    from tests.azure_fakes.tokens import DEFAULT_CLAIMS, make_jwt

    ident = Identity.from_claims(jwt_claims(make_jwt(DEFAULT_CLAIMS)))
    assert ident.object_id == DEFAULT_CLAIMS["oid"] and ident.app_id == DEFAULT_CLAIMS["appid"]
    assert ident.tenant_id == DEFAULT_CLAIMS["tid"] and ident.mi_name == "dbmanagedidentity"
    assert Identity.from_claims({"azp": "v2-app"}).app_id == "v2-app"
    with pytest.raises(ValueError, match="not a JWT"):
        jwt_claims("nope")
