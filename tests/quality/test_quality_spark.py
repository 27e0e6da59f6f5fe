"""Row rules on Spark: the same kept rows, quarantine rows and counts as the Pandas engine, and
no Spark job beyond the quarantine write (counted as tests/spark counts them; over Spark
Connect through the server's UI REST API, which the connect leg turns on)."""

from __future__ import annotations

import json

import pytest

from tests.parity.parity_compare import read_output, rows_of, schema_of
from tests.quality.quality_fixtures import RULES, SCHEMA, expected, make_project, orders, read_table

pytestmark = pytest.mark.spark

WARN_DROP = [r for r in RULES if r[2] in ("warn", "drop")]
CHECKED = "not_empty: true\n                  no_nulls: [order_id]"  # decided before any write


def _run(path, engine, listeners=()):
    from odibi_dbx import Project

    with Project.load(path, engine=engine) as p:
        return p.run(listeners=list(listeners))


def _table(path, drop=("_run_id", "_quarantined_at")):
    """Schema and rows (sorted, NaN as None) of an output, minus the run-specific columns."""
    t = read_output(path)
    t = t.drop_columns([c for c in drop if c in t.column_names])
    return schema_of(t), rows_of(t)


def _rules_doc(res):
    doc = json.loads(open(res.story_path).read())
    node = next(n for n in doc["nodes"] if n["name"] == "orders_silver")
    counts = {
        c["check"]: {k: c[k] for k in ("rows", "failed", "kept", "dropped", "quarantined")}
        for c in node["validation"]
        if "expr" in c
    }
    return counts, node["quality"]


@pytest.mark.parametrize(
    ("rules", "extra"),
    [
        pytest.param(RULES, "", id="quarantine-counted-by-its-write"),
        pytest.param(RULES, CHECKED, id="decided-before-writing"),
        pytest.param(WARN_DROP, "", id="counted-by-the-main-write"),
    ],
)
def test_same_result_on_both_engines(spark, tmp_path, rules, extra):
    want = expected(orders(), rules)
    got = {}
    for engine in ("pandas", "spark"):
        path = make_project(tmp_path / engine, rules=rules, extra=extra)
        res = _run(path, engine)
        assert res.ok, [n.error_message for n in res.nodes]
        lake = tmp_path / engine / "lake"
        kept = read_table(lake / "silver" / "orders")
        quarantine = lake / "quarantine" / "orders"
        got[engine] = (
            _table(lake / "silver" / "orders"),
            _table(quarantine) if want["quarantined"] else None,
            *_rules_doc(res),
        )
        assert sorted(kept.order_id) == want["kept"]
        if want["quarantined"]:
            assert got[engine][3]["quarantine"]["rows"] == len(want["quarantined"])
            q = read_table(quarantine)
            failed = {int(i): list(r) for i, r in zip(q.order_id, q._failed_rules, strict=True)}
            assert failed == want["quarantined"]
        else:
            assert not quarantine.exists()
        for name, c in got[engine][2].items():
            assert {k: c[k] for k in ("failed", "kept", "dropped", "quarantined")} == (
                want["rules"][name]
            ), (engine, name)
        assert res.node("orders_silver").rows_out == len(want["kept"])
    pandas, spark_ = got["pandas"], got["spark"]
    assert pandas[0] == spark_[0]  # kept rows: schema and rows
    assert pandas[1] == spark_[1]  # quarantine rows, _run_id and _quarantined_at aside
    if spark_[1] is not None:
        q_schema = dict(spark_[1][0])
        assert q_schema["_failed_rules"] == "list<string>" and q_schema["_node"] == "string"
    assert pandas[2] == spark_[2]  # per-rule counts
    assert {k: v for k, v in pandas[3].items() if k != "quarantine"} == {
        k: v for k, v in spark_[3].items() if k != "quarantine"
    }


def test_spark_fail_rule_writes_nothing(spark, tmp_path):
    rules = [*RULES, ("known_customer", "customer_id < 1000", "fail", None)]
    path = make_project(tmp_path, rules=rules)
    res = _run(path, "spark")
    node = res.node("orders_silver")
    assert not res.ok and node.error.stage == "validation"
    assert "known_customer (" in node.error.message
    rule = {c.check: c for c in node.validation}["known_customer"]
    assert rule.failed == int(orders().customer_id.isna().sum())
    assert 0 < len(rule.sample) <= 5 and all(r["customer_id"] is None for r in rule.sample)
    assert not (tmp_path / "lake" / "silver").exists()
    assert not (tmp_path / "lake" / "quarantine").exists()


