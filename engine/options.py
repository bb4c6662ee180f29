"""Typed options of the run kinds beside a backtest: defaults and limits declared once.

:class:`StressOptions` (a stress run: scenario replays, shock transplants, Monte Carlo),
:class:`SweepOptions` (a parameter sweep's grid), :class:`WalkForwardOptions` (a walk-forward
validation) and :class:`RobustnessOptions` (a robustness report's trade-order Monte Carlo and
cost grid) are pydantic models. The REST API validates a
run's ``options`` with them when the run is created (:func:`parse_options`), the OpenAPI
document embeds their JSON Schema, the Stress page takes its form defaults and bounds from
:func:`field_default` / :func:`field_bounds`, and the CLI its option defaults, so a default or a
limit is written here and nowhere else.

Limits exist so that every accepted request finishes in bounded time and memory: the Monte
Carlo keeps ``paths x horizon_days`` equity values for its fan chart (:data:`MAX_CELLS`).
"""

from __future__ import annotations

import typing
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from engine.montecarlo import MAX_CELLS, MAX_HORIZON_DAYS, MAX_PATHS
from engine.overfitting import DEFAULT_PARTITIONS, MAX_PARTITIONS
from engine.robustness import (
    DEFAULT_COST_POINTS,
    DEFAULT_MAX_COST_BPS,
    DEFAULT_PATHS,
    MAX_COST_BPS,
    MAX_COST_POINTS,
    MAX_TRADE_PATHS,
    MIN_COST_POINTS,
)
from engine.scenarios import (
    LIBRARY,
    MAX_CUSTOM_SCENARIOS,
    StressInputError,
    parse_custom_scenarios,
    select_scenarios,
)
from engine.spec import format_path, get_by_path
from engine.stress import DEFAULT_TRANSPLANTS
from engine.sweep import MAX_COMBINATIONS
from engine.sweep_constraints import ConstraintError, constraint_filter
from engine.walkforward import (
    DEFAULT_FOLDS,
    DEFAULT_IN_SAMPLE_SIZE,
    MAX_FOLDS,
    MAX_IN_SAMPLE_SIZE,
    SELECTION_METRICS,
)

MAX_SEED = 2**63 - 1
MAX_BLOCK_LENGTH = 252
MAX_VOL_MULTIPLIER = 10.0

Whole = Annotated[int, Field(strict=True)]  # JSON 3 or 3.0? only 3; never true/false


class OptionsError(ValueError):
    """Invalid run options: ``errors`` maps a field path (``paths``, ``custom_scenarios[0].end``)
    to what is allowed."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{path}: {message}" for path, message in errors.items()))
        self.errors = errors


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StressOptions(_Options):
    """What a stress run replays and simulates (engine.stress.run_stress)."""

    scenarios: list[str] | None = Field(
        None, description="library scenario ids to replay, in order; null = all, [] = none",
        json_schema_extra={"items": {"enum": list(LIBRARY)}})
    custom_scenarios: list[dict[str, Any]] = Field(
        default_factory=list, max_length=MAX_CUSTOM_SCENARIOS,
        description='the user\'s own windows [{"id", "start", "end", "name"?, '
                    '"description"?}], ISO dates')
    transplants: list[str] = Field(
        list(DEFAULT_TRANSPLANTS),
        description="library scenario ids whose path is appended after the history",
        json_schema_extra={"items": {"enum": list(LIBRARY)}})
    transplant_source: Literal["benchmark", "symbol"] = Field(
        "benchmark", description="transplant the benchmark's path scaled by beta, or the "
                                 "symbol's own")
    paths: Whole = Field(1000, ge=0, le=MAX_PATHS,
                         description="Monte Carlo paths (0 skips the Monte Carlo)")
    horizon_days: Whole = Field(252, ge=1, le=MAX_HORIZON_DAYS,
                                description="trading days of each Monte Carlo path")
    block_length: float = Field(20, ge=1, le=MAX_BLOCK_LENGTH,
                                description="mean block length of the stationary bootstrap, "
                                            "in bars")
    seed: Whole = Field(0, ge=0, le=MAX_SEED, description="random seed (same seed, same paths)")
    vol_multiplier: float = Field(1.0, gt=0, le=MAX_VOL_MULTIPLIER,
                                  description="scales every bar's move around its mean")
    gap_pct: float | None = Field(None, ge=-99, le=100,
                                  description="a one-day gap of this many percent (null: none)")
    gap_day: Whole = Field(1, ge=1, le=MAX_HORIZON_DAYS,
                           description="the day of the path the gap happens on")
    entry: Literal["flat", "carry"] = Field(
        "flat", description="enter each window flat, or carrying the position the full "
                            "backtest held")

    @field_validator("block_length", "vol_multiplier", "gap_pct", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be a number")
        return value

    @field_validator("scenarios", "transplants")
    @classmethod
    def _known_ids(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            try:
                select_scenarios(value)
            except StressInputError as error:
                raise ValueError(str(error)) from None
        return value

    @model_validator(mode="after")
    def _fits(self) -> StressOptions:
        if self.paths * self.horizon_days > MAX_CELLS:
            raise _at("paths", f"paths x horizon_days: at most {MAX_CELLS:,} days in all, got "
                               f"{self.paths:,} x {self.horizon_days:,}; use fewer paths or a "
                               "shorter horizon")
        if self.gap_pct is not None and self.gap_day > self.horizon_days:
            raise _at("gap_day", f"must be a whole number from 1 to {self.horizon_days} "
                                 "(horizon_days)")
        try:
            parse_custom_scenarios(self.custom_scenarios, "custom_scenarios")
        except StressInputError as error:
            path, _, message = str(error).partition(": ")
            raise _at(path, message) from None
        return self

    def engine_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``engine.stress.run_stress``."""
        return self.model_dump()


