"""The Pandas engine on ADLS (Azurite): several accounts, Key Vault + direct key, CLI end to end."""

from __future__ import annotations

import io

import pytest

from odibi_dbx.engines import pandas_io, pandas_remote
from odibi_dbx.engines.base import ReadSpec, WriteSpec
from tests.azure.adls_project import (
    container_connection,
    key_connection,
    run_cli,
    uid,
    write_project,
)

pytestmark = pytest.mark.azure

ORDERS = (
    "order_id,amount,region,day\n1,10.5,EU,2024-01-02\n2,-3,US,2024-01-03\n3,7.25,EU,2024-02-01\n"
)


def _blobs(acct, container: str) -> list[str]:
    """The container's blobs, without the write locks (`.<name>.odibi-lock`, see connections/adls_blob)."""
    client = acct.blob_service_client().get_container_client(container)
    return sorted(b.name for b in client.list_blobs() if not b.name.endswith(".odibi-lock"))


def _download(acct, container: str, name: str) -> bytes:
    return acct.blob_service_client().get_blob_client(container, name).download_blob().readall()


def test_multi_account_project_via_cli(token_endpoint, key_vault, storage_accounts, tmp_path):
    import pandas as pd
    from deltalake import DeltaTable

    a, b = storage_accounts
    bronze, silver = uid("bronze"), uid("silver")
    a.create_container(bronze)
    b.create_container(silver)
    key_vault.set_secret("bronze-key", a.key)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "orders.csv").write_text(ORDERS)
    path = write_project(
        tmp_path,
        f"""
        project: two lakes
        engine: pandas
        connections:
          raw: {{type: local, base_path: ./data}}
          out: {{type: local, base_path: ./out}}
          bronze:                      # account 1, key from Key Vault (fake IMDS + fake vault)
            type: azure_adls
            account: {a.name}
            container: {bronze}
            path_prefix: sales/
            key_vault_url: "{key_vault.url}"
            secret_name: bronze-key
            endpoint: "{a.blob_endpoint}"
          silver:                      # account 2, direct key from the environment
            type: azure_adls
            account: {b.name}
            container: {silver}
            auth_mode: direct_key
            account_key: ${{SILVER_KEY}}
            endpoint: "{b.blob_endpoint}"
        story: {{connection: out, path: stories/}}
        pipelines:
          - pipeline: to_bronze
            nodes:
              - {{name: raw, read: {{connection: raw, path: orders.csv}}}}
              - name: bronze_parquet
                depends_on: [raw]
                write: {{connection: bronze, path: orders, format: parquet}}
              - name: bronze_csv
                depends_on: [raw]
                write: {{connection: bronze, path: orders_csv, format: csv}}
          - pipeline: to_silver
            nodes:
              - {{name: b, read: {{connection: bronze, path: orders, format: parquet}}}}
              - {{name: bc, read: {{connection: bronze, path: orders_csv, format: csv}}}}
              - name: clean
                depends_on: [b, bc]
                transform:
                  steps:
                    - "SELECT b.order_id, b.amount, b.region, bc.day FROM b
                       JOIN bc ON b.order_id = bc.order_id WHERE b.amount > 0"
              - name: silver_delta
                depends_on: [clean]
                write: {{connection: silver, path: orders_delta, format: delta}}
              - name: silver_parquet
                depends_on: [clean]
                write: {{connection: silver, path: orders_parquet, format: parquet,
                         partition_by: [region]}}
          - pipeline: gold
            nodes:
              - {{name: d, read: {{connection: silver, path: orders_delta, format: delta}}}}
              - name: by_region
                depends_on: [d]
                transform: {{steps: ["SELECT region, SUM(amount) AS total FROM d GROUP BY region"]}}
                write: {{connection: bronze, path: gold/by_region, format: json}}
    """,
    )
    env = token_endpoint.env_for_subprocess()
    env.update(REQUESTS_CA_BUNDLE=str(key_vault.ca_path), SILVER_KEY=b.key)
    for run in (1, 2):  # the second run overwrites every output in place
        r = run_cli(["run", str(path)], env, tmp_path.parent)
        assert r.returncode == 0, r.stdout + r.stderr
        assert f"abfss://{bronze}@{a.name}.dfs.core.windows.net/sales/orders (3 rows)" in r.stdout
        assert f"abfss://{silver}@{b.name}.dfs.core.windows.net/orders_delta (2 rows)" in r.stdout
        assert key_vault.count("get", "bronze-key") == run  # once per run

    # account 1 holds bronze + gold only, one generation of part files, no staging left over
    names_a = _blobs(a, bronze)
    assert all(
        n.startswith(("sales/orders/", "sales/orders_csv/", "sales/gold/by_region/"))
        for n in names_a
    ), names_a
    assert len([n for n in names_a if n.startswith("sales/orders/")]) == 1
    assert not [n for n in names_a + _blobs(b, silver) if "odibi-tmp" in n]
    csv_name = next(n for n in names_a if n.startswith("sales/orders_csv/"))
    assert pd.read_csv(io.BytesIO(_download(a, bronze, csv_name)))["order_id"].tolist() == [1, 2, 3]
    gold = next(n for n in names_a if n.startswith("sales/gold/"))
    totals = pd.read_json(io.BytesIO(_download(a, bronze, gold)), lines=True)
    assert totals.set_index("region")["total"].to_dict() == {"EU": 17.75}

    # account 2: Delta (two versions: one per run) and a partitioned parquet folder
    dt = DeltaTable(b.abfss(silver, "orders_delta"), storage_options=b.delta_options())
    assert dt.version() == 1
    assert dt.to_pandas().sort_values("order_id")["order_id"].tolist() == [1, 3]
    parts = [n for n in _blobs(b, silver) if n.startswith("orders_parquet/")]
    assert parts and all(n.startswith("orders_parquet/region=EU/") for n in parts)
    back = pd.read_parquet(b.abfss(silver, "orders_parquet"), storage_options=b.adlfs_options())
    assert sorted(back["amount"].tolist()) == [7.25, 10.5]
    with pytest.raises(Exception):  # noqa: B017 - silver data never landed on account 1
        a.blob_service_client().get_container_client(silver).get_container_properties()


