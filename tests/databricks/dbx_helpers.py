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
    """Execute a notebook with nbclient in a kernel whose environment is exactly `env`.
    Returns (notebook, error or None); outputs are kept either way."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        return nb, exc
    return nb, None


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
