"""Typed project configuration (the v1.1 layout). Unknown keys are errors, models are frozen."""

from __future__ import annotations

import re
from types import GenericAlias
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, Union

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from odibi_dbx import registry
from odibi_dbx.config.base import ConnectionModel, Model, no_items, no_options
from odibi_dbx.registry import ENGINES

ENGINE_NAMES = tuple(ENGINES)  # odibi_dbx.registry; engines themselves load lazily
FORMATS = ("csv", "parquet", "json", "delta")
_ENV_REF = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$")


# --- connections -------------------------------------------------------------------------------
# Each connection type's module holds its config model (odibi_dbx.registry lists the types);
# the union below is built from that list, and rebuilt when a type is registered at run time.


def connection_union() -> Any:
    """`type`-tagged union of every registered connection type's config model."""
    models = tuple(registry.connection_configs().values())
    return Annotated[Union[models], Field(discriminator="type")]  # noqa: UP007


if TYPE_CHECKING:
    ConnectionConfig: TypeAlias = ConnectionModel
else:
    ConnectionConfig = connection_union()


# --- project-wide settings ---------------------------------------------------------------------


class StoryConfig(Model):
    connection: str
    path: str = "stories/"
    max_sample_rows: int = Field(10, ge=0, le=100)
    auto_generate: bool = True
    profile_columns: int = Field(50, ge=0, le=1000)  # columns profiled (nulls, min, max) per node
    keep_last: int = Field(100, ge=1)  # stories kept; older ones are removed after a run


class RetryConfig(Model):
    enabled: bool = True
    max_attempts: int = Field(3, ge=1, le=20)
    backoff: Literal["exponential", "linear", "constant"] = "exponential"
    initial_delay: float = Field(1.0, ge=0, le=300)  # seconds before the second attempt
    max_seconds: float = Field(120.0, gt=0, le=3600)  # a node's attempts and waits, in all


class LoggingConfig(Model):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    structured: bool = False
    metadata: dict[str, Any] = Field(default_factory=no_options)

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.upper() if isinstance(v, str) else v


# --- nodes -------------------------------------------------------------------------------------


class IncrementalConfig(Model):
    """Read only what is new since the last successful run (see docs/incremental.md)."""

    column: str | None = None  # rows with column > stored watermark - lookback
    lookback: str | int | float | None = None  # "2 hours", "3 days"; a number for numeric columns
    change_feed: bool = False  # Delta change data feed from the last processed version

    @model_validator(mode="after")
    def _one_kind(self) -> IncrementalConfig:
        if self.change_feed == bool(self.column):
            raise ValueError(
                "incremental needs either column: NAME (optionally lookback:) or change_feed: true"
            )
        if self.change_feed and self.lookback is not None:
            raise ValueError("lookback is only used with column:, not with change_feed")
        if isinstance(self.lookback, str):
            from odibi_dbx.incremental.watermark import parse_lookback

            parse_lookback(self.lookback)
        return self


class Scd2Config(Model):
    track: list[str] = Field(min_length=1)  # a change in any of these starts a new version
    valid_from: str  # the source column a new version's _valid_from is taken from
    deletes: Literal["ignore", "close"] = "ignore"  # close: keys missing from a full snapshot


class ReadConfig(Model):
    connection: str
    path: str | None = None
    table: str | None = None
    format: Literal["csv", "parquet", "json", "delta"] | None = None
    options: dict[str, Any] = Field(default_factory=no_options)
    schema_: str | None = Field(None, alias="schema")  # DDL, e.g. "id BIGINT, ts TIMESTAMP"
    version: int | None = Field(None, ge=0)  # Delta time travel
    incremental: IncrementalConfig | None = None

    @model_validator(mode="after")
    def _target(self) -> ReadConfig:
        _check_target(self.path, self.table, self.format)
        fmt = self.format or infer_format(self.path) or "delta"
        if self.version is not None and fmt != "delta":
            raise ValueError("version (time travel) is only for format: delta")
        if self.incremental is not None:
            if self.incremental.change_feed and fmt != "delta":
                raise ValueError("incremental change_feed is only for format: delta")
            if self.version is not None:
                raise ValueError("give version (time travel) or incremental, not both")
        return self