@pytest.fixture
def engine():
    from odibi_dbx.engines.pandas import PandasEngine

    e = PandasEngine()
    e.start()
    yield e
    e.stop()


def _frame(engine, sql: str):
    from odibi_dbx.engines.pandas import DuckFrame

    name = f"t_{uid('')}"
    engine.con.execute(f'CREATE TABLE "{name}" AS {sql}')
    return DuckFrame(f'"{name}"', table=True)


def _read_sql(engine, spec: ReadSpec) -> str:
    """The SELECT the Pandas engine reads a file spec with (remote files fetched first)."""
    source, opts = pandas_io.source(engine, spec)
    return pandas_io.format_sql(engine, spec.format, source, opts, spec.schema)


def _rows(engine, spec: ReadSpec):
    return engine.con.execute(f"{_read_sql(engine, spec)} ORDER BY ALL").fetchall()


def _values(engine, spec: ReadSpec, col: str) -> set:
    rows = engine.con.execute(f"SELECT {col} FROM ({_read_sql(engine, spec)})").fetchall()
    return {r[0] for r in rows}


def test_csv_inference_matches_local(engine, storage_accounts, tmp_path):
    from odibi_dbx.connections.local import LocalConnection, LocalConnectionConfig

    acct = storage_accounts[0]
    container = uid("csv")
    acct.create_container(container)
    text = ORDERS + '4,,"A, B",2024-03-04\n'
    (tmp_path / "o.csv").write_text(text)
    acct.blob_service_client().get_blob_client(container, "in/o.csv").upload_blob(text.encode())
    local = LocalConnection("l", LocalConnectionConfig(type="local", base_path="."), tmp_path)
    remote = key_connection(
        "r", acct.name, acct.key, container=container, endpoint=acct.blob_endpoint
    )
    types = []
    for conn, path in ((local, "o.csv"), (remote, "in/o.csv")):
        spec = ReadSpec(node="n", connection=conn, format="csv", path=path)
        types.append(engine.con.execute(f"DESCRIBE {_read_sql(engine, spec)}").fetchall())
    assert types[0] == types[1]
    assert _rows(engine, ReadSpec("n", remote, "csv", "in/o.csv")) == _rows(
        engine, ReadSpec("n", local, "csv", "o.csv")
    )


