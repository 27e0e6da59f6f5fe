"""Helpers for the Databricks onboarding tests."""

from __future__ import annotations

from pathlib import Path


def adls_project(
    path: Path,
    vault_url: str,
    *,
    account: str = "odibitest1",
    container: str = "raw",
    secret: str = "adls-key",
    endpoint: str | None = None,
    extra: str = "",
) -> Path:
    """A project with one key_vault ADLS connection (vault named kv-odibi-test, reached by URL)."""
    path.mkdir(parents=True, exist_ok=True)
    ep = f"\n    endpoint: {endpoint}" if endpoint else ""
    text = f"""\
project: Setup Test
connections:
  local: {{type: local, base_path: ./data}}
  lake:
    type: azure_adls
    account: {account}
    container: {container}
    key_vault_name: kv-odibi-test
    key_vault_url: {vault_url}
    secret_name: {secret}{ep}
{extra}story: {{connection: local, path: stories/}}
pipelines:
  - pipeline: p
    nodes:
      - name: a
        read: {{connection: local, path: a.csv}}
"""
    f = path / "project.yaml"
    f.write_text(text, encoding="utf-8")
    return f


def run_notebook(path: Path, env: dict[str, str], cwd: Path, timeout: int = 300):
    """Execute a copy of a notebook with nbmake (`pytest --nbmake --overwrite`) in a kernel whose
    environment is exactly `env`. Returns (executed notebook, error text or None)."""
    import shutil
    import subprocess
    import sys

    import nbformat

    path = Path(path)
    copy = Path(cwd) / f"executed_{path.name}"
    shutil.copy(path, copy)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbmake",
            "--overwrite",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--nbmake-timeout={timeout}",
            "--rootdir",
            str(cwd),
            str(copy),
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout + 120,
    )
    nb = nbformat.read(copy, as_version=4)
    return nb, (None if proc.returncode == 0 else proc.stdout[-4000:] + proc.stderr[-2000:])


def notebook_text(nb) -> str:
    """Every stream, text/plain, text/html and error output of a notebook, joined."""
    parts: list[str] = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out["text"])
            elif out.get("output_type") == "error":
                parts.append(f"{out['ename']}: {out['evalue']}")
            else:
                data = out.get("data", {})
                parts += [data.get("text/plain", ""), data.get("text/html", "")]
    return "\n".join(parts)
