"""CSV types inferred as Spark infers them: INT when every value of a whole-number column fits,
BIGINT otherwise, judged on the whole file, also when the value beyond INT comes long after
the first rows (the Pandas engine judges on the first rows and settles exactly when a later
value proves it wrong). Through the CLI as a user runs it."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from tests.conftest import write

PROJECT = """
project: CSV ints
connections:
  data: {type: local, base_path: ./data}
  lake: {type: local, base_path: ./lake}
story: {connection: lake, path: stories/}
retry: {enabled: false}
pipelines:
  - pipeline: p
    nodes:
      - name: copied
        read: {connection: data, path: big.csv, format: csv, options: {header: true}}
        write: {connection: lake, path: copied, format: parquet}
      - {name: src, read: {connection: data, path: big.csv, format: csv, options: {header: true}}}
      - name: summed
        depends_on: [src]
        transform: {steps: ["SELECT id, n, n + 1 AS m FROM src"]}
        write: {connection: lake, path: summed, format: parquet}
"""


@pytest.mark.parametrize("last", [7, 3_000_000_000])
def test_csv_ints_are_int_only_when_every_value_fits(tmp_path, cli, last):
    rows = 30_000  # more than the first rows the Pandas engine judges on
    ids = [*range(1, rows), last]
    write(tmp_path / "data" / "big.csv", "id,n\n" + "".join(f"{i},{i % 5}\n" for i in ids))
    write(tmp_path / "project.yaml", PROJECT)
    got = cli("run", "project.yaml", cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    wide = last > 2**31 - 1
    for out in ("copied", "summed"):
        table = pq.read_table(tmp_path / "lake" / out)
        assert str(table.schema.field("id").type) == ("int64" if wide else "int32"), out
        assert str(table.schema.field("n").type) == "int32", out
        assert sorted(table.column("id").to_pylist()) == sorted(ids), out
