"""One writer per ADLS output on the Spark engine too: `Engine.write` holds the connection's
blob lease (connections/adls_blob, through the Azure SDK with the connection's key) around
Spark's write, the same lease the Pandas engine takes.

Spark itself cannot reach Azurite here (PyPI pyspark has no hadoop-azure, and Azurite has no dfs
endpoint), so Spark's own abfss write fails after the lock; what is tested against Azurite is the
lock around it: taken before Spark writes, refusing a concurrent writer (the Pandas engine) while
Spark holds it, refusing Spark while another writer holds it, and released after.
"""

from __future__ import annotations

import threading

import pytest

from odibi_dbx.engines.base import WriteSpec
from odibi_dbx.engines.spark import SparkEngine, SparkFrame
from odibi_dbx.errors import NodeError
from tests.azure.adls_project import container_connection

pytestmark = [pytest.mark.azure, pytest.mark.spark]


class PausingSparkEngine(SparkEngine):
    """The real Spark engine; its write waits for `go` after noting the lock blob's lease."""

    def __init__(self, lock_blob, **kw):
        super().__init__(**kw)
        self.lock_blob, self.go, self.writing = lock_blob, threading.Event(), threading.Event()
        self.lease_state = None

    def output_folders(self, connection, path):
        # the repair under the lock goes through the session's Hadoop FS on classic compute,
        # which has no abfss:// here (no hadoop-azure): the connection's blob folders instead
        return connection.folders(path)

    def _write(self, frame, spec):
        self.lease_state = self.lock_blob.get_blob_properties().lease.state
        self.writing.set()
        assert self.go.wait(60)
        return super()._write(frame, spec)


def test_spark_writes_to_adls_hold_the_blob_lease(spark, storage_accounts):
    from odibi_dbx.engines.pandas import DuckFrame, PandasEngine

    acct = storage_accounts[0]
    conn, container = container_connection(acct, "sparklock")
    lock_blob = acct.blob_service_client().get_blob_client(container, "out/.t.odibi-lock")
    engine = PausingSparkEngine(lock_blob, connections={"lake": conn}, spark=spark)
    engine.start()
    pandas = PandasEngine(connections={"lake": conn})
    pandas.start()
    try:
        frame = SparkFrame(spark.range(3))
        spec = WriteSpec("orders", conn, "parquet", path="out/t", run_id="r1")
        # another writer holds the output: Spark is refused before it writes anything
        with conn.write_lock("out/t", "run other, node orders"):
            with pytest.raises(NodeError, match=r"another writer \(run other, node orders\)"):
                engine.write(frame, spec)
        assert engine.lease_state is None  # Spark's write never started
        # Spark holds it: a concurrent Pandas writer of the same output is refused
        failed: list[BaseException] = []

        def spark_write() -> None:
            try:
                engine.write(frame, spec)
            except BaseException as exc:
                failed.append(exc)

        writer = threading.Thread(target=spark_write)
        writer.start()
        assert engine.writing.wait(60)
        assert engine.lease_state == "leased"
        pandas.con.execute("CREATE TABLE t AS SELECT range AS id FROM range(3)")
        other = WriteSpec("orders", conn, "parquet", path="out/t", run_id="r2")
        with pytest.raises(NodeError, match=r"another writer \(run r1, node orders\)") as err:
            pandas.write(DuckFrame('"t"', table=True), other)
        assert err.value.hint.startswith("another run (or node) is writing")
        engine.go.set()
        writer.join(120)
        # Spark's abfss write itself cannot run here (no hadoop-azure): it fails after the lock
        assert failed and "being written by another writer" not in str(failed[0])
        assert lock_blob.get_blob_properties().lease.state == "available"  # released
    finally:
        engine.go.set()
        engine.stop()
        pandas.stop()
