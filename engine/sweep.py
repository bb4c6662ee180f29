"""Parameter sweeps: one strategy spec, a grid of values for some of its fields, and every
combination backtested on the same bars (docs/results.md#sweep-result).

Grid keys are spec paths in the notation of validation errors (``entry.all[0].left.params.period``,
``stop_loss_pct``). A key may link several paths with commas
(``"entry.all[0].left.params.period,exit.all[0].left.params.period"``): each value is set at every
one of them, as a crossover's fast period appears in both rule trees. The combinations are the
Cartesian product of the value lists in key order (the last key varies fastest), optionally
filtered by ``where(params) -> bool``; filtered-out combinations are not reported
(``SweepResult.skipped`` counts them).

Invalid combinations are REPORTED, not dropped: every combination's spec is validated with
``parse_spec``; one that fails (e.g. a MACD with ``fast >= slow``), or whose ``start``/``end``
select no bars, gets ``"metrics": None`` and ``"error"`` (``path: message`` items joined by
``"; "``) while the others run.

Pipeline
--------
1. Validate each combination (the base spec is copied only along the swept paths).
2. Signals, per window (``start``/``end``): one ``IndicatorCache`` serves every combination, so
   each distinct (indicator, params, source) is computed once. Rule trees of the same shape (same
   groups and operators) are evaluated together: each distinct operand series is fetched once and
   a compiled kernel compares the pairs, giving signals as (n_combos, n_bars) rows.
3. Simulate, per execution settings (one ``SimConfig``: fees, stops, sizing...): a compiled
   parallel loop (numba ``prange``, ``engine.simulate.simulate_many``) runs the simulator on
   every column.
4. Metrics: ``compute_metrics`` per column, the very call ``run_backtest`` makes, so each
   combination's metrics equal a ``run_backtest`` of its spec. This Python loop is the costliest
   stage (about 0.5 ms a column at 2,520 bars; bench/README.md has the figures).

5. Overfitting: each column's per-period returns are summarised as block moments
   (``engine.overfitting.block_moments``, ``partitions`` blocks), from which the result's
   ``overfitting`` report (Deflated Sharpe Ratio of the best variant, PBO by CSCV) is computed
   over every valid combination (``engine.overfitting.assess``). A sweep split into chunks keeps
   each chunk's ``moments`` and assesses the merged whole.

``sweep_final_equity`` stops after step 3 with final equities only (no recording, no metrics).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np
import pandas as pd

from engine.backtest import (
    benchmark_equity,
    extra_metrics,
    prepare_prices,
    sim_config,
    window_slice,
)
from engine.errors import EngineError
from engine.metrics import (
    compute_metrics,
    infer_periods_per_year,
    per_period_risk_free,
    period_returns,
)
from engine.overfitting import DEFAULT_PARTITIONS, MOMENTS, assess, block_moments
from engine.signals import IndicatorCache, operand_values
from engine.simulate import SimConfig, simulate_final_equity_many, simulate_many
from engine.spec import SpecError, get_by_path, parse_path, parse_spec

__all__ = ["FinalEquities", "GridError", "SweepResult", "run_sweep", "sweep_final_equity"]

Progress = Callable[[float, str], None]
Where = Callable[[dict[str, Any]], bool]
MAX_COMBINATIONS = 100_000
_UNSWEEPABLE = ("symbol", "benchmark")  # the prices belong to one symbol
_RULES_AND_WINDOW = ("entry", "exit", "name", "start", "end")  # not execution settings
# op -> (relation at t, relation at t-1 or -1); relations: 0 <, 1 <=, 2 >, 3 >=.
_RELATIONS = {"<": (0, -1), "<=": (1, -1), ">": (2, -1), ">=": (3, -1),
              "crosses_above": (2, 1), "crosses_below": (0, 3)}
_CELLS_PER_CHUNK = 2_000_000  # bars x columns recorded at once: about 64 MB of arrays


class GridError(EngineError, ValueError):
    """A grid that cannot be swept; the message names the key and what is allowed."""


@dataclass(frozen=True)
class SweepResult:
    """Outcome of :func:`run_sweep`; :meth:`to_dict` is docs/results.md#sweep-result.

    ``results[i]`` is ``{"params": {key: value}, "metrics": {...}}``
    (docs/results.md#backtest-result metrics plus
    ``total_fees``, as ``run_backtest`` gives them) or ``{"params", "metrics": None, "error"}``.
    ``skipped`` counts the combinations ``where`` left out; ``indicators_computed`` the distinct
    indicator computations (the size of the shared indicator caches). ``moments[i]`` are the
    ``(partitions, 5)`` block moments of combination i's returns (NaN when it did not run);
    ``overfitting`` the report of ``engine.overfitting.assess`` over them (None when not asked
    for), whose ``selected`` indexes ``results``.
    """

    spec: dict[str, Any]
    grid: dict[str, list[Any]]
    results: list[dict[str, Any]]
    skipped: int = 0
    indicators_computed: int = 0
    moments: np.ndarray | None = None
    overfitting: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        document = {"spec": self.spec, "grid": self.grid, "results": self.results}
        if self.overfitting is not None:
            document["overfitting"] = self.overfitting
        return document


@dataclass(frozen=True)
class FinalEquities:
    """Outcome of :func:`sweep_final_equity`, per combination: params, final equity (account
    currency; NaN when invalid) and error message (None when valid)."""

    params: list[dict[str, Any]]
    final_equity: np.ndarray
    errors: list[str | None]


@dataclass
class _Plan:
    base: dict[str, Any]
    grid: dict[str, list[Any]]
    params: list[dict[str, Any]] = field(default_factory=list)
    specs: list[dict[str, Any] | None] = field(default_factory=list)  # None: invalid
    errors: list[str | None] = field(default_factory=list)
    skipped: int = 0
    indicators_computed: int = 0
    same_config: bool = True  # no grid key touches an execution setting
    same_shapes: bool = True  # no grid key can change a rule tree's groups or operators


@dataclass(frozen=True)
class _Group:
    """Valid combinations sharing a window and execution settings."""

    traded: pd.DataFrame  # the window's bars
    bars: pd.DataFrame  # the whole checked frame (the benchmark may be the traded symbol)
    ohlc: tuple[np.ndarray, ...]  # the window's open, high, low, close
    config: SimConfig
    members: np.ndarray  # combination indices
    entries: np.ndarray  # (len(members), n_bars) bool, C-contiguous rows
    exits: np.ndarray
    history_dates: pd.DatetimeIndex  # the bars up to the window's end (periods a year)


def run_sweep(spec: Any, prices: pd.DataFrame, grid: Mapping[str, list[Any]], *,
              benchmark_prices: pd.DataFrame | None = None, risk_free: float = 0.0,
              where: Where | None = None, adjust: bool = True,
              progress: Progress | None = None, partitions: int = DEFAULT_PARTITIONS,
              overfitting: bool = True) -> SweepResult:
    """Backtest every combination of ``grid`` applied to ``spec`` (see the module docstring).

    Parameters
    ----------
    spec : a ``StrategySpec`` or its JSON form, the base; it must be valid itself.
    prices, benchmark_prices, risk_free, adjust : as for ``engine.backtest.run_backtest``.
    grid : spec path (or comma-linked paths) -> non-empty list of values.
    where : optional filter on a combination's params, e.g. ``lambda p: p[fast] < p[slow]``.
    progress : optional ``progress(fraction, stage)``; stage is ``validate``, ``signals``,
        ``simulate`` or ``metrics``; fraction grows from 0 to 1.
    partitions : blocks of the returns' moments (the PBO's S; even).
    overfitting : compute the ``overfitting`` report (a chunk of a split sweep leaves it to
        the merge).

    Raises
    ------
    SpecError : invalid base spec. GridError : unusable grid. PriceDataError : unusable prices.
    """
    report = progress or (lambda fraction, stage: None)
    plan = _plan(spec, grid, where, report)
    metrics: list[dict[str, Any] | None] = [None] * len(plan.params)
    moments = np.full((len(plan.params), partitions, MOMENTS), np.nan)
    total, done = max(1, len(plan.params)), 0
    for group in _groups(plan, prices, adjust, report):
        config, index = group.config, group.traded.index
        # The datetime64 array compute_metrics would derive from the index (local wall time).
        dates = (index if index.tz is None else index.tz_localize(None)).to_numpy()
        holding = benchmark_equity(plan.specs[group.members[0]], group.traded, group.bars,
                                   benchmark_prices, adjust)
        benchmark = None if holding is None else period_returns(holding[0], config.initial_cash)
        inferred = infer_periods_per_year(group.history_dates)  # the group shares its bars
        chunk = max(1, _CELLS_PER_CHUNK // len(dates))
        for first in range(0, len(group.members), chunk):
            rows = slice(first, first + chunk)
            report(0.2 + 0.8 * done / total, "simulate")
            run = simulate_many(*group.ohlc, group.entries[rows].T, group.exits[rows].T, config)
            if len(dates) >= partitions:
                moments[group.members[rows]] = block_moments(
                    _column_returns(run.equity, config.initial_cash), partitions)
            for j, i in enumerate(group.members[rows]):
                if j % 100 == 0:
                    report(0.2 + 0.8 * (done + j) / total, "metrics")
                count = run.num_trades[j]
                override = plan.specs[i].get("periods_per_year")
                periods = inferred if override is None else float(override)
                metrics[i] = compute_metrics(
                    run.equity[:, j], dates, config.initial_cash, positions=run.position[:, j],
                    trade_pnl=run.trade_pnl[:count, j], trade_returns=run.trade_returns[:count, j],
                    benchmark_returns=benchmark, risk_free=risk_free, periods_per_year=periods,
                    exposed=run.exposed[:, j])
                ruin = int(run.ruin_index[j])
                metrics[i].update(extra_metrics(
                    run.total_fees[j], run.position[:, j], None if ruin < 0 else ruin,
                    run.ruin_deficit[j], dates))
            done += len(run.num_trades)
    results = [{"params": params, "metrics": values, **({"error": error} if error else {})}
               for params, values, error in zip(plan.params, metrics, plan.errors, strict=True)]
    odds = None
    if overfitting:
        odds = assess(moments, per_period_risk_free(risk_free))
    report(1.0, "metrics")
    return SweepResult(plan.base, plan.grid, results, plan.skipped, plan.indicators_computed,
                       moments, odds)


def _column_returns(equity: np.ndarray, initial_cash: float) -> np.ndarray:
    """``period_returns`` of every column of a (n_bars, n_columns) equity array."""
    previous = np.empty_like(equity)
    previous[0] = initial_cash
    previous[1:] = equity[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = equity / previous - 1.0
    returns[previous == 0] = 0.0  # a wiped-out account stays at 0
    return returns


def sweep_final_equity(spec: Any, prices: pd.DataFrame, grid: Mapping[str, list[Any]], *,
                       where: Where | None = None, adjust: bool = True,
                       progress: Progress | None = None) -> FinalEquities:
    """Final equity of every combination: the validation and signals of :func:`run_sweep`, then
    ``simulate_final_equity_many`` (nothing recorded, no metrics). ``final_equity[i]`` equals
    ``run_sweep(...).results[i]["metrics"]["final_equity"]``."""
    report = progress or (lambda fraction, stage: None)
    plan = _plan(spec, grid, where, report)
    final = np.full(len(plan.params), np.nan)
    for group in _groups(plan, prices, adjust, report):
        report(0.5, "simulate")
        final[group.members] = simulate_final_equity_many(
            *group.ohlc, group.entries.T, group.exits.T, group.config)
    report(1.0, "simulate")
    return FinalEquities(plan.params, final, plan.errors)


# --------------------------------------------------------------------------------------------
# 1. combinations


def _plan(spec: Any, grid: Mapping[str, list[Any]], where: Where | None,
          report: Progress) -> _Plan:
    base = parse_spec(spec).to_dict()
    checked, paths = _checked_grid(base, grid)
    swept = [parts for linked in paths for parts in linked]
    plan = _Plan(base, checked,
                 same_config=all(parts[0] in _RULES_AND_WINDOW for parts in swept),
                 same_shapes=all(parts[0] not in ("entry", "exit") or "left" in parts
                                 or "right" in parts for parts in swept))
    prefixes = sorted({tuple(parts[:depth]) for parts in swept for depth in range(1, len(parts))},
                      key=len)
    total = max(1, int(np.prod([len(values) for values in checked.values()])))
    for n, values in enumerate(itertools.product(*checked.values())):
        if n % 1000 == 0:
            report(0.1 * n / total, "validate")
        params = dict(zip(checked, values, strict=True))
        if where is not None and not where(params):
            plan.skipped += 1
            continue
        plan.params.append(params)
        try:
            candidate = _with_values(base, prefixes, paths, values)
            plan.specs.append(parse_spec(candidate).to_dict())
            plan.errors.append(None)
        except SpecError as error:
            plan.specs.append(None)
            plan.errors.append("; ".join(f"{p}: {m}" for p, m in error.errors.items()))
    return plan


def _checked_grid(base: dict[str, Any], grid: Mapping[str, list[Any]]
                  ) -> tuple[dict[str, list[Any]], list[list[list[str | int]]]]:
    """The grid with plain values, and each key's parsed paths."""
    if not isinstance(grid, Mapping) or not grid:
        raise GridError("grid: must be a non-empty object of spec path -> list of values")
    checked: dict[str, list[Any]] = {}
    paths: list[list[list[str | int]]] = []
    for key, values in grid.items():
        if not isinstance(key, str):
            raise GridError(f"grid key {key!r}: must be a spec path such as entry.all[0].right")
        try:
            linked = [parse_path(path.strip()) for path in key.split(",")]
            for path in key.split(","):
                get_by_path(base, path.strip())
        except (KeyError, ValueError) as error:
            raise GridError(f"grid key {key!r}: {error.args[0]}") from None
        if any(parts[0] in _UNSWEEPABLE for parts in linked):
            raise GridError(f"grid key {key!r}: cannot be swept (the prices are of one symbol)")
        if not isinstance(values, list | tuple | np.ndarray) or len(values) == 0:
            raise GridError(f"grid key {key!r}: must be a non-empty list of values")
        checked[key] = [v.item() if isinstance(v, np.generic) else v for v in values]
        paths.append(linked)
    every = [(key, parts) for key, linked in zip(checked, paths, strict=True) for parts in linked]
    for (key, parts), (other, longer) in itertools.permutations(every, 2):
        if longer[: len(parts)] == parts:
            raise GridError(f"grid keys {key!r} and {other!r} set the same part of the spec; "
                            "give each path once")
    count = int(np.prod([len(values) for values in checked.values()], dtype=np.float64))
    if count > MAX_COMBINATIONS:
        raise GridError(f"grid: {count} combinations; at most {MAX_COMBINATIONS} per sweep")
    return checked, paths


