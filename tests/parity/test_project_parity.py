"""Same YAML, same result: each project under projects/ runs on the pandas and the spark engine,
and every output it writes must hold the same columns, types and rows (order aside)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.parity.parity_compare import differences, read_output, schema_of

pytestmark = pytest.mark.spark
PROJECTS = Path(__file__).parent / "projects"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FILES = {
    "sql_features": PROJECTS / "sql_features" / "project.yaml",
    "sales": EXAMPLES / "sales" / "project.yaml",
}  # the demo: same gold on Spark

OUTPUTS = {
    "sql_features": [
        "filters_case",
        "dates",
        "ts_text",
        "strings",
        "windows",
        "aggregates",
        "narwhals_once",
        "joins",
        "pivot",
        "nested",
        "inferred_csv",
        "inferred_json",
        "delta_t",
    ],
    "sales": ["silver/orders", "gold/revenue_by_region_month"],
}
# known differences, each with its cause (xfail, never skipped)
KNOWN: dict[tuple[str, str], str] = {}


def _run(project: Path, engine: str, out: Path, monkeypatch) -> None:
    from odibi_dbx import Project

    monkeypatch.setenv("PARITY_OUT", str(out))
    monkeypatch.setenv("SALES_LAKE_PATH", str(out))
    with Project.load(project, engine=engine, keep_outputs=False) as p:
        res = p.run()
    failed = {n.name: n.error_message for n in res.nodes if n.status != "success"}
    assert not failed, f"{engine}: {failed}"


@pytest.fixture(scope="module")
def outputs(spark, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    done = {}
    try:
        for name in OUTPUTS:
            for engine in ("pandas", "spark"):
                out = tmp_path_factory.mktemp(f"{name}-{engine}")
                _run(FILES[name], engine, out, mp)
                done[(name, engine)] = out
    finally:
        mp.undo()
    return done


@pytest.mark.parametrize(
    ("project", "output"),
    [
        pytest.param(
            p,
            o,
            marks=[pytest.mark.xfail(reason=KNOWN[(p, o)], strict=True)] if (p, o) in KNOWN else [],
        )
        for p, outs in OUTPUTS.items()
        for o in outs
    ],
)
def test_same_output(outputs, project, output):
    a = read_output(outputs[(project, "pandas")] / output)
    b = read_output(outputs[(project, "spark")] / output)
    diff = differences(a, b)
    assert not diff, f"{output}: pandas vs spark\n" + "\n".join(diff)
    assert a.num_rows > 0 and schema_of(a)


def test_delta_sequence(outputs):
    """overwrite (3 rows) -> append (1 row, missing column filled with NULL) -> merge (2 updated,
    1 inserted), the same on both engines."""
    t = read_output(outputs[("sql_features", "spark")] / "delta_t").to_pylist()
    got = {r["order_id"]: (r["amount"], r["status"]) for r in t}
    assert got == {
        1: (120.5, "paid"),
        2: (150.0, "merged"),
        3: (8.25, "cancelled"),
        4: (2500.0, "merged"),
        6: (421.0, "merged"),
    }
