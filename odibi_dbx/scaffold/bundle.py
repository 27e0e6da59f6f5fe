"""`bundle/databricks.yml` for a project: a Declarative Automation Bundle (formerly Databricks
Asset Bundle) with a run-once setup job and a scheduled pipeline job, one task per pipeline
waiting for the pipelines it reads from.

The repository's own bundle and the one `odibi-dbx init` writes are both rendered here, so the
two cannot drift. The jobs install the wheel plus the packages of the extras the project needs
(a cluster library cannot name a wheel's extras), read from the installed wheel's metadata.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import yaml

from odibi_dbx.config.loader import LoadedProject
from odibi_dbx.config.models import ProjectConfig
from odibi_dbx.registry import connection_class

DIST = "odibi-dbx"
SETUP_EXTRAS = ("azure",)  # Key Vault, secrets and containers; databricks-sdk is on every runtime


def extra_requirements(extra: str) -> list[str]:
    """The requirement specs of one of the wheel's extras, from its installed metadata."""
    out = []
    for req in metadata.requires(DIST) or []:
        spec, _, marker = req.partition(";")
        if re.search(rf"""extra\s*==\s*["']{re.escape(extra)}["']""", marker):
            out.append(spec.strip().replace(" ", ""))
    if not out:
        raise ValueError(f"{DIST} has no extra '{extra}'")
    return out


def pipeline_extras(config: ProjectConfig) -> list[str]:
    """The extras a project's pipelines need on a cluster (pyspark and delta-spark are there)."""
    extras = []
    if config.engine == "pandas":
        formats = {
            io.format
            for p in config.pipelines
            for n in p.nodes
            for io in (n.read, n.write)
            if io is not None
        }
        if "delta" in formats:
            extras.append("delta")
    for c in config.connections.values():
        extras += [e for e in connection_class(c.type).extras if e not in extras]
    return extras


def pipeline_order(loaded: LoadedProject) -> list[tuple[str, list[str]]]:
    """(pipeline, pipelines it waits for), from the compiled plan's cross-pipeline edges (a node
    reading what another pipeline writes, or `depends_on: [pipeline.node]`)."""
    plan = loaded.plan
    out = []
    for name in plan.pipelines:
        after = {
            plan.nodes[e.upstream].pipeline
            for k in plan.in_pipeline(name)
            for e in plan.upstream(k)
        } - {name}
        out.append((name, sorted(after, key=plan.pipelines.index)))
    return out


@dataclass(frozen=True)
class BundleLayout:
    """Where things are, relative to the bundle's folder (paths) or the synced root (files)."""

    name: str
    project_file: str  # relative to the synced root, e.g. examples/sales/project.yaml
    build_wheel: bool  # True: build from the repository (..); False: use ../dist/*.whl as given
    sync_paths: tuple[str, ...] = ("..",)
    dev_environment: str | None = None
    prod_environment: str | None = None


def _libraries(extras: list[str]) -> list[dict[str, Any]]:
    libs: list[dict[str, Any]] = [{"whl": "../dist/*.whl"}]
    seen: list[str] = []
    for extra in extras:
        seen += [r for r in extra_requirements(extra) if r not in seen]
    return libs + [{"pypi": {"package": r}} for r in seen]


def _cluster() -> dict[str, Any]:
    return {
        "spark_version": "${var.spark_version}",
        "node_type_id": "${var.node_type_id}",
        "num_workers": 0,
        "data_security_mode": "SINGLE_USER",
        "spark_conf": {
            "spark.databricks.cluster.profile": "singleNode",
            "spark.master": "local[*]",
        },
        "custom_tags": {"ResourceClass": "SingleNode"},
    }