def _with_values(base: dict[str, Any], prefixes: list[tuple[str | int, ...]],
                 paths: list[list[list[str | int]]], values: tuple[Any, ...]) -> dict[str, Any]:
    """``base`` with each value set at its key's paths; only the containers on the way (the
    path ``prefixes``, parents first) are copied, the rest is shared with ``base``."""
    copies: dict[tuple[str | int, ...], Any] = {(): dict(base)}
    for prefix in prefixes:
        parent = copies[prefix[:-1]]
        child = parent[prefix[-1]]
        copies[prefix] = dict(child) if isinstance(child, dict) else list(child)
        parent[prefix[-1]] = copies[prefix]
    for linked, value in zip(paths, values, strict=True):
        for parts in linked:
            copies[tuple(parts[:-1])][parts[-1]] = value
    return copies[()]


# --------------------------------------------------------------------------------------------
# 2. signals


def _groups(plan: _Plan, prices: pd.DataFrame, adjust: bool,
            report: Progress) -> Iterator[_Group]:
    """Valid combinations by window (signals) and then by ``SimConfig`` (simulation)."""
    bars = prepare_prices(prices, adjust, what=f"prices of {plan.base['symbol']}")
    windows: dict[tuple[Any, Any], list[int]] = {}
    for i, spec in enumerate(plan.specs):
        if spec is not None:
            windows.setdefault((spec["start"], spec["end"]), []).append(i)
    for (start, end), members in windows.items():
        history = bars.iloc[: window_slice(bars.index, None, end).stop]
        window = window_slice(history.index, start, None)
        if window.start >= len(history):
            for i in members:
                plan.specs[i] = None
                plan.errors[i] = (f"$: no bars of {plan.base['symbol']} between "
                                  f"{start or 'the beginning'} and {end or 'the end'}")
            continue
        report(0.1, "signals")
        cache = IndicatorCache()
        entries, exits = (
            np.ascontiguousarray(_signal_rows([plan.specs[i][side] for i in members], history,
                                              cache, plan.same_shapes)[:, window])
            for side in ("entry", "exit"))
        plan.indicators_computed += len(cache)
        traded = history.iloc[window]
        ohlc = tuple(traded[c].to_numpy(dtype=np.float64) for c in ("open", "high", "low", "close"))
        configs: dict[SimConfig, list[int]] = {}
        if plan.same_config:
            configs[sim_config(plan.specs[members[0]])] = list(range(len(members)))
        else:
            for local, i in enumerate(members):
                configs.setdefault(sim_config(plan.specs[i]), []).append(local)
        for config, local in configs.items():
            every = len(local) == len(members)
            yield _Group(traded, bars, ohlc, config, np.asarray(members)[local],
                         entries if every else entries[local], exits if every else exits[local],
                         history.index)


