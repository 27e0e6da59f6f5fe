"""`odibi-dbx plan`: what a run would do, with no side effects (no write, no story, no state).

from odibi_dbx.dryrun import plan_project
report = plan_project(load_project("project.yaml"))
report.ok        # every write would go through
print(report.text())
"""

from __future__ import annotations

from odibi_dbx.dryrun.plan import PlanReport, plan_project

__all__ = ["PlanReport", "plan_project"]
