"""Run the fakes in the foreground for notebooks and subprocess tests.

    python -m tests.azure_fakes.serve --tokens --keyvault --secrets adls-key=@azurite:odibitest1 \
        --azurite --claims oid=1111,appid=2222 [--json]

Prints the environment to use (`unset`/`export` lines, or one JSON object with --json), then a
line `# ready` (export mode) and serves until SIGTERM/SIGINT or until its parent process exits.
A secret value `@azurite:<account>` is replaced by that Azurite account's key.

JSON shape: {"env": {...}, "unset": [...], "tokens": {"url"}, "key_vault": {"url", "ca_path"},
             "azurite": {"blob_url", "pid", "ca_path", "accounts": {name: {"key", "blob_endpoint",
             "connection_string"}}}}
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
import threading
import time
from contextlib import ExitStack
from typing import Any


def _pairs(text: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in (text or "").split(","):
        if item.strip():
            k, sep, v = item.partition("=")
            if not sep:
                raise SystemExit(f"expected name=value, got {item!r}")
            out[k.strip()] = v
    return out


def _watch_parent(ppid: int) -> None:
    while os.getppid() == ppid:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)  # orphaned: do not outlive the test that started us


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tests.azure_fakes.serve",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--tokens", action="store_true", help="managed-identity token endpoint")
    p.add_argument("--keyvault", action="store_true", help="HTTPS Key Vault")
    p.add_argument("--azurite", action="store_true", help="Azurite blob service")
    p.add_argument("--secrets", help="name=value,... (value @azurite:<account> = that key)")
    p.add_argument("--secret", action="append", default=[], help="name=value (repeatable)")
    p.add_argument("--claims", help="token claims, e.g. oid=...,appid=...,tid=...")
    p.add_argument("--allowed-oids", help="comma list; other callers get 403")
    p.add_argument("--denied-shape", choices=("rbac", "access_policy"), default="rbac")
    p.add_argument(
        "--multiple-identities",
        action="store_true",
        help="IMDS answers 400 unless the request names an identity",
    )
    p.add_argument(
        "--token-credentials",
        default="ManagedIdentityCredential",
        help="AZURE_TOKEN_CREDENTIALS value (ManagedIdentityCredential or prod)",
    )
    p.add_argument("--accounts", default="odibitest1,odibitest2", help="Azurite account names")
    p.add_argument("--azurite-https", action="store_true", help="serve Azurite over TLS")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of exports")
    args = p.parse_args(argv)
    if not (args.tokens or args.keyvault or args.azurite):
        p.error("choose at least one of --tokens, --keyvault, --azurite")

    from .azurite import Azurite
    from .keyvault import KeyVault
    from .tokens import TokenEndpoint

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()

    info: dict[str, Any] = {"env": {}, "unset": []}
    with ExitStack() as stack:
        az = None
        if args.azurite:
            names = [n.strip() for n in args.accounts.split(",") if n.strip()]
            az = stack.enter_context(Azurite(names, https=args.azurite_https))
            info["env"].update(az.env)
            info["env"]["AZURITE_ACCOUNTS"] = az.accounts_env
            info["azurite"] = {
                "blob_url": az.blob_url,
                "pid": az.proc.pid if az.proc else None,
                "ca_path": str(az.ca_path) if az.ca_path else None,
                "accounts": {
                    n: {
                        "key": a.key,
                        "blob_endpoint": a.blob_endpoint,
                        "connection_string": a.connection_string,
                    }
                    for n, a in az.accounts.items()
                },
            }
        if args.tokens:
            claims = _pairs(args.claims)
            t = stack.enter_context(
                TokenEndpoint(
                    claims,
                    multiple_identities=args.multiple_identities,
                    credentials=args.token_credentials,
                )
            )
            info["env"].update(t.env)
            info["unset"] = list(t.unset_env)
            info["tokens"] = {"url": t.url}
        if args.keyvault:
            secrets = _pairs(args.secrets)
            secrets.update(_pairs(",".join(args.secret)) if args.secret else {})
            for name, value in secrets.items():
                if value.startswith("@azurite:"):
                    if az is None:
                        p.error(f"secret {name}: {value} needs --azurite")
                    secrets[name] = az.keys[value.split(":", 1)[1]]
            oids = [o for o in (args.allowed_oids or "").split(",") if o] or None
            kv = stack.enter_context(
                KeyVault(secrets, allowed_oids=oids, denied_shape=args.denied_shape)
            )
            info["env"].update(kv.env)
            info["env"]["ODIBI_TEST_KEY_VAULT_URL"] = kv.url
            info["key_vault"] = {"url": kv.url, "ca_path": str(kv.ca_path)}
            if az is not None and az.ca_path:
                # one bundle trusting both local CAs
                bundle = kv.ca_path.parent / "ca-bundle.pem"
                bundle.write_bytes(kv.ca_path.read_bytes() + az.ca_path.read_bytes())
                info["env"].update(REQUESTS_CA_BUNDLE=str(bundle), SSL_CERT_FILE=str(bundle))

        if args.json:
            print(json.dumps(info), flush=True)
        else:
            for name in info["unset"]:
                print(f"unset {name}")
            for k, v in info["env"].items():
                print(f"export {k}={shlex.quote(v)}")
            print("# ready", flush=True)
        try:
            while True:
                signal.pause()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
