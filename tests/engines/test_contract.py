"""The engine contract (odibi_dbx.engines.base.Engine), tested once and run on every engine."""

from __future__ import annotations

import pytest

from odibi_dbx.config.models import ValidationConfig
from odibi_dbx.engines.base import Engine, ReadSpec, WriteSpec
from odibi_dbx.registry import ENGINES, engine_class
from odibi_dbx.sql import parse_spark
from odibi_dbx.sql.cache import CachedStep
from tests.conftest import ORDERS_CSV, write

SCHEMA = "order_id BIGINT, customer_id BIGINT, amount DOUBLE, order_ts TIMESTAMP"


def read_orders(engine, tmp_path):
    write(tmp_path / "orders.csv", ORDERS_CSV)
    spec = ReadSpec(
        "orders",
        engine.test_connection,
        "csv",
        path="orders.csv",
        options={"header": True},
        schema=SCHEMA,
    )
    return engine.read(spec)


def records(engine, frame) -> list[dict]:
    """A frame's rows through the contract (to_user), whatever DataFrame the engine hands users."""
    df = engine.to_user(frame)
    if hasattr(df, "toPandas"):  # Spark
        df = df.toPandas()
    return df.astype(object).to_dict("records")


@pytest.mark.parametrize("name", list(ENGINES))
def test_every_registered_engine_implements_the_contract(name):
    cls = engine_class(name)
    assert issubclass(cls, Engine) and cls.name == name
    assert not getattr(cls, "__abstractmethods__", None)


def test_sql_runs_the_plans_parsed_tree_and_counts_rows(engine, tmp_path):
    frame = engine.finish(read_orders(engine, tmp_path), key="p.orders", consumers=1)
    query = (
        "SELECT customer_id, sum(amount) AS total FROM orders WHERE amount > 0 GROUP BY customer_id"
    )
    tree = parse_spark(query)
    before = tree.sql()
    out, _ = engine.sql(query, {"orders": frame}, tree)
    assert tree.sql() == before  # the plan's tree is shared: engines never change it
    out = engine.finish(out, key="p.totals", consumers=0)
    rows = {r["customer_id"]: r["total"] for r in records(engine, out)}
    assert rows == {10: 5.5, 11: 7.25, 12: 12.0}
    assert [c for c, _ in engine.summarize(out, 10).columns] == ["customer_id", "total"]
    assert engine.row_count(out) in (3, None)  # known without new work, or honestly unknown


def test_sql_runs_a_step_an_earlier_runs_checks_served(engine, tmp_path):
    """Validation served from the SQL cache hands the engine a CachedStep, not a tree: the
    engine translates it from the cache or parses it itself, with the same result."""
    frame = engine.finish(read_orders(engine, tmp_path), key="p.orders", consumers=1)
    query = "SELECT customer_id, amount * 2 AS twice FROM orders WHERE amount > 6"
    out, _ = engine.sql(query, {"orders": frame}, CachedStep(query, frozenset({"orders"})))
    out = engine.finish(out, key="p.twice", consumers=0)
    assert {r["customer_id"]: r["twice"] for r in records(engine, out)} == {11: 14.5, 12: 24.0}


def test_checks_report_nulls_and_duplicates(engine, tmp_path):
    frame = engine.finish(read_orders(engine, tmp_path), key="p.orders", consumers=0)
    results = engine.check(frame, ValidationConfig(not_empty=True, unique=["customer_id"]))
    by_check = {r.check.split("(")[0].split(":")[0]: r.passed for r in results}
    assert by_check["not_empty"] is True
    assert any(not r.passed for r in results if "unique" in r.check)
    assert engine.row_count(frame) == 4  # counted by the check's own pass


def test_write_then_read_back_and_user_frames_round_trip(engine, tmp_path):
    frame = engine.finish(read_orders(engine, tmp_path), key="p.orders", consumers=1)
    spec = WriteSpec("save", engine.test_connection, "parquet", path="out/orders", run_id="r1")
    result = engine.write(frame, spec)
    assert result.rows in (4, None)
    back = engine.read(ReadSpec("back", engine.test_connection, "parquet", path="out/orders"))
    assert sorted(r["order_id"] for r in records(engine, back)) == [1, 2, 3, 4]
    again = engine.finish(engine.from_user(engine.to_user(back)), key="p.again", consumers=0)
    assert {c for c, _ in engine.summarize(again, 0).columns} >= {"order_id", "amount"}


def test_a_missing_input_is_a_node_error_with_a_hint(engine):
    from odibi_dbx.errors import NodeError

    with pytest.raises(NodeError, match="cannot read parquet") as err:
        engine.read(ReadSpec("gone", engine.test_connection, "parquet", path="nope/none"))
    assert err.value.node == "gone"


def test_each_connection_type_is_one_registry_entry_with_its_config_model():
    from odibi_dbx.connections.base import Connection
    from odibi_dbx.registry import CONNECTION_TYPES, connection_class, connection_configs

    assert set(CONNECTION_TYPES) == set(connection_configs())
    for name in CONNECTION_TYPES:
        cls = connection_class(name)
        assert issubclass(cls, Connection) and cls.type == name
        assert connection_configs()[name] is cls.config_model