class WriteConfig(Model):
    connection: str
    path: str | None = None
    table: str | None = None
    format: Literal["csv", "parquet", "json", "delta"] | None = None
    mode: Literal["overwrite", "append", "merge", "scd2"] = "overwrite"
    merge_keys: list[str] | None = None
    scd2: Scd2Config | None = None
    schema_evolution: Literal["strict", "add_columns"] = "strict"
    partition_by: list[str] = Field(default_factory=no_items)
    options: dict[str, Any] = Field(default_factory=no_options)

    @model_validator(mode="after")
    def _target(self) -> WriteConfig:
        _check_target(self.path, self.table, self.format)
        if self.mode in ("merge", "scd2"):
            if not self.merge_keys:
                raise ValueError(
                    f"mode: {self.mode} needs merge_keys: [column, ...] "
                    "(the columns that identify a row)"
                )
            if self.resolved_format != "delta":  # a catalog table's format, too
                raise ValueError(
                    f"mode: {self.mode} is only for format: delta (a catalog table is delta "
                    f"unless format: says otherwise; this one is {self.resolved_format})"
                )
        elif self.merge_keys:
            raise ValueError(
                f"merge_keys is only used with mode: merge or scd2 (mode is {self.mode})"
            )
        if (self.mode == "scd2") != (self.scd2 is not None):
            raise ValueError(
                "mode: scd2 needs scd2: {track: [column, ...], valid_from: column}"
                if self.mode == "scd2"
                else f"scd2: is only used with mode: scd2 (mode is {self.mode})"
            )
        return self

    @property
    def resolved_format(self) -> str:
        return self.format or infer_format(self.path) or "delta"


def infer_format(path: str | None) -> str | None:
    if not path:
        return None
    name = path.rstrip("/").lower()
    for fmt, exts in {
        "csv": (".csv",),
        "parquet": (".parquet", ".pq"),
        "json": (".json", ".jsonl", ".ndjson"),
    }.items():
        if name.endswith(exts):
            return fmt
    return None


def _check_target(path: str | None, table: str | None, fmt: str | None) -> None:
    if path is None and table is None:
        raise ValueError("needs path: (a file or folder under the connection) or table: (catalog)")
    if path is not None and table is not None:
        raise ValueError("give path or table, not both")
    if path is not None and fmt is None and infer_format(path) is None:
        raise ValueError(
            f"cannot tell the format of '{path}': add format: csv | parquet | json | delta"
        )


class SqlStep(Model):
    sql: str = Field(min_length=1)


class FunctionStep(Model):
    function: str
    params: dict[str, Any] = Field(default_factory=no_options)


def _step_kind(v: Any) -> str | None:
    if isinstance(v, str):
        return "sql"
    if isinstance(v, dict):
        return "function" if "function" in v else "sql" if "sql" in v else None
    if isinstance(v, (SqlStep, FunctionStep)):
        return "sql" if isinstance(v, SqlStep) else "function"
    return None


def _coerce_sql(v: Any) -> Any:
    return {"sql": v} if isinstance(v, str) else v


Step = Annotated[
    Annotated[SqlStep, Tag("sql")] | Annotated[FunctionStep, Tag("function")],
    Discriminator(
        _step_kind,
        custom_error_type="step",
        custom_error_message=(
            "a step is a SQL string, {sql: ...} or {function: name, params: {...}}"
        ),
    ),
]


class TransformConfig(Model):
    steps: list[Step] = Field(min_length=1)

    @field_validator("steps", mode="before")
    @classmethod
    def _strings_are_sql(cls, v: Any) -> Any:
        return [_coerce_sql(s) for s in v] if isinstance(v, list) else v


class VsPreviousConfig(Model):
    """Gates against the node's last successful run (rows out, null fractions, schema)."""

    max_row_drop: float | None = Field(None, ge=0, le=1)  # fraction of the previous rows out
    max_null_increase: float | None = Field(None, ge=0, le=1)  # rise of a column's null fraction
    schema_: Literal["stable"] | None = Field(None, alias="schema")  # same column names and types


