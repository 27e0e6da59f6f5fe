"""Key Vault fetch benchmark: 8 key_vault connections vs 1, 200 ms latency injected per secret.

    .venv/bin/python bench/kv_bench.py [--connections 8] [--latency 0.2] [--repeats 5]

Runs the real azure-identity / azure-keyvault-secrets clients against the local fakes (token
endpoint + HTTPS Key Vault from tests/azure_fakes), served from a child process so the fakes do
not compete with the client for the GIL (a real vault is remote too). Fetching is parallel, so N
secrets should cost about one round trip: prints the medians and the ratio (target <= 1.5x).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# the fakes, in a child process: prints one JSON line, serves until stdin closes
_SERVE = """
import json, sys
from tests.azure_fakes import KeyVault, TokenEndpoint
n, latency = int(sys.argv[1]), float(sys.argv[2])
with TokenEndpoint() as t, KeyVault() as kv:
    for i in range(n):
        kv.set_secret(f"key-{i}", f"account-key-value-{i:04d}")
    kv.inject("latency", seconds=latency)
    print(json.dumps({"env": t.env, "unset": list(t.unset_env), "url": kv.url,
                      "ca": str(kv.ca_path)}), flush=True)
    sys.stdin.read()
    print(json.dumps({"requests": kv.count("get")}), flush=True)
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--latency", type=float, default=0.2, help="seconds per secret request")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--target", type=float, default=1.5)
    args = ap.parse_args()

    from odibi_dbx.connections.adls import AdlsConnection, AdlsConnectionConfig
    from odibi_dbx.connections.secrets import fetch_all

    child = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(args.connections), str(args.latency)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        info = json.loads(child.stdout.readline())
        for name in info["unset"]:
            os.environ.pop(name, None)
        os.environ.update(info["env"])
        os.environ["REQUESTS_CA_BUNDLE"] = info["ca"]
        url = info["url"]

        def connections(n: int) -> list[AdlsConnection]:
            return [
                AdlsConnection(
                    f"lake{i}",
                    AdlsConnectionConfig(
                        type="azure_adls",
                        account=f"acct{i}",
                        container="data",
                        key_vault_url=url,
                        secret_name=f"key-{i}",
                    ),
                )
                for i in range(n)
            ]

        def timed(n: int) -> float:
            conns = connections(n)  # fresh connections and credential: a new run each time
            t0 = time.perf_counter()
            fetch_all(conns)
            elapsed = time.perf_counter() - t0
            assert all(not c.needs_secret for c in conns)
            return elapsed

        timed(1)  # warm imports
        one = statistics.median(timed(1) for _ in range(args.repeats))
        many = statistics.median(timed(args.connections) for _ in range(args.repeats))
        child.stdin.close()
        requests = json.loads(child.stdout.readline())["requests"]
    finally:
        if not child.stdin.closed:  # failed before the normal shutdown
            child.kill()
        child.wait(timeout=30)
    ratio = many / one
    print(
        f"Key Vault fetch, {args.latency * 1000:.0f} ms latency per secret, median of "
        f"{args.repeats}:"
    )
    print(f"  1 secret   {one * 1000:7.1f} ms")
    print(
        f"  {args.connections} secrets  {many * 1000:7.1f} ms   "
        f"(sequential would be >= {args.connections * args.latency * 1000:.0f} ms)"
    )
    print(
        f"  ratio {ratio:.2f}x (target <= {args.target}x)  "
        f"{'OK' if ratio <= args.target else 'OVER TARGET'}  [{requests} secret requests]"
    )
    return 0 if ratio <= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