def _shape(node: Mapping[str, Any]) -> Any:
    """A rule tree's structure without its operands: trees of one shape are evaluated together."""
    for kind in ("all", "any"):
        if kind in node:
            return kind, tuple(_shape(item) for item in node[kind])
    return node["op"]


def _signal_rows(trees: list[dict[str, Any]], history: pd.DataFrame, cache: IndicatorCache,
                 same_shapes: bool) -> np.ndarray:
    """Signals of many rule trees on ``history`` as (len(trees), n_bars) bool rows."""
    shapes: dict[Any, list[int]] = {}
    for i, tree in enumerate([] if same_shapes else trees):
        shapes.setdefault(_shape(tree), []).append(i)
    if len(shapes) <= 1:
        return _evaluate_batch(trees, history, cache)
    rows = np.empty((len(trees), len(history)), dtype=np.bool_)
    for members in shapes.values():
        rows[members] = _evaluate_batch([trees[i] for i in members], history, cache)
    return rows


def _evaluate_batch(nodes: list[Mapping[str, Any]], history: pd.DataFrame,
                    cache: IndicatorCache) -> np.ndarray:
    """Same-shape nodes -> (len(nodes), n_bars) bool: row j is ``evaluate_rules(nodes[j])``."""
    for kind, combine in (("all", np.logical_and), ("any", np.logical_or)):
        if kind in nodes[0]:
            children = [_evaluate_batch([node[kind][k] for node in nodes], history, cache)
                        for k in range(len(nodes[0][kind]))]
            return functools.reduce(lambda a, b: combine(a, b, out=a), children)
    index: dict[str, int] = {}
    series: list[np.ndarray] = []

    def row(operand: Any) -> int:
        key = repr(operand)  # operands are normalised: equal operands have equal reprs
        if key not in index:
            index[key] = len(series)
            series.append(operand_values(operand, history, cache))
        return index[key]

    left = np.array([row(node["left"]) for node in nodes], dtype=np.int64)
    right = np.array([row(node["right"]) for node in nodes], dtype=np.int64)
    out = np.empty((len(nodes), len(history)), dtype=np.bool_)
    _compare_kernel(np.stack(series), left, right, *_RELATIONS[nodes[0]["op"]], out)
    return out


@numba.njit(cache=True, inline="always")
def _holds(x, y, relation):  # pragma: no cover - compiled
    if relation == 0:
        return x < y
    if relation == 1:
        return x <= y
    if relation == 2:
        return x > y
    return x >= y


@numba.njit(cache=True, parallel=True)
def _compare_kernel(values, left, right, now, before, out):  # pragma: no cover - compiled
    """out[j, t] = values[left[j], t] NOW values[right[j], t], and for a crossing (before >= 0)
    the BEFORE relation at t-1 too (False at t = 0). NaN compares False, as in engine.signals."""
    n = values.shape[1]
    for j in numba.prange(left.shape[0]):
        a, b = values[left[j]], values[right[j]]
        if before < 0:
            for t in range(n):
                out[j, t] = _holds(a[t], b[t], now)
        else:
            held_before = False  # the BEFORE relation at t-1; nothing precedes t = 0
            for t in range(n):
                out[j, t] = held_before & _holds(a[t], b[t], now)
                held_before = _holds(a[t], b[t], before)