def test_two_accounts_in_one_engine(engine, storage_accounts):
    """Connections with different keys used side by side never pick up each other's key."""
    conns, container = [], uid("two")
    for i, acct in enumerate(storage_accounts):
        acct.create_container(container)
        conn = key_connection(
            f"c{i}", acct.name, acct.key, container=container, endpoint=acct.blob_endpoint
        )
        frame = _frame(engine, f"SELECT {i} AS acct, range AS x FROM range(5)")
        pandas_io.write(engine, frame, WriteSpec("w", conn, "parquet", path="t"))
        conns.append(conn)
    for i, conn in enumerate(conns):
        rows = _rows(engine, ReadSpec("r", conn, "parquet", "t"))
        assert {r[0] for r in rows} == {i} and len(rows) == 5


def test_failed_write_leaves_previous_output(engine, storage_accounts, monkeypatch):
    acct = storage_accounts[1]
    conn, container = container_connection(acct, "atomic")
    spec = WriteSpec("w", conn, "csv", path="out", partition_by=("p",), run_id="r1")
    pandas_io.write(engine, _frame(engine, "SELECT range % 3 AS p, 'old' AS v FROM range(9)"), spec)
    before = _blobs(acct, container)
    assert len(before) == 3

    from odibi_dbx.connections import adls_blob

    real_copy, calls = adls_blob._copy_blob, []

    def flaky(service, src, dst):  # the second server-side copy fails
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("injected copy failure")
        real_copy(service, src, dst)

    monkeypatch.setattr(adls_blob, "_copy_blob", flaky)
    new = _frame(engine, "SELECT range % 3 AS p, 'new' AS v FROM range(9)")
    with pytest.raises(OSError, match="injected"):
        pandas_io.write(
            engine, new, WriteSpec("w", conn, "csv", path="out", partition_by=("p",), run_id="r2")
        )
    assert _blobs(acct, container) == before  # no staging, no half-copied part, old intact
    monkeypatch.undo()

    def broken_put(*a, **k):
        raise ConnectionError("injected upload failure")

    fs = conn.filesystem()
    assert conn.filesystem() is fs  # fsspec caches instances: the write gets this one
    monkeypatch.setattr(fs, "put", broken_put)
    with pytest.raises(ConnectionError):
        pandas_io.write(engine, new, WriteSpec("w", conn, "csv", path="out", run_id="r3"))
    monkeypatch.undo()
    assert _blobs(acct, container) == before
    assert _values(engine, ReadSpec("r", conn, "csv", "out"), "v") == {"old"}

    pandas_io.write(engine, new, WriteSpec("w", conn, "csv", path="out", run_id="r4"))
    assert _values(engine, ReadSpec("r", conn, "csv", "out"), "v") == {"new"}
    pandas_io.write(
        engine, new, WriteSpec("w", conn, "csv", path="out", mode="append", run_id="r5")
    )
    assert len(_rows(engine, ReadSpec("r", conn, "csv", "out"))) == 18
    assert not [n for n in _blobs(acct, container) if "odibi-tmp" in n]


def test_missing_remote_path_is_explained(engine, storage_accounts):
    acct = storage_accounts[0]
    conn, container = container_connection(acct, "miss")
    with pytest.raises(
        FileNotFoundError,
        match=rf"abfss://{container}@.*/nope does not exist "
        r"\(connection 'lake'\)",
    ):
        _read_sql(engine, ReadSpec("r", conn, "parquet", "nope"))


def test_user_storage_options_merge():
    conn = key_connection("lake", "acct", "a2V5LWZvci1tZXJnZS10ZXN0LTAxMjM0NTY3", container="c")
    spec = WriteSpec(
        "w",
        conn,
        "csv",
        path="x",
        options={"header": True, "storage_options": {"max_concurrency": 2, "timeout": 30}},
    )
    fmt, user = pandas_remote.split_options(spec)
    assert fmt == {"header": True}
    merged = pandas_remote.storage_options(conn, user)
    assert merged["max_concurrency"] == 2 and merged["account_name"] == "acct"
    assert pandas_remote.delta_options(conn, user)["timeout"] == "30"
    bad = WriteSpec("w", conn, "csv", path="x", options={"storage_options": {"account_key": "k"}})
    with pytest.raises(ValueError, match="credentials come from connection 'lake'"):
        pandas_remote.split_options(bad)