class JobsPerNode:
    def __init__(self, counter):
        self.counter, self.jobs = counter, {}

    def node_started(self, run, pipeline, node):
        self.counter.take()

    def node_finished(self, run, result):
        self.jobs[result.name] = self.counter.take()

    def __getattr__(self, name):
        return lambda *a, **k: None


def test_rules_add_no_job_beyond_the_quarantine_write(spark, tmp_path, job_counter):
    """The bench's rules (two quarantine, one drop, two warn): the node runs the jobs of the
    same node without rules plus those of a hand-written Delta append of the quarantined rows;
    warn/drop rules alone add no job at all."""
    src = make_project(tmp_path / "plain", rules=[])
    jobs = JobsPerNode(job_counter)
    assert _run(src, "spark", [jobs]).ok
    plain = jobs.jobs["orders_silver"]

    csv = str(tmp_path / "plain" / "data" / "orders.csv")
    df = spark.read.schema(SCHEMA).option("header", True).csv(csv)
    job_counter.take()
    df.where("NOT coalesce(amount > 0, false)").write.format("delta").mode("append").save(
        str(tmp_path / "baseline_quarantine")
    )
    quarantine_write = job_counter.take()

    for name, rules, extra_jobs in (
        ("bench", RULES, quarantine_write),
        ("warn_drop", WARN_DROP, 0),
    ):
        path = make_project(tmp_path / name, rules=rules)
        jobs = JobsPerNode(job_counter)
        res = _run(path, "spark", [jobs])
        assert res.ok, [n.error_message for n in res.nodes]
        assert jobs.jobs["orders_silver"] == plain + extra_jobs, (name, jobs.jobs, plain)
        assert jobs.jobs["orders"] == 0
        print(name, "jobs:", jobs.jobs["orders_silver"], "without rules:", plain)


def test_warn_drop_counts_ride_on_an_append_that_a_later_node_reads(spark, tmp_path):
    """warn/drop rules only: the counts ride on the node's own write, here an append to an
    existing Delta table (columns cast to the table's) whose kept rows a later node reads and
    a write-only node merges into another table.
    The story's rule counts, rows, sample and profile are those of the kept rows, as on Pandas."""
    data = orders()
    want = expected(data, WARN_DROP)
    kept = data[data.order_id.isin(want["kept"])]
    got = {}
    for engine in ("pandas", "spark"):
        path = make_project(tmp_path / engine, rules=WARN_DROP)
        silver = "path: silver/orders, format: delta"
        text = path.read_text().replace(silver, silver + ", mode: append")
        indent = next(ln for ln in text.splitlines() if "- name: orders_silver" in ln)
        pad = " " * indent.index("-")
        text += (
            f"{pad}- name: gold\n{pad}  depends_on: [orders_silver]\n"
            f'{pad}  transform: {{steps: ["SELECT count(*) AS n FROM orders_silver"]}}\n'
            f"{pad}  write: {{connection: lake, path: gold, format: delta}}\n"
            f"{pad}- name: copy\n{pad}  depends_on: [orders_silver]\n"  # writes the same frame
            f"{pad}  write: {{connection: lake, path: copy, format: delta, mode: merge, "
            "merge_keys: [order_id]}\n"
        )
        path.write_text(text)
        for _ in range(2):  # the second append casts to the table's columns
            res = _run(path, engine)
            assert res.ok, [n.error_message for n in res.nodes]
            counts, quality = _rules_doc(res)
            for name, c in counts.items():
                assert {k: c[k] for k in ("failed", "kept", "dropped", "quarantined")} == (
                    want["rules"][name]
                ), (engine, name)
            node = res.node("orders_silver")
            assert node.rows_out == len(want["kept"]) == quality["kept"]
            assert 0 < len(node.sample) <= 5
            assert {r["order_id"] for r in node.sample} <= set(want["kept"])
            assert node.profile["amount"]["nulls"] == int(kept.amount.isna().sum())
            assert node.profile["customer_id"]["nulls"] == 0
            assert list(read_table(tmp_path / engine / "lake" / "gold").n) == [len(kept)]
            copy = read_table(tmp_path / engine / "lake" / "copy")
            assert sorted(copy.order_id) == want["kept"]
        silver = read_table(tmp_path / engine / "lake" / "silver" / "orders")
        assert sorted(silver.order_id) == sorted(want["kept"] * 2)
        got[engine] = counts, quality, node.profile
    assert got["pandas"] == got["spark"]
