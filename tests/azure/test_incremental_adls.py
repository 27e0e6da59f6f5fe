"""Incremental state on ADLS (Azurite), Pandas engine: the sidecar state file beside csv/parquet
outputs and the commit metadata of a Delta target; the second run reads only the new rows."""

from __future__ import annotations

import pytest

from tests.azure.adls_project import uid, write_project

pytestmark = pytest.mark.azure


def _blob_names(acct, container: str) -> list[str]:
    client = acct.blob_service_client().get_container_client(container)
    return sorted(b.name for b in client.list_blobs())


def test_incremental_state_on_adls_targets(storage_accounts, monkeypatch, tmp_path):
    import adlfs
    import pyarrow.dataset as ds
    from deltalake import DeltaTable

    from odibi_dbx import Project

    acct = storage_accounts[0]
    container = uid("incr")
    acct.create_container(container)
    monkeypatch.setenv("LAKE_KEY", acct.key)
    src = tmp_path / "src"
    src.mkdir()
    (src / "b1.csv").write_text("id,ts\n1,2025-01-01 10:00:00\n2,2025-01-01 11:00:00\n")
    path = write_project(
        tmp_path,
        f"""
        project: incremental on adls
        connections:
          local: {{type: local, base_path: .}}
          lake: {{type: azure_adls, account: {acct.name}, container: {container},
                  path_prefix: silver, auth_mode: direct_key, account_key: "${{LAKE_KEY}}",
                  endpoint: "{acct.blob_endpoint}"}}
        story: {{connection: local, path: stories/, max_sample_rows: 0}}
        retry: {{enabled: false}}
        pipelines:
          - pipeline: p
            nodes:
              - name: load
                read: {{connection: local, path: src, format: csv, incremental: {{column: ts}}}}
              - name: to_parquet
                depends_on: [load]
                write: {{connection: lake, path: orders_parquet, format: parquet, mode: append}}
              - name: to_csv
                depends_on: [load]
                write: {{connection: lake, path: orders_csv, format: csv, mode: append}}
              - name: to_delta
                depends_on: [load]
                write: {{connection: lake, path: orders_delta, format: delta, mode: append}}
        """,
    )
    with Project.load(path, engine="pandas") as p:
        first = p.run()
    assert first.ok, [n.error_message for n in first.nodes]
    assert first.node("load").incremental["rows_read"] == 2
    names = _blob_names(acct, container)
    # the state of the file outputs sits beside them; the Delta one is in its commit
    assert "silver/.orders_parquet.odibi-incremental.json" in names
    assert "silver/.orders_csv.odibi-incremental.json" in names
    delta = DeltaTable(
        acct.abfss(container, "silver/orders_delta"), storage_options=acct.delta_options()
    )
    assert "p.load" in delta.history(1)[0]["userMetadata"]

    (src / "b2.csv").write_text("id,ts\n3,2025-01-01 12:00:00\n")
    with Project.load(path, engine="pandas") as p:
        second = p.run()  # each target's state is read from ADLS; a missing one fails the node
    assert second.ok, [n.error_message for n in second.nodes]
    inc = second.node("load").incremental
    assert inc["before"].startswith("2025-01-01T11:00:00")
    assert inc["rows_read"] == 1  # only the new row
    delta = DeltaTable(
        acct.abfss(container, "silver/orders_delta"), storage_options=acct.delta_options()
    )
    assert sorted(delta.to_pyarrow_table(columns=["id"])["id"].to_pylist()) == [1, 2, 3]
    fs = adlfs.AzureBlobFileSystem(**acct.adlfs_options())
    for name, fmt in (("orders_parquet", "parquet"), ("orders_csv", "csv")):
        ids = ds.dataset(f"{container}/silver/{name}", format=fmt, filesystem=fs).to_table(
            columns=["id"]
        )
        assert sorted(ids["id"].to_pylist()) == [1, 2, 3], name
