"""The Python API: load a project, run it (all, one pipeline, one node), look at outputs and stories.

from odibi_dbx import Project
p = Project.load("project.yaml", env="dev")
p.run()                      # every pipeline, in the listed order
p.run_node("clean")          # one node and what it needs upstream
p.output("clean").head()     # a node's output as a DataFrame
p.show_story()               # the last story, inline
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

from odibi_dbx.config.loader import LoadedProject, load_project
from odibi_dbx.connections import build_connections, resolve_secrets
from odibi_dbx.engines import engine_class
from odibi_dbx.engines.base import Engine
from odibi_dbx.errors import OdibiError, RunFailed, RunWarning, first_line
from odibi_dbx.pipeline.display import NotebookProgress, in_notebook
from odibi_dbx.pipeline.events import RunListener, RunResult
from odibi_dbx.pipeline.logs import LoggingListener, configure_logging
from odibi_dbx.pipeline.runner import Runner
from odibi_dbx.sql import cache as sql_cache
from odibi_dbx.story import StoryListener, StoryStore, history


class Project:
    def __init__(
        self,
        loaded: LoadedProject,
        *,
        credential: Any = None,
        keep_outputs: bool = True,
        engine_options: dict[str, Any] | None = None,
    ):
        self.loaded = loaded
        self.config = loaded.config
        self.plan = loaded.plan  # every pipeline as one graph (odibi_dbx.pipeline.plan)
        self.credential = (
            credential  # a TokenCredential for Key Vault (default: DefaultAzureCredential)
        )
        self.keep_outputs = keep_outputs
        self.engine_options = engine_options or {}
        self.connections = build_connections(self.config, loaded.base_dir)
        self._engine: Engine | None = None
        self._runner: Runner | None = None
        self._outputs: dict[tuple[str, str], Any] = {}  # (pipeline, node) -> latest output
        self._secrets_ready = False
        self.last_result: RunResult | None = None
        configure_logging(self.config.logging)

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        env: str | None = None,
        engine: str | None = None,
        credential: Any = None,
        **kwargs: Any,
    ) -> Project:
        """Validate the project file (every problem at once) and return a Project."""
        return cls(load_project(path, env=env, engine=engine), credential=credential, **kwargs)

    # -- engine --
    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._prepare_secrets()
            cls = engine_class(self.config.engine)
            self._engine = cls(
                timezone=self.config.timezone, connections=self.connections, **self.engine_options
            )
            self._engine.start()
        return self._engine

    def _prepare_secrets(self) -> None:
        if not self._secrets_ready:
            resolve_secrets(self.connections, self.credential)
            self._secrets_ready = True

    def close(self) -> None:
        if self._engine is not None:
            self._engine.stop()
            self._engine = None
            self._runner = None
            self._outputs = {}

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- runs --
    def story_store(self) -> StoryStore:
        s = self.config.story
        return StoryStore(self.connections[s.connection], s.path)

    def run(
        self,
        pipelines: str | Sequence[str] | None = None,
        *,
        nodes: Sequence[str] | None = None,
        listeners: Iterable[RunListener] = (),
        raise_on_failure: bool = False,
        run_id: str | None = None,
        full_refresh: bool = False,
        progress: bool | None = None,
    ) -> RunResult:
        """Run pipelines (all by default, as one graph in dependency order) or `nodes` ("node" or
        "pipeline.node", with what they need upstream). A story is written either way; a story
        that cannot be written is a RunWarning (see RunResult.listener_failures).
        `full_refresh`: incremental reads ignore their stored watermark and read everything.
        `progress` (default: in a notebook) prints a line per node as it finishes and a table."""
        if isinstance(pipelines, str):
            pipelines = [pipelines]
        self.plan.select(pipelines, nodes)  # unknown names fail before the engine starts
        from odibi_dbx import runtime

        engine = self.engine
        all_listeners: list[RunListener] = []
        store, baseline = self.story_store(), {}
        if self.config.story.auto_generate or self._gates():
            try:
                baseline = history.baselines(store)  # what vs_previous compares with
            except OSError as exc:  # the story will fail too: a warning, not a failed run
                warnings.warn(
                    f"cannot read the stories under {store.root}: {first_line(exc)}",
                    RunWarning,
                    stacklevel=2,
                )
        if self.config.story.auto_generate:
            all_listeners.append(StoryListener(store, baseline, self.config.story.keep_last))
        all_listeners.append(LoggingListener(self.config.logging))
        all_listeners += list(listeners)
        if progress if progress is not None else in_notebook():
            all_listeners.append(NotebookProgress())
        self._runner = Runner(
            self.loaded,
            engine,
            self.connections,
            all_listeners,
            keep_outputs=self.keep_outputs,
            runtime=runtime.run_context(),
            baseline=baseline,
            full_refresh=full_refresh,
        )
        repaired = self._recover_outputs()
        try:
            result = self._runner.run(pipelines, nodes, run_id=run_id, notes=repaired)
        finally:
            sql_cache.flush()  # the steps translated this run, for the next (odibi_dbx.sql.cache)
        self._keep(self._runner.outputs, result)
        self.last_result = result
        for failure in result.listener_failures:
            warnings.warn(
                f"{failure.listener} failed on {failure.event}: {failure.error}",
                RunWarning,
                stacklevel=2,
            )
        if raise_on_failure and not result.ok:
            raise RunFailed(result)
        return result

    def _keep(self, outputs: dict[tuple[str, str], Any], result: RunResult) -> None:
        """Outputs of the nodes that ran replace theirs from earlier runs (a node that failed or
        was skipped now has none); the others stay, so run_node() leaves every other node's
        output inspectable."""
        for n in result.nodes:
            old = self._outputs.pop((n.pipeline, n.name), None)
            if old is not None and old is not outputs.get((n.pipeline, n.name)):
                self.engine.release(old)
        self._outputs.update(outputs)

    def _gates(self) -> bool:
        return any(
            n.validation is not None and n.validation.vs_previous is not None
            for p in self.config.pipelines
            for n in p.nodes
        )

    def _recover_outputs(self) -> list[str]:
        """Before anything runs (reads included): put back outputs that killed overwrites left
        half-swapped and remove killed runs' staging (connections/leftovers); what was done
        goes to the log and the story's notes."""
        outputs = [
            (self.connections[n.write.connection], n.write.path)
            for p in self.config.pipelines
            for n in p.nodes
            if n.write and n.write.path
        ]
        return self.engine.repair_outputs(outputs, "run start")

    def run_pipeline(self, name: str, **kwargs: Any) -> RunResult:
        return self.run([name], **kwargs)

    def run_node(self, name: str, pipeline: str | None = None, **kwargs: Any) -> RunResult:
        """Run one node ("node" or "pipeline.node") and the nodes it needs upstream."""
        return self.run([pipeline] if pipeline else None, nodes=[name], **kwargs)

    def _pipeline_of(self, node: str) -> str:
        return self.plan.node(node).pipeline

    def output(self, node: str, pipeline: str | None = None) -> Any:
        """A node's output from the last run, as the engine's DataFrame."""
        if self._runner is None:
            raise OdibiError("nothing has run yet: call run(), run_pipeline() or run_node() first")
        pipe = pipeline or self._pipeline_of(node)
        frame = self._outputs.get((pipe, node))
        if frame is None:
            raise OdibiError(
                f"node '{pipe}.{node}' has no output from the runs so far "
                "(it did not run, failed, or the project was loaded with keep_outputs=False)"
            )
        return self.engine.to_user(frame)

    # -- stories --
    def stories(self) -> list[str]:
        return self.story_store().runs()

    def story(self, run_id: str | None = None) -> dict[str, Any]:
        store = self.story_store()
        run_id = run_id or (self.last_result.run_id if self.last_result else store.latest())
        if run_id is None:
            raise OdibiError(f"no stories yet under {store.root}")
        return store.read(run_id)

    def show_story(self, run_id: str | None = None) -> Any:
        """Display the story inline: displayHTML on Databricks, rich HTML in Jupyter."""
        from odibi_dbx.notebook import display_html
        from odibi_dbx.story import render_html

        return display_html(render_html(self.story(run_id)))

    def story_diff(self, run_a: str | None = None, run_b: str | None = None) -> Any:
        """What changed between two runs (default: the last two), one row per changed node,
        as a pandas DataFrame (the rows `odibi-dbx story diff --json` prints)."""
        import pandas as pd

        from odibi_dbx.story.diff import diff_runs

        store = self.story_store()
        runs = store.runs()
        ids = [run_a, run_b] if run_a and run_b else runs[-2:]
        if len(ids) != 2 or any(r not in runs for r in ids):
            raise OdibiError(
                f"story_diff needs two stored runs; have {len(runs)} under {store.root}"
            )
        rows = diff_runs(store.read(ids[0]), store.read(ids[1]))
        flat = [
            {
                "node": r["node"],
                "status": f"{r['status']['before']} → {r['status']['after']}",
                "rows_out_before": r["rows_out"]["before"],
                "rows_out_after": r["rows_out"]["after"],
                "rows_out_change": r["rows_out"]["change"],
                "seconds_before": r["seconds"]["before"],
                "seconds_after": r["seconds"]["after"],
                "schema": r["schema"],
                "profile": r["profile"] or r["note"],
            }
            for r in rows
        ]
        return pd.DataFrame(flat, columns=list(flat[0]) if flat else ["node"])

    def __repr__(self) -> str:
        return (
            f"<Project {self.config.project!r} engine={self.config.engine} "
            f"pipelines={[p.pipeline for p in self.config.pipelines]}>"
        )