class SweepOptions(_Options):
    """A parameter sweep: ``grid`` maps spec paths (as in validation errors, e.g.
    ``entry.all[0].right``; several paths joined by commas move together) to the values to
    try; ``constraints`` (``"KEY < KEY"``, engine.sweep_constraints) leave combinations out.
    Check it against a spec with :func:`parse_options` (``spec=``)."""

    grid: dict[str, list[Any]] = Field(
        ..., min_length=1,
        description="spec path -> non-empty list of values; at most "
                    f"{MAX_COMBINATIONS:,} combinations in all")
    constraints: list[str] = Field(
        default_factory=list, max_length=10,
        description="conditions every combination must meet, 'KEY OP KEY' or 'KEY OP NUMBER' "
                    "with OP one of <, <=, >, >=, ==, != (e.g. a fast period < a slow one)")
    partitions: Whole = Field(
        DEFAULT_PARTITIONS, ge=2, le=MAX_PARTITIONS,
        description="blocks the returns are cut into for the Probability of Backtest "
                    "Overfitting (CSCV); even")

    @field_validator("grid")
    @classmethod
    def _sized(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in grid.items():
            if not values:
                raise _at(f"grid.{key}", "must be a non-empty list of values")
        count = combination_count(grid)
        if count > MAX_COMBINATIONS:
            raise _at("grid", f"{count:,} combinations; at most {MAX_COMBINATIONS:,} per sweep")
        return grid

    @field_validator("partitions")
    @classmethod
    def _even(cls, partitions: int) -> int:
        if partitions % 2:
            raise _at("partitions", f"must be even (half the blocks are in sample), got "
                                    f"{partitions}")
        return partitions

    @model_validator(mode="after")
    def _constraints_read(self) -> SweepOptions:
        for i, text in enumerate(self.constraints):
            try:
                constraint_filter([text], self.grid)
            except ConstraintError as error:
                raise _at(f"constraints[{i}]", str(error)) from None
        return self

    def where(self) -> Any:
        """The constraints as ``where(params) -> bool`` for ``run_sweep`` (None: none)."""
        return constraint_filter(self.constraints, self.grid)

    def check_paths(self, spec: dict[str, Any]) -> None:
        """OptionsError unless every key of the grid is a path into ``spec``."""
        for key in self.grid:
            for path in str(key).split(","):
                try:
                    get_by_path(spec, path.strip())
                except (KeyError, ValueError) as exc:
                    raise OptionsError({f"grid.{key}": str(exc.args[0])}) from None


class RobustnessOptions(_Options):
    """A robustness report (engine.robustness.run_robustness): the trade-order Monte Carlo and
    the cost grid."""

    paths: Whole = Field(DEFAULT_PATHS, ge=0, le=MAX_TRADE_PATHS,
                         description="trade-order Monte Carlo paths (0 skips it)")
    seed: Whole = Field(0, ge=0, le=MAX_SEED, description="random seed (same seed, same paths)")
    max_cost_bps: float = Field(DEFAULT_MAX_COST_BPS, gt=0, le=MAX_COST_BPS,
                                description="the cost grid's highest cost, fees + slippage per "
                                            "side in basis points")
    cost_points: Whole = Field(DEFAULT_COST_POINTS, ge=MIN_COST_POINTS, le=MAX_COST_POINTS,
                               description="costs on the grid, evenly spaced from 0 to "
                                           "max_cost_bps")

    @field_validator("max_cost_bps", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be a number")
        return value

    def engine_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``engine.robustness.run_robustness``."""
        return self.model_dump()


class WalkForwardOptions(SweepOptions):
    """A walk-forward validation (engine.walkforward): the sweep's grid and constraints tried on
    each in-sample window, the winner by ``metric`` traded on the next out-of-sample one."""

    folds: Whole = Field(DEFAULT_FOLDS, ge=1, le=MAX_FOLDS,
                         description="out-of-sample windows, tiling the end of the range")
    in_sample_size: Whole = Field(DEFAULT_IN_SAMPLE_SIZE, ge=1, le=MAX_IN_SAMPLE_SIZE,
                                  description="in-sample length, in out-of-sample windows")
    mode: Literal["rolling", "anchored"] = Field(
        "rolling", description="in-sample windows of fixed length (rolling) or all from the "
                               "first bar (anchored)")
    metric: Literal[SELECTION_METRICS] = Field(  # type: ignore[valid-type]
        "sharpe", description="what each in-sample optimisation maximises")

    def engine_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``engine.walkforward.run_walkforward`` (but the grid)."""
        return {"folds": self.folds, "in_sample_size": self.in_sample_size, "mode": self.mode,
                "metric": self.metric, "where": self.where()}


def combination_count(grid: dict[str, list[Any]]) -> int:
    count = 1
    for values in grid.values():
        count *= len(values)
    return count


class _PathError(ValueError):
    """A model-level problem that belongs to one field (``path``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path, self.message = path, message


def _at(path: str, message: str) -> _PathError:
    return _PathError(path, message)


#: The options model of each run kind that takes options.
OPTIONS_MODELS: dict[str, type[_Options]] = {"stress": StressOptions, "sweep": SweepOptions,
                                             "robustness": RobustnessOptions,
                                             "walkforward": WalkForwardOptions}


def parse_options(model: type[_Options], options: Any,
                  spec: dict[str, Any] | None = None) -> Any:
    """``options`` (JSON data) validated as ``model``; OptionsError naming each bad field."""
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise OptionsError({"": "must be a JSON object"})
    try:
        parsed = model.model_validate(options)
    except ValidationError as exc:
        raise OptionsError(_messages(exc, model)) from None
    except _PathError as exc:  # raised by a validator outside pydantic's wrapping
        raise OptionsError({exc.path: exc.message}) from None
    if spec is not None and isinstance(parsed, SweepOptions):
        parsed.check_paths(spec)
    return parsed


#: What the items of a list option are, for messages.
_LIST_OF = {"scenarios": "scenario ids", "transplants": "scenario ids",
            "custom_scenarios": 'windows [{"id": ..., "start": ..., "end": ...}]'}


def _messages(exc: ValidationError, model: type[_Options]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, _PathError):
            errors.setdefault(cause.path, cause.message)
            continue
        path = format_path(tuple(error["loc"]))
        errors.setdefault(path, _explain(error, model))
    return errors


def _explain(error: dict[str, Any], model: type[_Options]) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    bounds = {key: ctx[key] for key in ("ge", "gt", "le", "lt") if key in ctx}
    name = str(error["loc"][0]) if error["loc"] else ""
    if kind == "extra_forbidden":
        return f"unknown option; allowed: {', '.join(model.model_fields)}"
    if kind == "list_type":
        return f"must be a list of {_LIST_OF.get(name, 'values')}"
    if kind == "literal_error" and name in model.model_fields:
        choices = typing.get_args(model.model_fields[name].annotation)
        return f"must be one of {', '.join(map(str, choices))}"
    if kind == "missing":
        return "required"
    if kind == "too_short":
        return "must not be empty"
    if kind == "too_long":
        return f"at most {ctx.get('max_length')} items"
    if kind in ("int_type", "int_from_float", "int_parsing"):
        return "must be a whole number" + _range_text(error, model)
    if kind in ("float_type", "float_parsing"):
        return "must be a number" + _range_text(error, model)
    if bounds:
        annotation = model.model_fields[name].annotation if name in model.model_fields else None
        what = " a whole number" if annotation is int else (
            " a number" if annotation in (float, float | None) else "")
        return "must be" + what + _range_text(error, model)
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')}".replace("'", "")
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return error["msg"]


def _range_text(error: dict[str, Any], model: type[_Options]) -> str:
    field = _bounds_table(model).get(str(error["loc"][0])) if error["loc"] else None
    if not field:
        return ""
    low, high, low_excluded = field
    if low_excluded:
        return f" above {low:,} and at most {high:,}"
    return f" from {low:,} to {high:,}"


def field_default(model: type[_Options], name: str) -> Any:
    """The default of option ``name`` (for forms and CLI options)."""
    return model.model_fields[name].get_default(call_default_factory=True)


def field_bounds(model: type[_Options], name: str) -> tuple[float | None, float | None]:
    """``(minimum, maximum)`` of a numeric option (None where unbounded)."""
    low = high = None
    for item in model.model_fields[name].metadata:
        low = getattr(item, "ge", None) if getattr(item, "ge", None) is not None else (
            getattr(item, "gt", None) if getattr(item, "gt", None) is not None else low)
        high = getattr(item, "le", None) if getattr(item, "le", None) is not None else high
    return low, high


def _bounds_table(model: type[_Options]) -> dict[str, tuple[float, float, bool]]:
    """``name -> (low, high, low excluded?)`` of the bounded numeric options of ``model``."""
    table: dict[str, tuple[float, float, bool]] = {}
    for name, field in model.model_fields.items():
        low_excluded = any(getattr(m, "gt", None) is not None for m in field.metadata)
        low, high = field_bounds(model, name)
        if low is not None and high is not None:
            table[name] = (low, high, low_excluded)
    return table