class RuleConfig(Model):
    """A row rule: a Spark SQL boolean expression; a row passes only when it is TRUE."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    expr: str = Field(min_length=1)
    on_fail: Literal["fail", "warn", "drop", "quarantine"] = "fail"


class QuarantineConfig(Model):
    """Where rows failing a `quarantine` rule are appended (Delta recommended)."""

    connection: str
    path: str | None = None
    table: str | None = None
    format: Literal["csv", "parquet", "json", "delta"] | None = None
    options: dict[str, Any] = Field(default_factory=no_options)

    @model_validator(mode="after")
    def _target(self) -> QuarantineConfig:
        _check_target(self.path, self.table, self.format)
        return self

    @property
    def resolved_format(self) -> str:
        return self.format or infer_format(self.path) or "delta"


class ValidationConfig(Model):
    not_empty: bool = False
    no_nulls: list[str] = Field(default_factory=no_items)
    unique: list[str] = Field(default_factory=no_items)
    # column -> Spark type name (e.g. bigint, string, decimal(10,2)); or a list of required columns
    schema_: dict[str, str] | list[str] | None = Field(None, alias="schema")
    vs_previous: VsPreviousConfig | None = None
    rules: list[RuleConfig] = Field(default_factory=no_items)
    # rows failing any drop/quarantine rule, as a fraction of the rows checked (1.0: no limit)
    max_failed_fraction: float = Field(1.0, ge=0, le=1)
    quarantine: QuarantineConfig | None = None

    @model_validator(mode="after")
    def _rules(self) -> ValidationConfig:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"duplicate rule name '{rule.name}': rule names are unique")
            seen.add(rule.name)
        if self.quarantine is None and any(r.on_fail == "quarantine" for r in self.rules):
            names = [r.name for r in self.rules if r.on_fail == "quarantine"]
            raise ValueError(
                f"rule(s) {', '.join(names)} have on_fail: quarantine but there is no "
                "quarantine: target; add quarantine: {connection: ..., path: ..., format: delta}"
            )
        return self

    @property
    def has_checks(self) -> bool:
        """Whether any of the column checks (not_empty, no_nulls, unique, schema) is set."""
        return bool(self.not_empty or self.no_nulls or self.unique or self.schema_ is not None)


class NodeConfig(Model):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    description: str | None = None
    depends_on: list[str] = Field(default_factory=no_items)
    read: ReadConfig | None = None
    transform: TransformConfig | None = None
    write: WriteConfig | None = None
    validation: ValidationConfig | None = None
    cache: bool = False

    @model_validator(mode="after")
    def _has_work(self) -> NodeConfig:
        if not (self.read or self.transform or self.write):
            raise ValueError("a node needs at least one of read, transform, write")
        return self


class PipelineConfig(Model):
    pipeline: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")
    layer: str | None = None
    description: str | None = None
    nodes: list[NodeConfig] = Field(min_length=1)


class ProjectConfig(Model):
    project: str = Field(min_length=1)
    engine: str = "pandas"
    description: str | None = None
    version: str | None = None
    owner: str | None = None
    timezone: str = "UTC"  # session time zone, the same on both engines
    imports: list[str] = Field(default_factory=no_items)
    connections: dict[str, ConnectionConfig] = Field(min_length=1)
    story: StoryConfig
    retry: RetryConfig = Field(default_factory=RetryConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    environments: dict[str, dict[str, Any]] = Field(default_factory=no_options)
    pipelines: list[PipelineConfig] = Field(min_length=1)

    @field_validator("engine")
    @classmethod
    def _known_engine(cls, v: str) -> str:
        if v not in ENGINE_NAMES:
            from odibi_dbx.errors import did_you_mean

            hint = did_you_mean(v, ENGINE_NAMES) or ""
            raise ValueError(f"unknown engine '{v}'; engines: {', '.join(ENGINE_NAMES)}. {hint}")
        return v

    def pipeline(self, name: str) -> PipelineConfig:
        for p in self.pipelines:
            if p.pipeline == name:
                return p
        raise KeyError(name)


def is_env_reference(raw: Any) -> bool:
    """True when a raw YAML value is exactly one ${VAR} reference (how secrets must be given)."""
    return isinstance(raw, str) and bool(_ENV_REF.match(raw.strip()))


def env_default(raw: str) -> str:
    """The default of a `${VAR:-default}` reference ('' when it has none)."""
    m = _ENV_REF.match(raw.strip())
    return (m.group(1) or "")[2:] if m else ""


def refresh_connection_types() -> None:
    """Rebuild ProjectConfig's connection union after odibi_dbx.registry gained a type."""
    union = connection_union()
    globals()["ConnectionConfig"] = union
    annotation: Any = GenericAlias(dict, (str, union))  # dict[str, <the union>]
    ProjectConfig.model_fields["connections"].annotation = annotation
    ProjectConfig.model_rebuild(force=True)
