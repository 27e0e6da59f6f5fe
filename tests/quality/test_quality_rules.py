"""Row rules with quarantine on the Pandas engine: counts checked against an independent
computation, NULLs, rows failing several rules, max_failed_fraction at its edge, nothing written
when the node fails, quarantine history, validation errors, the story and the CLI line."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from odibi_dbx import Project
from tests.quality.quality_fixtures import RULES, expected, make_project, orders, read_table


def _run(path, engine="pandas"):
    with Project.load(path, engine=engine) as p:
        return p.run()


def test_rules_counts_quarantine_and_kept_rows(tmp_path):
    path = make_project(tmp_path)
    res = _run(path)
    assert res.ok, [n.error_message for n in res.nodes]
    want = expected(orders())
    lake = tmp_path / "lake"
    kept = read_table(lake / "silver" / "orders")
    assert sorted(kept.order_id) == want["kept"]
    q = read_table(lake / "quarantine" / "orders")
    assert {int(i): list(r) for i, r in zip(q.order_id, q._failed_rules, strict=True)} == want[
        "quarantined"
    ]
    assert set(q._run_id) == {res.run_id} and set(q._node) == {"orders_silver"}
    assert q._quarantined_at.notna().all() and str(q._quarantined_at.dt.tz) == "UTC"
    assert list(q.columns[:4]) == ["order_id", "customer_id", "amount", "region"]
    # some rows fail several rules, drop+quarantine rows are quarantined
    assert max(len(v) for v in want["quarantined"].values()) >= 3
    assert any("has_customer" in v for v in want["quarantined"].values())

    # the story: per rule counts equal the independent ones, samples fail their rule
    doc = json.loads(open(res.story_path).read())
    node = next(n for n in doc["nodes"] if n["name"] == "orders_silver")
    got = {c["check"]: c for c in node["validation"]}
    for name, expr, action, test in RULES:
        c = got[name]
        assert c["on_fail"] == action and c["expr"] == expr
        assert {k: c[k] for k in ("failed", "kept", "dropped", "quarantined")} == want["rules"][
            name
        ]
        assert c["rows"] == 200 and c["passed"] is (c["failed"] == 0)
        assert 0 < len(c["sample"]) <= 5
        sample = pd.DataFrame(c["sample"]).astype({"customer_id": "Int64"})
        assert not test(sample).any(), name  # every sampled row fails the rule
    assert node["quality"]["quarantined"] == len(want["quarantined"])
    assert node["quality"]["dropped"] == len(want["dropped"])
    assert node["rows_out"] == len(want["kept"])
    html = open(res.story_html_path).read()
    assert "Data quality rules" in html and "rows failing positive_amount" in html


def test_quarantine_is_appended_across_runs(tmp_path):
    path = make_project(tmp_path)
    first, second = _run(path), _run(path)
    assert first.ok and second.ok
    q = read_table(tmp_path / "lake" / "quarantine" / "orders")
    n = len(expected(orders())["quarantined"])
    assert len(q) == 2 * n
    assert q._run_id.value_counts().to_dict() == {first.run_id: n, second.run_id: n}
    assert len(read_table(tmp_path / "lake" / "silver" / "orders")) == len(
        expected(orders())["kept"]
    )


def _outputs(tmp_path):
    lake = tmp_path / "lake"
    return (
        read_table(lake / "silver" / "orders").sort_values("order_id").reset_index(drop=True),
        read_table(lake / "quarantine" / "orders").sort_values("order_id").reset_index(drop=True),
    )


@pytest.mark.parametrize("over", [False, True])
def test_max_failed_fraction_at_its_edge(tmp_path, over):
    """100 rows, 5 fail the drop rule: a limit of 0.05 passes (5 is not more than 5%); one
    more failing row fails the node, and then nothing is written, the quarantine included."""
    df = pd.DataFrame(
        {"order_id": range(100), "customer_id": [1] * 100, "amount": [1.0] * 100, "region": "EU"}
    )
    rules = [
        ("has_customer", "customer_id IS NOT NULL", "drop", None),
        ("positive_amount", "amount > 0", "quarantine", None),
    ]
    good = make_project(tmp_path, rules=rules, data=df, extra="max_failed_fraction: 0.05")
    assert _run(good).ok
    before = _outputs(tmp_path)
    df.loc[:3, "customer_id"] = None  # 4 dropped
    df.loc[4, "amount"] = None  # 1 quarantined: 5 of 100
    if over:
        df.loc[5, "amount"] = -1.0  # 6 of 100
    make_project(tmp_path, rules=rules, data=df, extra="max_failed_fraction: 0.05")
    res = _run(good)
    node = res.node("orders_silver")
    frac = {c.check: c for c in node.validation}["max_failed_fraction"]
    if not over:
        assert res.ok and frac.passed and frac.failed == 5
        kept, q = _outputs(tmp_path)
        assert len(kept) == 95 and len(q) == 1 + len(before[1])
    else:
        assert not res.ok and not frac.passed and frac.failed == 6
        assert node.error.stage == "validation"
        assert "max_failed_fraction (6 of 100 rows (6.00%)" in node.error.message
        assert "nothing was written, the quarantine included" in node.error.detail
        after = _outputs(tmp_path)
        pd.testing.assert_frame_equal(after[0], before[0])
        pd.testing.assert_frame_equal(after[1], before[1])


def test_fail_rule_fails_the_node_before_any_write(tmp_path):
    rules = [*RULES, ("known_customer", "customer_id < 1000", "fail", None)]
    path = make_project(tmp_path, rules=RULES)
    assert _run(path).ok
    before = _outputs(tmp_path)
    make_project(tmp_path, rules=rules)
    res = _run(path)
    node = res.node("orders_silver")
    assert not res.ok and node.error.stage == "validation"
    assert "known_customer (" in node.error.message
    rule = {c.check: c for c in node.validation}["known_customer"]
    assert rule.failed == sum(orders().customer_id.isna()) and rule.fails_node
    assert 0 < len(rule.sample) <= 5 and all(r["customer_id"] is None for r in rule.sample)
    after = _outputs(tmp_path)
    pd.testing.assert_frame_equal(after[0], before[0])
    pd.testing.assert_frame_equal(after[1], before[1])
    doc = json.loads(open(res.story_path).read())
    node_doc = next(n for n in doc["nodes"] if n["name"] == "orders_silver")
    assert {c["check"]: c["failed"] for c in node_doc["validation"]}[
        "known_customer"
    ] == rule.failed


def test_column_checks_report_with_the_rules(tmp_path):
    """not_empty / no_nulls / unique run on the kept rows, in the same pass, same result model."""
    extra = "not_empty: true\n                  no_nulls: [customer_id]\n                  unique: [order_id]"
    path = make_project(tmp_path, extra=extra)
    res = _run(path)
    assert res.ok, [n.error_message for n in res.nodes]
    got = {c.check: c for c in res.node("orders_silver").validation}
    kept = len(expected(orders())["kept"])
    assert got["not_empty"].passed and got["not_empty"].detail == f"{kept} rows"
    assert got["no_nulls:customer_id"].passed  # has_customer dropped every NULL customer
    assert got["unique:order_id"].passed


def test_csv_quarantine_joins_rule_names(tmp_path):
    path = make_project(tmp_path, quarantine_format="csv", out_format="parquet")
    assert _run(path).ok
    q = read_table(tmp_path / "lake" / "quarantine" / "orders")
    want = expected(orders())["quarantined"]
    assert {int(i): r.split(",") for i, r in zip(q.order_id, q._failed_rules, strict=True)} == want


def test_rule_errors_name_file_line_node_and_rule(tmp_path, cli):
    rules = [
        ("typo", "amout > 0", "warn", None),
        ("total", "sum(amount) > 0", "warn", None),
        ("nested", "amount IN (SELECT 1)", "drop", None),
    ]
    # the columns are known at validation when the node reads with a schema
    path = make_project(tmp_path, rules=rules, read_schema="order_id BIGINT, amount DOUBLE")
    text = path.read_text()
    r = cli("validate", str(path))
    assert r.returncode == 2, r.stdout + r.stderr
    lines = text.splitlines()
    for name, message in (
        ("typo", "no column 'amout' in the node's output"),
        ("total", "a row rule cannot use an aggregate"),
        ("nested", "a row rule cannot contain a subquery"),
    ):
        line = next(i + 1 for i, t in enumerate(lines) if f"name: {name}," in t)
        assert (
            f"project.yaml:{line}" in r.stderr
            and f"rule '{name}' of node 'orders_silver': {message}" in r.stderr
        )
    assert "did you mean 'amount'?" in r.stderr


def test_rule_on_a_missing_column_fails_at_run_time_with_its_name(tmp_path):
    path = make_project(tmp_path, rules=[("late", "discount > 0", "warn", None)])
    res = _run(path)
    node = res.node("orders_silver")
    assert node.status == "failed" and node.error.stage == "validation"
    assert "rule 'late' reads column(s) discount" in node.error.message
    assert not (tmp_path / "lake" / "silver").exists()


def test_a_rule_that_is_not_boolean_fails_at_run_time_with_its_name(tmp_path):
    rules = [("fine", "amount > 0", "warn", None), ("sum", "amount + 1", "drop", None)]
    res = _run(make_project(tmp_path, rules=rules))
    node = res.node("orders_silver")
    assert node.status == "failed" and node.error.stage == "validation"
    assert "cannot evaluate rule 'sum': it gives double, not a boolean" in node.error.message
    assert not (tmp_path / "lake" / "silver").exists()


def test_cli_summary_shows_dropped_and_quarantined(tmp_path, cli):
    path = make_project(tmp_path)
    r = cli("run", str(path))
    assert r.returncode == 0, r.stdout + r.stderr
    want = expected(orders())
    assert (
        f"1 succeeded, 0 failed, 0 skipped; {len(want['dropped'])} rows dropped, "
        f"{len(want['quarantined'])} quarantined" in r.stdout.replace("2 succeeded", "1 succeeded")
    )


def test_rules_on_a_write_only_node_leave_the_shared_input_whole(tmp_path):
    """A write-only node shares its input's output: its rules remove rows from what it writes,
    never from what the other readers of that input see."""
    path = make_project(tmp_path, rules=[("has_customer", "customer_id IS NOT NULL", "drop", None)])
    text = path.read_text().replace(
        '        transform:\n          steps:\n            - "SELECT * FROM orders"\n', ""
    ) + (
        "      - name: everything\n"
        "        depends_on: [orders, orders_silver]\n"
        '        transform: {steps: ["SELECT * FROM orders"]}\n'
        "        write: {connection: lake, path: all/orders, format: parquet}\n"
    )
    path.write_text(text)
    res = _run(path)
    assert res.ok, [n.error_message for n in res.nodes]
    assert not res.node("orders_silver").steps  # write-only: it wrote its input's output
    lake = tmp_path / "lake"
    assert len(read_table(lake / "silver" / "orders")) == int(orders().customer_id.notna().sum())
    assert len(read_table(lake / "all" / "orders")) == len(orders())


def test_quarantine_is_a_write_of_the_node(tmp_path, cli):
    """Its path stays inside its connection, and a node reading it runs after the node."""
    path = make_project(tmp_path)
    reader = (
        "      - name: review\n"
        "        read: {connection: lake, path: quarantine/orders, format: delta}\n"
        "        write: {connection: lake, path: review, format: parquet}\n"
    )
    path.write_text(path.read_text() + reader)
    plan = Project.load(path).plan
    assert [e.upstream for e in plan.node("review").upstream] == ["silver.orders_silver"]
    path.write_text(path.read_text().replace("path: quarantine/orders", "path: ../outside"))
    r = cli("validate", str(path))
    assert r.returncode == 2
    assert (
        "validation.quarantine.path: write path '../outside' leaves connection 'lake'" in r.stderr
    )


def test_many_rules_span_several_masks(tmp_path):
    """40 rules (the Pandas engine packs 32 per mask column): counts, kept rows and each
    quarantined row's rules, in declaration order, still match the independent computation."""
    many = [(f"{n}_{k}", e, a, t) for k in range(8) for n, e, a, t in RULES]
    res = _run(make_project(tmp_path, rules=many))
    assert res.ok, [n.error_message for n in res.nodes]
    want = expected(orders(), many)
    lake = tmp_path / "lake"
    assert sorted(read_table(lake / "silver" / "orders").order_id) == want["kept"]
    q = read_table(lake / "quarantine" / "orders")
    got = {int(i): list(r) for i, r in zip(q.order_id, q._failed_rules, strict=True)}
    assert got == want["quarantined"]
    assert max(len(v) for v in got.values()) > 32  # a row failing rules of both masks
    node = res.node("orders_silver")
    counts = {c.check: c for c in node.validation}
    for name, *_ in many:
        c = counts[name]
        assert {k: getattr(c, k) for k in ("failed", "kept", "dropped", "quarantined")} == want[
            "rules"
        ][name], name
