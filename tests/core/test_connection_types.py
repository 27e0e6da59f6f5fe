"""A new connection type is one module plus one registry entry: this test module is that module.

`ToyFolderConnection` (type `toy_folder`: a folder on the driver, like `local`, with its own
field names) holds its config model, credentials, writer lock and URIs; it is registered by one
call, and a project then validates and runs through it on the Pandas engine, story included,
with no other file changed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar, Literal

import pandas as pd
import pytest
from pydantic import SecretStr

from odibi_dbx import registry
from odibi_dbx.cli import main
from odibi_dbx.config.base import ConnectionModel
from odibi_dbx.connections import local_lock
from odibi_dbx.connections.base import Connection
from tests.conftest import write


class ToyFolderConfig(ConnectionModel):
    type: Literal["toy_folder"]
    folder: str
    token: SecretStr | None = None  # a secret field: the literal-secret rule covers it too
    secret_hint = "or leave token out"


class ToyFolderConnection(Connection):
    type = "toy_folder"
    config_model = ToyFolderConfig
    locked: ClassVar[list[str]] = []  # what write_lock was asked for (the engine must ask the type)

    def __init__(self, name: str, config: ToyFolderConfig, base_dir: Path):
        super().__init__(name)
        self.root = (base_dir / config.folder).resolve()

    @property
    def is_local(self) -> bool:
        return True

    def uri(self, path: str) -> str:
        return str(self.root / path)

    @contextlib.contextmanager
    def write_lock(self, path: str, owner: str) -> Iterator[None]:
        self.locked.append(path)
        with local_lock.locked(Path(self.uri(path)), owner):
            yield


@pytest.fixture
def toy_type() -> Iterator[None]:
    registry.register_connection_type("toy_folder", f"{__name__}:ToyFolderConnection")
    ToyFolderConnection.locked.clear()
    yield
    del registry.CONNECTION_TYPES["toy_folder"]
    from odibi_dbx.config.models import refresh_connection_types

    refresh_connection_types()


PROJECT = """
project: toy
connections:
  box: {type: toy_folder, folder: box}
story: {connection: box, path: stories/}
pipelines:
  - pipeline: bronze
    nodes:
      - {name: raw, read: {connection: box, path: in/orders.csv}}
      - name: orders
        depends_on: [raw]
        transform: {steps: ["SELECT order_id, amount FROM raw WHERE amount > 0"]}
        write: {connection: box, path: bronze/orders.parquet}
  - pipeline: gold
    nodes:
      - {name: orders, read: {connection: box, path: bronze/orders.parquet}}
      - name: total
        depends_on: [orders]
        transform: {steps: ["SELECT count(*) AS n, sum(amount) AS amount FROM orders"]}
        write: {connection: box, path: gold/total.parquet}
"""


def test_a_registered_type_runs_a_project_on_pandas(toy_type, tmp_path, capsys):
    write(tmp_path / "box" / "in" / "orders.csv", "order_id,amount\n1,5.5\n2,-1.0\n3,7.25\n")
    project = write(tmp_path / "project.yaml", PROJECT)
    assert main(["run", str(project), "--engine", "pandas"]) == 0, capsys.readouterr()
    total = pd.read_parquet(tmp_path / "box" / "gold" / "total.parquet")
    assert total.to_dict("records") == [{"n": 2, "amount": 12.75}]
    assert {"bronze/orders.parquet", "gold/total.parquet"} <= set(ToyFolderConnection.locked)
    assert list((tmp_path / "box" / "stories").glob("*.json"))  # the story went there too


def test_a_registered_type_is_validated_by_its_own_model(toy_type, tmp_path, capsys):
    text = PROJECT.replace("folder: box}", "folder: box, fodler: x, token: s3cr3t}")
    assert main(["validate", str(write(tmp_path / "project.yaml", text))]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'fodler'" in err and "did you mean 'folder'" in err
    assert "a literal token in YAML is not allowed" in err and "or leave token out" in err
    assert "s3cr3t" not in err


def test_an_unknown_type_lists_the_registered_ones(toy_type, tmp_path, capsys):
    text = PROJECT.replace("type: toy_folder", "type: toy_fodler")
    assert main(["validate", str(write(tmp_path / "project.yaml", text))]) == 2
    err = capsys.readouterr().err
    assert "unknown connection type 'toy_fodler'" in err and "toy_folder" in err


def test_the_config_layer_reaches_connection_modules_but_no_engine():
    """The union is built from the registered connection modules (imported through the
    registry), which import no engine and no optional library."""
    import subprocess
    import sys

    code = (
        "import sys, odibi_dbx.config.models\n"
        "heavy = ('odibi_dbx.engines', 'pyspark', 'duckdb', 'pandas', 'azure', 'fsspec')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
        "print('odibi_dbx.connections.adls' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "True"], out.stdout + out.stderr