def test_append_with_another_schema_is_refused_before_uploading(engine, storage_accounts):
    from odibi_dbx.engines.schema_check import SchemaMismatch

    acct = storage_accounts[0]
    conn, container = container_connection(acct, "append")
    old = _frame(engine, "SELECT range % 2 AS p, range AS v FROM range(4)")
    pandas_io.write(engine, old, WriteSpec("w", conn, "parquet", path="t", partition_by=("p",)))
    before = _blobs(acct, container)
    wider = _frame(engine, "SELECT range % 2 AS p, CAST(range AS DOUBLE) * 1.5 AS v FROM range(4)")
    spec = WriteSpec("w", conn, "parquet", path="t", mode="append", partition_by=("p",))
    with pytest.raises(SchemaMismatch, match="column 'v' is double, the target has bigint"):
        pandas_io.write(engine, wider, spec)
    assert _blobs(acct, container) == before
    pandas_io.write(engine, old, spec)  # the same schema appends
    assert len(_rows(engine, ReadSpec("r", conn, "parquet", "t"))) == 8


def test_one_writer_per_output_and_killed_runs_staging_is_removed(engine, storage_accounts):
    from odibi_dbx.errors import NodeError

    acct = storage_accounts[0]
    conn, container = container_connection(acct, "lock")
    client = acct.blob_service_client().get_container_client(container)
    client.upload_blob("out/.t.odibi-tmp-killedrun-abc123/part-0.parquet", b"debris")
    frame = _frame(engine, "SELECT range AS v FROM range(3)")
    spec = WriteSpec("w", conn, "parquet", path="out/t", run_id="r1")
    engine.write(frame, spec)  # Engine.write holds the connection's writer lock
    names = _blobs(acct, container)
    assert not [n for n in names if "odibi-tmp" in n], names  # the killed run's staging is gone
    assert client.get_blob_client("out/.t.odibi-lock").exists()
    other = client.get_blob_client("out/.t.odibi-lock").acquire_lease(lease_duration=15)
    try:
        with pytest.raises(NodeError, match="being written by another writer") as err:
            engine.write(frame, WriteSpec("w", conn, "parquet", path="out/t"))
        assert err.value.__cause__.hint.startswith("another run (or node) is writing")
    finally:
        other.release()
    engine.write(frame, WriteSpec("w", conn, "parquet", path="out/t", mode="append"))
    assert len(_rows(engine, ReadSpec("r", conn, "parquet", "out/t"))) == 6


def test_what_classic_spark_left_mid_swap_on_adls_is_kept_until_it_can_be_put_back(
    engine, storage_accounts
):
    """A classic Spark overwrite on abfss:// killed between its two renames leaves the previous
    output aside (`.t.odibi-old-*`) and none at the target. The blob API cannot rename it back:
    a Pandas write of that output is refused, saying where the previous output is (writing
    would make the aside copy look like one left after a completed swap). Once the output is
    back, the next write removes what is left beside it."""
    from odibi_dbx.errors import NodeError

    acct = storage_accounts[0]
    conn, container = container_connection(acct, "halfswap")
    client = acct.blob_service_client().get_container_client(container)
    frame = _frame(engine, "SELECT range AS v FROM range(3)")
    spec = WriteSpec("w", conn, "parquet", path="out/t", run_id="r1")
    engine.write(frame, spec)
    aside = "out/.t.odibi-old-killedrun-abc123"
    for name in _blobs(acct, container):  # what the killed run's first rename did
        if name.startswith("out/t/"):
            client.get_blob_client(f"{aside}/{name[len('out/t/') :]}").upload_blob(
                _download(acct, container, name)
            )
            client.delete_blob(name)
    client.upload_blob("out/.t.odibi-tmp-killedrun-abc123/part-0.parquet", b"staged")
    before = _blobs(acct, container)
    with pytest.raises(NodeError, match=r"out/t has no output: an interrupted overwrite") as err:
        engine.write(frame, WriteSpec("w", conn, "parquet", path="out/t", mode="append"))
    assert f"left the previous output at {container}/{aside}," in str(err.value)
    assert err.value.hint.startswith("run on classic Spark compute (its Hadoop FS moves")
    assert _blobs(acct, container) == before  # nothing written, nothing removed
    for name in before:  # the user moves it back
        if name.startswith(f"{aside}/"):
            client.get_blob_client(f"out/t/{name[len(aside) + 1 :]}").upload_blob(
                _download(acct, container, name)
            )
    engine.write(frame, WriteSpec("w", conn, "parquet", path="out/t", mode="append"))
    assert not [n for n in _blobs(acct, container) if ".odibi-" in n]
    assert len(_rows(engine, ReadSpec("r", conn, "parquet", "out/t"))) == 6
