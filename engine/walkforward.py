"""Walk-forward validation: optimise on a window, trade the winner on the next one, repeat.

Layout. The spec's own ``start``..``end`` bars (``n`` of them) are cut into ``folds +
in_sample_size`` equal steps of ``L = n // (folds + in_sample_size)`` bars. Fold ``i``
(0-based) trades out of sample (OOS) on bars ``[(s + i) L, (s + i + 1) L)`` (the last fold runs
to the end), so the OOS windows tile ``[s L, n)`` without overlap or gap. Its in-sample (IS)
window ends on the bar before its OOS window and starts ``s L`` bars earlier (``rolling``) or
at the first bar (``anchored``).

Per fold:

1. every combination of the grid is backtested on the IS window (``engine.sweep.run_sweep``
   with the spec's ``start``/``end`` set to the window; bars before it warm the indicators up,
   bars after it are not given to the sweep at all);
2. the combination with the highest ``metric`` is chosen (the first on ties; a null metric,
   e.g. the Sharpe ratio of a combination that never traded, ranks below every number; when
   no combination has one, the first valid combination is kept and the fold's ``note`` says
   so; a combination that could not run is never chosen);
3. the chosen spec is backtested on the OOS window (``engine.backtest.run_backtest``, again
   with every earlier bar as warm-up history and no later bar).

Positions are **flattened at fold boundaries**: each OOS backtest starts flat with the spec's
``initial_cash`` and an open position is valued at the window's last close
(docs/spec.md#execution-model,
``exit_reason: "end_of_data"``). The stitched OOS equity chains the folds' returns:
``E_t = initial_cash × Π_{earlier folds} (final_j / initial_cash) × equity_t / initial_cash``.

Summary figures:

- walk-forward efficiency = CAGR of the stitched OOS equity / mean IS CAGR of the chosen
  combinations (Pardo's ratio of annualised returns; null when the IS mean is 0);
- parameter stability, per grid key: the values chosen fold by fold, how many distinct ones and
  the share of folds that chose the most frequent one (1.0: the same value every fold).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from engine.backtest import prepare_prices, run_backtest, window_slice
from engine.errors import EngineError
from engine.metrics import compute_metrics
from engine.spec import parse_spec, set_by_path
from engine.sweep import Where, run_sweep

__all__ = ["DEFAULT_FOLDS", "DEFAULT_IN_SAMPLE_SIZE", "MAX_FOLDS", "SELECTION_METRICS",
           "WalkForwardError", "WalkForwardResult", "fold_windows", "run_walkforward"]

Progress = Callable[[float, str], None]
Mode = Literal["rolling", "anchored"]

DEFAULT_FOLDS = 5
MAX_FOLDS = 50
DEFAULT_IN_SAMPLE_SIZE = 4  # IS windows of 4 OOS windows' length
MAX_IN_SAMPLE_SIZE = 20
MIN_BARS_PER_WINDOW = 20
#: Metrics a fold may be optimised on; all are "higher is better" (max_drawdown is negative).
SELECTION_METRICS = ("sharpe", "sortino", "cagr", "total_return", "calmar", "profit_factor",
                     "final_equity", "max_drawdown", "win_rate")


class WalkForwardError(EngineError, ValueError):
    """Walk-forward settings that cannot work on these bars; the message says how to fix them."""


@dataclass(frozen=True)
class Fold:
    """Bar positions (within the spec's window) of one fold: ``[is_start, is_stop)`` in sample
    and ``[oos_start, oos_stop)`` out of sample."""

    is_start: int
    is_stop: int
    oos_start: int
    oos_stop: int


def fold_windows(n_bars: int, folds: int, in_sample_size: int, mode: Mode) -> list[Fold]:
    """The folds of the module docstring's layout on ``n_bars`` bars."""
    step = n_bars // (folds + in_sample_size)
    if step < MIN_BARS_PER_WINDOW:
        raise WalkForwardError(
            f"folds: {folds} folds with in_sample_size {in_sample_size} cut {n_bars} bars into "
            f"windows of {step} bars; at least {MIN_BARS_PER_WINDOW} are needed: use fewer "
            "folds, a smaller in_sample_size or a longer date range")
    windows = []
    for i in range(folds):
        oos_start = (in_sample_size + i) * step
        oos_stop = n_bars if i == folds - 1 else oos_start + step
        is_start = 0 if mode == "anchored" else oos_start - in_sample_size * step
        windows.append(Fold(is_start, oos_start, oos_start, oos_stop))
    return windows


@dataclass(frozen=True)
class WalkForwardResult:
    """Outcome of :func:`run_walkforward`; :meth:`to_dict` is the walk-forward result
    (docs/results.md)."""

    spec: dict[str, Any]
    grid: dict[str, list[Any]]
    settings: dict[str, Any]
    folds: list[dict[str, Any]]
    equity: list[dict[str, Any]]
    metrics: dict[str, Any]
    efficiency: float | None
    stability: dict[str, dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"spec": self.spec, "grid": self.grid, "settings": self.settings,
                "folds": self.folds, "oos_equity": self.equity, "oos_metrics": self.metrics,
                "efficiency": self.efficiency, "stability": self.stability}


def run_walkforward(spec: Any, prices: pd.DataFrame, grid: Mapping[str, list[Any]], *,
                    folds: int = DEFAULT_FOLDS, in_sample_size: int = DEFAULT_IN_SAMPLE_SIZE,
                    mode: Mode = "rolling", metric: str = "sharpe", where: Where | None = None,
                    benchmark_prices: pd.DataFrame | None = None, risk_free: float = 0.0,
                    adjust: bool = True, progress: Progress | None = None
                    ) -> WalkForwardResult:
    """Walk-forward validation of ``spec`` over ``grid`` (see the module docstring).

    Parameters
    ----------
    spec, prices, benchmark_prices, risk_free, adjust : as for ``run_backtest``.
    grid, where : as for ``run_sweep`` (the combinations tried on every IS window).
    folds : number of OOS windows. in_sample_size : IS length in OOS windows.
    mode : ``rolling`` (IS of fixed length) or ``anchored`` (IS from the first bar).
    metric : what the IS optimisation maximises, one of :data:`SELECTION_METRICS`.
    progress : optional ``progress(fraction, stage)``; stage ``fold i of k``.

    Raises
    ------
    WalkForwardError : unusable settings. SpecError, GridError, PriceDataError : as the sweep.
    """
    if metric not in SELECTION_METRICS:
        raise WalkForwardError(f"metric: must be one of {', '.join(SELECTION_METRICS)}")
    if mode not in ("rolling", "anchored"):
        raise WalkForwardError("mode: must be rolling or anchored")
    report = progress or (lambda fraction, stage: None)
    base = parse_spec(spec).to_dict()
    bars = prepare_prices(prices, adjust, what=f"prices of {base['symbol']}")
    span = window_slice(bars.index, base["start"], base["end"])
    days = bars.index[span]
    windows = fold_windows(len(days), folds, in_sample_size, mode)

    def day(position: int) -> str:
        return days[position].strftime("%Y-%m-%d")

    rows: list[dict[str, Any]] = []
    stitched: list[dict[str, Any]] = []
    level = float(base["initial_cash"])  # stitched equity at the end of the previous fold
    for i, fold in enumerate(windows):
        stage = f"fold {i + 1} of {len(windows)}"
        report(i / len(windows), stage)
        window = {**base, "start": day(fold.is_start), "end": day(fold.is_stop - 1)}
        # The sweep gets no bar after the IS window: nothing later can sway the choice.
        history = prices.loc[: days[fold.is_stop - 1]]
        swept = run_sweep(window, history, grid, benchmark_prices=benchmark_prices,
                          risk_free=risk_free, where=where, adjust=adjust, overfitting=False,
                          progress=lambda f, _s, i=i, stage=stage:
                          report((i + 0.8 * f) / len(windows), stage))
        chosen, note = _best(swept.results, metric), None
        if chosen is None:
            chosen = next((row for row in swept.results if row.get("metrics")), None)
            note = f"no combination has a {metric} in sample; the first valid one is kept"
        if chosen is None:
            raise WalkForwardError(f"fold {i + 1}: no combination of the grid runs on "
                                   f"{window['start']}..{window['end']}: "
                                   f"{swept.results[0].get('error')}")
        oos_spec = _with_params(base, chosen["params"])
        oos_spec.update(start=day(fold.oos_start), end=day(fold.oos_stop - 1))
        traded = run_backtest(oos_spec, prices.loc[: days[fold.oos_stop - 1]],
                              benchmark_prices, risk_free=risk_free, adjust=adjust)
        scale = level / float(base["initial_cash"])
        for date, value in zip(np.datetime_as_string(traded.dates, unit="D").tolist(),
                               traded.equity_curve.tolist(), strict=True):
            stitched.append({"date": date, "equity": value * scale, "fold": i})
        level = stitched[-1]["equity"]
        rows.append({"fold": i,
                     "in_sample": {"start": window["start"], "end": window["end"],
                                   "bars": fold.is_stop - fold.is_start},
                     "out_of_sample": {"start": oos_spec["start"], "end": oos_spec["end"],
                                       "bars": fold.oos_stop - fold.oos_start},
                     "params": chosen["params"],
                     "in_sample_metrics": chosen["metrics"],
                     "out_of_sample_metrics": traded.metrics,
                     "note": note})
    report(1.0, "stitching")
    values = np.array([point["equity"] for point in stitched])
    dates = pd.DatetimeIndex([point["date"] for point in stitched]).to_numpy()
    metrics = compute_metrics(values, dates, float(base["initial_cash"]), risk_free=risk_free)
    in_sample = [row["in_sample_metrics"].get("cagr") for row in rows]
    mean_is = float(np.mean(in_sample)) if all(v is not None for v in in_sample) else None
    efficiency = (None if not mean_is or metrics.get("cagr") is None
                  else float(metrics["cagr"] / mean_is))
    settings = {"folds": folds, "in_sample_size": in_sample_size, "mode": mode,
                "metric": metric, "positions_at_boundaries": "flattened"}
    checked_grid = {key: list(values) for key, values in swept.grid.items()}
    return WalkForwardResult(base, checked_grid, settings, rows, stitched, metrics, efficiency,
                             parameter_stability([row["params"] for row in rows]))


def _best(results: list[dict[str, Any]], metric: str) -> dict[str, Any] | None:
    best, best_value = None, -np.inf
    for row in results:
        value = (row.get("metrics") or {}).get(metric)
        if isinstance(value, int | float) and np.isfinite(value) and value > best_value:
            best, best_value = row, value
    return best


def _with_params(base: dict[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    spec = json.loads(json.dumps(base))  # a deep copy that never shares sub-objects
    for key, value in params.items():
        for path in key.split(","):
            set_by_path(spec, path.strip(), value)
    return spec


def parameter_stability(chosen: list[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per grid key: ``values`` chosen fold by fold, ``distinct`` count, the most frequent
    value (``mode``, the earliest on ties) and ``mode_share``, the share of folds choosing it."""
    stability: dict[str, dict[str, Any]] = {}
    for key in chosen[0] if chosen else {}:
        values = [params[key] for params in chosen]
        counts = Counter(json.dumps(v, sort_keys=True) for v in values)
        top = max(counts.values())
        mode = next(v for v in values if counts[json.dumps(v, sort_keys=True)] == top)
        stability[key] = {"values": values, "distinct": len(counts), "mode": mode,
                          "mode_share": top / len(values)}
    return stability