def bundle_dict(loaded: LoadedProject, layout: BundleLayout) -> dict[str, Any]:
    config = loaded.config
    variables: dict[str, Any] = {
        "key_vault": {
            "description": "Key Vault name or URL (optional when the project's connections "
            "name their vaults)",
            "default": "",
        },
        "service_credential": {
            "description": "Unity Catalog service credential for Key Vault (DBR 16.2+; empty = "
            "the cluster's identity)",
            "default": "",
        },
        "project_file": {
            "description": "The project YAML, as a workspace path",
            "default": "${workspace.file_path}/" + layout.project_file,
        },
        "environment": {
            "description": "An entry of the project's environments (empty = none)",
            "default": "",
        },
        "engine": {
            "description": "spark or pandas (empty = the project's engine)",
            "default": "",
        },
        "schedule": {
            "description": "Quartz cron expression of the pipeline job",
            "default": "0 0 6 * * ?",
        },
        "timezone": {"default": "UTC"},
        "spark_version": {
            "description": "Databricks Runtime of the job clusters (15.4 LTS or newer: Python 3.11+)",
            "default": "15.4.x-scala2.12",
        },
        "node_type_id": {"default": "Standard_D4ds_v5"},
        "prod_viewers": {
            "description": "Group that may view the production jobs and files",
            "default": "users",
        },
    }
    out: dict[str, Any] = {"bundle": {"name": layout.name}, "variables": variables}
    out["sync"] = {"paths": list(layout.sync_paths)}
    if layout.build_wheel:
        variables["python"] = {
            "description": "Python that builds the wheel (e.g. .venv/bin/python)",
            "default": "python3",
        }
        out["artifacts"] = {
            "odibi_dbx_wheel": {
                "type": "whl",
                "path": "..",
                "build": "${var.python} -m pip wheel --no-deps --wheel-dir dist .",
                "files": [{"source": "../dist/odibi_dbx-*.whl"}],
            }
        }
    setup_task = {
        "task_key": "setup",
        "job_cluster_key": "dedicated",
        "notebook_task": {
            "notebook_path": "../setup/databricks_setup.ipynb",
            "base_parameters": {
                "vault": "${var.key_vault}",
                "project_file": "${var.project_file}",
                "service_credential": "${var.service_credential}",
            },
        },
        "libraries": _libraries(list(SETUP_EXTRAS)),
    }
    libs = _libraries(pipeline_extras(config))
    tasks = []
    for name, after in pipeline_order(loaded):
        task: dict[str, Any] = {
            "task_key": name,
            "job_cluster_key": "pipeline",
            "notebook_task": {
                "notebook_path": "../notebooks/run_pipeline.ipynb",
                "base_parameters": {
                    "project_file": "${var.project_file}",
                    "pipelines": name,
                    "environment": "${var.environment}",
                    "engine": "${var.engine}",
                    "service_credential": "${var.service_credential}",
                },
            },
            "libraries": libs,
        }
        if after:
            task["depends_on"] = [{"task_key": a} for a in after]
        tasks.append(task)
    out["resources"] = {
        "jobs": {
            "odibi_setup": {
                "name": f"{config.project} setup (run once)",
                "description": "Finds the identity that reaches Key Vault, prints grant "
                "commands, tests secrets and containers.",
                "max_concurrent_runs": 1,
                "tasks": [setup_task],
                "job_clusters": [{"job_cluster_key": "dedicated", "new_cluster": _cluster()}],
            },
            "odibi_pipeline": {
                "name": f"{config.project} pipelines",
                "description": "One task per pipeline, after the pipelines it reads from (a "
                "failed one can be repaired alone); each task's output is the run's story.",
                "max_concurrent_runs": 1,
                # no pause_status: development mode pauses it, production runs it
                "schedule": {
                    "quartz_cron_expression": "${var.schedule}",
                    "timezone_id": "${var.timezone}",
                },
                "tasks": tasks,
                "job_clusters": [{"job_cluster_key": "pipeline", "new_cluster": _cluster()}],
            },
        }
    }
    dev: dict[str, Any] = {"mode": "development", "default": True}
    prod: dict[str, Any] = {
        "mode": "production",
        "workspace": {
            "root_path": "/Workspace/Users/${workspace.current_user.userName}/.bundle/"
            "${bundle.name}/${bundle.target}"
        },
        "permissions": [
            {"user_name": "${workspace.current_user.userName}", "level": "CAN_MANAGE"},
            {"group_name": "${var.prod_viewers}", "level": "CAN_VIEW"},
        ],
    }
    for target, env in ((dev, layout.dev_environment), (prod, layout.prod_environment)):
        if env is not None:
            if env not in config.environments:
                raise ValueError(f"the project defines no environment '{env}'")
            target["variables"] = {"environment": env}
    out["targets"] = {"dev": dev, "prod": prod}
    return out


HEADER = """\
# Declarative Automation Bundle (formerly Databricks Asset Bundle) for {project}.
# Rendered by odibi_dbx.scaffold.bundle (docs/databricks.md); to render it again:
#   python -m odibi_dbx.scaffold.bundle {args}
#   databricks bundle validate --strict -t dev
#   databricks bundle deploy -t dev            # {wheel}
#   databricks bundle run odibi_setup -t dev   # once per workspace: identity, grants, secrets
#   databricks bundle deploy -t prod           # the pipeline job then runs on var.schedule
"""


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def render_bundle(loaded: LoadedProject, layout: BundleLayout, args: str = "") -> str:
    wheel = (
        "builds the wheel, uploads it, the notebooks and the project"
        if layout.build_wheel
        else "uploads ../dist/*.whl, the notebooks and the project"
    )
    body = yaml.dump(bundle_dict(loaded, layout), Dumper=_NoAliases, sort_keys=False, width=100)
    return HEADER.format(project=loaded.config.project, wheel=wheel, args=args) + body


def main(argv: list[str] | None = None) -> None:
    import argparse
    import sys

    from odibi_dbx.config import load_project

    p = argparse.ArgumentParser(prog="python -m odibi_dbx.scaffold.bundle")
    p.add_argument("project", help="the project YAML, relative to the synced root (cwd)")
    p.add_argument("--name", required=True, help="the bundle's name")
    p.add_argument("--build-wheel", action="store_true", help="build the wheel from ..")
    p.add_argument("--sync", nargs="+", default=[".."], help="sync paths (from bundle/)")
    p.add_argument("--dev-env", help="the project environment of the dev target")
    p.add_argument("--prod-env", help="the project environment of the prod target")
    a = p.parse_args(argv)
    layout = BundleLayout(a.name, a.project, a.build_wheel, tuple(a.sync), a.dev_env, a.prod_env)
    args = " ".join(sys.argv[1:] if argv is None else argv)
    sys.stdout.write(render_bundle(load_project(a.project), layout, args))


if __name__ == "__main__":
    main()
