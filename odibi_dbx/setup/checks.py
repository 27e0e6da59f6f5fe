"""The setup checks, one step per method so the notebook can run them cell by cell.

s = Setup("project.yaml", vaults=["my-kv"], service_credential="kv-cred")
for step in (s.runtime, s.identity, s.key_vaults, s.secret_scopes, s.storage, s.workspace):
    print(step())
s.report.ok
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from odibi_dbx import runtime
from odibi_dbx.errors import ConfigError
from odibi_dbx.redact import register_secret
from odibi_dbx.setup import grants
from odibi_dbx.setup.grants import Vault
from odibi_dbx.setup.identity import MULTIPLE_IDENTITIES, Attempt, IdentityResult, find_identity
from odibi_dbx.setup.report import FAIL, INFO, OK, SKIP, WARN, Report, Section

MAX_NAMES = 50  # secret names listed in the report


@dataclass
class VaultTarget:
    vault: Vault
    secrets: dict[str, list[str]] = field(default_factory=dict)  # secret -> connections using it


class Setup:
    def __init__(
        self,
        project: str | os.PathLike[str] | None = None,
        *,
        vaults: list[str] | tuple[str, ...] = (),
        service_credential: str | None = None,
        client_id: str | None = None,
        env: str | None = None,
        dbutils: Any = None,
        spark: Any = None,
        workspace: bool = True,
    ):
        self.project_path = project
        self.env = env
        self.extra_vaults = [v for v in vaults if v]
        self.service_credential = service_credential or None
        self.client_id = client_id or None
        self.spark = spark
        self.dbutils = dbutils if dbutils is not None else runtime.get_dbutils(spark)
        self.check_workspace = workspace
        self.report = Report()
        self.info = runtime.detect(spark)
        self.loaded: Any = None
        self.targets: list[VaultTarget] = []
        self.identity_result: IdentityResult | None = None
        self._keys: dict[tuple[str, str], str] = {}  # (vault url, secret) -> value; never shown
        self._scope_keys: dict[tuple[str, str], str] = {}  # (scope, key) -> value; never shown

    # -- steps -----------------------------------------------------------------------------------
    def runtime(self) -> Section:
        s = self.report.section("Runtime")
        i = self.info
        if i.kind != "databricks":
            s.add("where", INFO, f"{i.kind} (not Databricks), Python {i.python}")
        else:
            s.add(
                "where",
                INFO,
                f"Databricks Runtime {i.databricks_runtime}, compute {i.compute}"
                + (f", access mode {i.access_mode}" if i.access_mode else "")
                + (f", cluster {i.cluster_id}" if i.cluster_id else ""),
            )
            if i.compute in ("serverless", "standard"):
                s.add(
                    "compute",
                    WARN,
                    f"{i.compute} compute does not allow storage account keys in Spark conf, and "
                    "the cluster's managed identity (IMDS) is not reachable there",
                    "Use a Unity Catalog service credential (--service-credential) for Key Vault, "
                    "or auth_mode: secret_scope (dbutils.secrets.get works on every compute), "
                    "and a Unity Catalog external location for the Spark engine's storage "
                    "access; or run setup and the pipeline job on dedicated (single-user) "
                    "classic compute.",
                )
            elif i.service_credentials_supported is False and self.service_credential:
                s.add(
                    "service credentials",
                    WARN,
                    f"DBR {i.databricks_runtime}: service credentials are GA on 16.2+ (preview "
                    "on 15.4 LTS)",
                )
        return s

    def project(self) -> Section:
        s = self.report.section("Project")
        s.notes.extend(self._load_project(s))
        return s

    def identity(self) -> Section:
        s = self.report.section("Identity that reaches Key Vault")
        if self.loaded is not None and not self.targets:
            s.add(
                "identity",
                SKIP,
                "no Key Vault to reach: no connection uses auth_mode: key_vault (and no --vault)",
            )
            return s
        result = find_identity(
            service_credential=self.service_credential,
            dbutils=self.dbutils,
            client_id=self.client_id,
            on_databricks=self.info.kind == "databricks",
        )
        self.identity_result = result
        for a in result.attempts:
            if a.ok:
                note = ""
                if a.route == "default_credential" and a.is_managed_identity:
                    note = (
                        " — a managed identity through IMDS: works on classic compute but is not "
                        "an officially documented Databricks route; on DBR 16.2+ prefer a Unity "
                        "Catalog service credential"
                    )
                s.add(a.label, OK, f"token from {a.answered_by}{note}")
            else:
                s.add(
                    a.label,
                    FAIL if a is result.attempts[-1] else WARN,
                    a.detail,
                    *self._identity_steps(a.detail, a.route),
                )
        chosen = result.chosen
        if chosen is not None:
            s.notes.append(
                "Token claims (decoded without verification, for display only):\n"
                + "\n".join(f"  {k:<10} {v}" for k, v in chosen.shown_claims().items())
            )
            if self.info.kind != "databricks" and not chosen.is_managed_identity:
                s.notes.append(
                    "This is your own login: on Databricks the job runs as the cluster's "
                    "identity or a service credential. Run this setup there once too."
                )
        # a failure before a success is only a warning; nothing working is a failure
        if chosen is not None:
            for c in s.checks:
                if c.status == FAIL:
                    c.status = WARN
        return s

    def grants(self) -> Section:
        s = self.report.section("Grant commands")
        chosen = self.identity_result.chosen if self.identity_result else None
        if not self.targets:
            s.add(
                "vaults",
                SKIP,
                "no Key Vault named: pass --vault NAME or a project whose "
                "connections use auth_mode: key_vault",
            )
        elif chosen is None or not chosen.oid:
            s.add("object id", SKIP, "unknown (no token): fix the identity first")
        else:
            for t in self.targets:
                s.notes.append(
                    grants.grant_text(t.vault.cli_name, chosen.oid, chosen.principal_type)
                )
        return s

    def key_vaults(self) -> Section:
        s = self.report.section("Key Vault access")
        chosen = self.identity_result.chosen if self.identity_result else None
        if not self.targets:
            s.add("vaults", SKIP, "no Key Vault to check")
            return s
        if chosen is None or chosen.credential is None:
            for t in self.targets:
                s.add(f"{t.vault.label}", FAIL, "not tested: no identity could get a token")
            return s
        for t in self.targets:
            self._check_vault(s, t, chosen)
        return s

    def secret_scopes(self) -> Section:
        from odibi_dbx.setup.scopes import check_scopes

        s = self.report.section("Secret scopes")
        self._scope_keys = check_scopes(s, self._adls_connections(), self.dbutils)
        return s

    def storage(self) -> Section:
        s = self.report.section("ADLS containers")
        adls = self._adls_connections()
        if not adls:
            s.add("connections", SKIP, "the project has no azure_adls connection")
            return s
        for name, cfg in adls:
            self._check_container(s, name, cfg)
        return s

    def workspace(self) -> Section:
        from odibi_dbx.setup.workspace import check_workspace

        s = self.report.section("Databricks workspace")
        if not self.check_workspace:
            s.add("workspace", SKIP, "skipped (--no-workspace)")
            return s
        check_workspace(
            s,
            on_databricks=self.info.kind == "databricks",
            vault_hosts={_host(t.vault.url) for t in self.targets},
        )
        return s

    def run(self) -> Report:
        for step in (
            self.runtime,
            self.project,
            self.identity,
            self.grants,
            self.key_vaults,
            self.secret_scopes,
            self.storage,
            self.workspace,
        ):
            step()
        return self.report

    # -- project ---------------------------------------------------------------------------------
    def _load_project(self, s: Section) -> list[str]:
        notes: list[str] = []
        by_url: dict[str, VaultTarget] = {}
        if self.project_path:
            from odibi_dbx.config import load_project

            try:
                self.loaded = load_project(self.project_path, env=self.env)
            except ConfigError as exc:
                s.add("project", FAIL, f"{self.project_path} is invalid", *str(exc).splitlines())
            else:
                cfg = self.loaded.config
                s.add(
                    "project",
                    OK,
                    f"'{cfg.project}' ({self.loaded.file}), {len(cfg.connections)} connection(s)",
                )
                for name, c in self._adls_connections():
                    if c.auth_mode != "key_vault":
                        continue
                    v = Vault.parse(c.key_vault_name or c.key_vault_url, url=c.key_vault_url)
                    t = by_url.setdefault(v.url, VaultTarget(v))
                    t.secrets.setdefault(c.secret_name, []).append(name)
        for value in self.extra_vaults:
            v = Vault.parse(value)
            match = next(
                (
                    t
                    for t in by_url.values()
                    if value in (t.vault.name, t.vault.url) or t.vault.url == v.url
                ),
                None,
            )
            if match is None:
                by_url[v.url] = VaultTarget(v)
        self.targets = list(by_url.values())
        if not self.project_path:
            s.add("project", SKIP, "none given: only the --vault vaults are checked")
        for t in self.targets:
            used = ", ".join(f"{k} ({', '.join(v)})" for k, v in t.secrets.items()) or "none named"
            notes.append(f"Key Vault {t.vault.label} [{t.vault.url}]: secrets {used}")
        return notes

    def _adls_connections(self) -> list[tuple[str, Any]]:
        if self.loaded is None:
            return []
        return [(n, c) for n, c in self.loaded.config.connections.items() if c.type == "azure_adls"]

    # -- Key Vault ---------------------------------------------------------------------------------
    def _check_vault(self, s: Section, t: VaultTarget, chosen: Attempt) -> None:
        def advice(exc: BaseException, secret: str | None = None) -> list[str]:
            return grants.advice(
                exc,
                t.vault,
                oid=chosen.oid,
                principal_type=chosen.principal_type,
                secret=secret,
                user_credential=chosen.route == "service_credential",
            )[1]

        with grants.client(t.vault, chosen.credential) as client:
            try:
                names = [p.name for p in client.list_properties_of_secrets()]
            except Exception as exc:
                s.add(f"list secrets in {t.vault.label}", FAIL, _short(exc), *advice(exc))
            else:
                shown = ", ".join(sorted(names)[:MAX_NAMES])
                more = " …" if len(names) > MAX_NAMES else ""
                s.add(
                    f"list secrets in {t.vault.label}",
                    OK,
                    f"{len(names)} secret(s): {shown or '(none)'}{more}",
                )
            for secret, users in t.secrets.items():
                label = f"read secret '{secret}' (used by {', '.join(users)})"
                try:
                    value = client.get_secret(secret).value or ""
                except Exception as exc:
                    s.add(label, FAIL, _short(exc), *advice(exc, secret))
                    continue
                register_secret(value)
                self._keys[(t.vault.url, secret)] = value
                s.add(
                    label,
                    OK if value else WARN,
                    "readable (value not shown)" if value else "the secret is empty",
                )

    # -- storage -----------------------------------------------------------------------------------
    def _check_container(self, s: Section, name: str, cfg: Any) -> None:
        from odibi_dbx.setup.storage import container_check

        label = f"{name}: container '{cfg.container}' in account '{cfg.account}'"
        if cfg.auth_mode == "key_vault":
            v = Vault.parse(cfg.key_vault_name or cfg.key_vault_url, url=cfg.key_vault_url)
            key = self._keys.get((v.url, cfg.secret_name))
            if key is None:
                s.add(
                    label,
                    SKIP,
                    f"not tested: the key '{cfg.secret_name}' could not be read from Key Vault",
                )
                return
        elif cfg.auth_mode == "secret_scope":
            key = self._scope_keys.get((cfg.secret_scope, cfg.secret_key))
            if key is None:
                s.add(
                    label,
                    SKIP,
                    f"not tested: the key '{cfg.secret_key}' could not be read from secret scope "
                    f"'{cfg.secret_scope}'",
                )
                return
        else:
            key = None  # direct_key: the connection has it
        status, detail, steps = container_check(name, cfg, key, self.info)
        s.add(label, status, detail, *steps)

    def _identity_steps(self, detail: str, route: str) -> list[str]:
        if MULTIPLE_IDENTITIES.lower() in detail.lower():
            return [
                "The VM has several user-assigned identities: name one by its client id.",
                "az identity show -g <workspace-managed-resource-group> -n dbmanagedidentity "
                "--query clientId -o tsv",
                "(managed resource group: az databricks workspace show -g <rg> -n <workspace> "
                "--query managedResourceGroupId -o tsv)",
                "then: odibi-dbx setup ... --client-id <client-id> (or set AZURE_CLIENT_ID)",
            ]
        if route == "service_credential":
            return [
                "Create it in Catalog Explorer > External data > Credentials (type: service "
                "credential, on an Access Connector for Azure Databricks), grant yourself "
                "ACCESS on it, then grant the connector's managed identity on the vault.",
                "On DBR < 16.2 service credentials are in preview (15.4 LTS) or unavailable.",
            ]
        if route == "default_credential" and self.info.kind == "databricks":
            return [
                "On Databricks: use dedicated (single-user) classic compute for the managed "
                "identity, or a Unity Catalog service credential (--service-credential)."
            ]
        if route == "developer_login":
            return ["Locally: run 'az login' (and 'az account set -s <subscription>'), then retry."]
        return []


def _short(exc: BaseException) -> str:
    err = getattr(exc, "error", None)  # azure-core's ODataV4Format: the service's own message
    msg = getattr(err, "message", None) or getattr(exc, "message", None) or str(exc)
    code = getattr(err, "code", None)
    inner = getattr(err, "innererror", None)
    if code and isinstance(inner, dict) and inner.get("code"):
        code = f"{code}/{inner['code']}"  # ForbiddenByRbac vs AccessDenied: the vault's model
    text = " ".join(str(msg).split())
    return f"{type(exc).__name__}{f' ({code})' if code else ''}: {text[:300]}"


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return (urlsplit(url).hostname or "").lower()


def run_checks(project: str | os.PathLike[str] | None = None, **kwargs: Any) -> Report:
    """Run every step and return the report (`report.ok`, `print(report)`)."""
    return Setup(project, **kwargs).run()
