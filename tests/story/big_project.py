"""A 60-node project (3 pipelines of 20; the later pipelines read what the earlier wrote) for
the browser test and the story bench."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import write


def big_project(tmp: Path, pipelines: int = 3, per_pipeline: int = 20) -> Path:
    write(tmp / "data" / "seed.csv", "id,v\n" + "".join(f"{i},{i * 3 % 17}\n" for i in range(50)))
    lines = [
        "project: Big graph",
        "connections:",
        "  data: {type: local, base_path: ./data}",
        "  out: {type: local, base_path: ./out}",
        "story: {connection: out, path: stories/, max_sample_rows: 2}",
        "retry: {enabled: false}",
        "pipelines:",
    ]
    for p in range(pipelines):
        lines += [f"  - pipeline: stage_{p}", "    nodes:"]
        src = "seed.csv" if p == 0 else f"stage_{p - 1}.parquet"
        conn = "data" if p == 0 else "out"
        lines.append(f"      - {{name: s{p}_n0, read: {{connection: {conn}, path: {src}}}}}")
        for k in range(1, per_pipeline - 1):
            a, b = f"s{p}_n{k - 1}", f"s{p}_n{max(0, (k - 1) // 2)}"
            deps = [a] if a == b else [a, b]
            sql = f"SELECT * FROM {a}" + (
                f" WHERE id IN (SELECT id FROM {b}) AND v >= {k % 3}" if a != b else ""
            )
            lines.append(
                f"      - {{name: s{p}_n{k}, depends_on: [{', '.join(deps)}], "
                f'transform: {{steps: ["{sql}"]}}}}'
            )
        last = per_pipeline - 1
        lines.append(
            f"      - {{name: s{p}_n{last}, depends_on: [s{p}_n{last - 1}], "
            f"write: {{connection: out, path: stage_{p}.parquet}}}}"
        )
    return write(tmp / "project.yaml", "\n".join(lines) + "\n")
