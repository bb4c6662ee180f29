"""Monte Carlo of a STRATEGY: synthetic futures of the traded symbol, and the strategy run on each.

Paths
-----
1. **Relative bars.** Each real bar of the source sample becomes ``(open, high, low, close) /
   previous close`` plus its volume (:func:`relative_bars`), so a resampled bar keeps its gap, its
   range and its close-to-close return, and the strategy's rules and stops see realistic bars.
2. **Stationary block bootstrap** (Politis & Romano 1994; :func:`stationary_bootstrap_indices`):
   each path starts at a random bar; every next day either continues the current block (the next
   source bar, wrapping around at the end) or, with probability ``1 / block_length``, starts a new
   block at a random bar. Block lengths are therefore geometric with mean ``block_length``; 1
   gives the i.i.d. bootstrap. Volatility clusters and autocorrelation up to about the block
   length survive. A seed fixes everything: paths come in chunks of :data:`CHUNK_PATHS`, chunk
   ``k`` draws from ``numpy.random.SeedSequence(seed).spawn(...)[k]``, so the first paths of a
   larger run are the paths of a smaller one.
3. **Parametric shocks** (:func:`apply_shocks`), optional: a volatility multiplier ``m`` scales
   every log relative price around the source's mean daily log return ``mu``
   (``x -> mu + m * (x - mu)``: the drift stays, the dispersion of gaps, ranges and returns is
   ``m`` times larger); a one-day gap of ``gap_pct`` % multiplies the whole bar of day
   ``gap_day`` (1 = the first simulated day) by ``1 + gap_pct / 100``, so it opens through any stop.
4. **Prices** (:func:`bars_from_relative`): closes compound from the last real close; each bar is
   its relative bar times the previous close.

Strategy on the paths
---------------------
Every path is the last real bars (for indicator warm-up: at least 252, or five times the rules'
lookback) followed by its synthetic days. The paths are laid end to end in one long series,
each behind ``max_warmup + 1`` NaN bars; every indicator restarts after a NaN and no lookback
reaches across the gap (``engine.indicators``' documented NaN rule), so ONE evaluation of the
rule trees (``engine.signals.evaluate_rules``) gives every path's signals exactly as a separate
evaluation of that path would. ``engine.simulate.simulate_many`` then runs the compiled
simulator on each path in parallel threads (numba ``prange``).

Each path is a window whose base is the close of the last real bar, like a replay window: the
strategy starts flat with ``initial_cash`` there, the first fill is on the first synthetic day,
and day 0 of the fan is 100 for every path.

Statistics per path: final return ``E_H / E_0 - 1``; max drawdown with ``E_0`` as the first peak;
Sharpe ``mean(r - rf) / std(r - rf, ddof=1) * sqrt(252)`` of the ``H`` daily returns (undefined,
and left out of the percentiles, when the path's equity never moves). Percentiles use
``numpy.percentile`` (linear interpolation). ``prob_loss_worse_than[x]`` is the share of paths
with a final return below ``-x``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from engine.metrics import PERIODS_PER_YEAR, curve_statistics
from engine.scenarios import StressInputError
from engine.signals import IndicatorCache, evaluate_rules, max_warmup
from engine.simulate import SimConfig, simulate_many

__all__ = [
    "CHUNK_PATHS",
    "PERCENTILES",
    "apply_shocks",
    "bars_from_relative",
    "check_monte_carlo_options",
    "path_signals",
    "relative_bars",
    "run_monte_carlo",
    "simulate_paths",
    "stationary_bootstrap_indices",
]

PERCENTILES = (5, 25, 50, 75, 95)
CHUNK_PATHS = 250
MAX_PATHS = 10_000
MAX_HORIZON_DAYS = 2_520
MAX_CELLS = 5_000_000  # paths x horizon: the equity paths are kept for the fan chart (40 MB)
MIN_WARMUP_BARS = 252
HISTOGRAM_BINS = 30
_OHLC = ("open", "high", "low", "close")

Progress = Callable[[float, str], None]


def _require(name: str, value: Any, low: float, high: float, *, whole: bool = False,
             low_excluded: bool = False) -> None:
    kinds = (int, np.integer) if whole else (int, float, np.integer, np.floating)
    fits = isinstance(value, kinds) and not isinstance(value, bool) and (
        low < value <= high if low_excluded else low <= value <= high)
    if not fits:
        what = "a whole number" if whole else "a number"
        bounds = f"above {low:,} and at most {high:,}" if low_excluded else \
            f"from {low:,} to {high:,}"
        raise StressInputError(f"{name}: must be {what} {bounds}, got {value!r}")


def check_monte_carlo_options(paths: int, horizon_days: int, block_length: float,
                              vol_multiplier: float = 1.0, gap_pct: float | None = None,
                              gap_day: int = 1) -> None:
    """Raise :class:`StressInputError` naming the first option out of range."""
    _require("paths", paths, 0, MAX_PATHS, whole=True)
    _require("horizon_days", horizon_days, 1, MAX_HORIZON_DAYS, whole=True)
    if paths * horizon_days > MAX_CELLS:
        raise StressInputError(f"paths x horizon_days: at most {MAX_CELLS:,} days in all, got "
                               f"{paths:,} x {horizon_days:,}; use fewer paths or a shorter "
                               "horizon")
    _require("block_length", block_length, 1, 252)
    _require("vol_multiplier", vol_multiplier, 0, 10, low_excluded=True)
    if gap_pct is not None:
        _require("gap_pct", gap_pct, -99, 100)
        _require("gap_day", gap_day, 1, horizon_days, whole=True)


def relative_bars(bars: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Bars relative to the previous close: ``(rel, volume)``.

    ``rel`` has shape (n - 1, 4): open, high, low and close of bars 1..n-1 divided by the close
    of the bar before; ``volume`` (n - 1,) the bars' volumes.
    """
    prices = bars[list(_OHLC)].to_numpy(dtype=np.float64)
    rel = prices[1:] / prices[:-1, 3:4]
    volume = bars["volume"].to_numpy(dtype=np.float64)[1:] if "volume" in bars else \
        np.zeros(len(rel))
    return rel, volume


def stationary_bootstrap_indices(n_source: int, paths: int, horizon: int, block_length: float,
                                 rng: np.random.Generator) -> np.ndarray:
    """Source bar index of every (path, day), shape (paths, horizon): Politis-Romano.

    Day 0 and every day where a uniform draw is below ``p = 1 / block_length`` start a block at a
    uniformly drawn bar; other days take the bar after the previous day's, modulo ``n_source``.
    Vectorised: each day looks up the start and the first day of the block it belongs to.
    """
    if n_source < 1:
        raise StressInputError("the bootstrap needs at least one source bar")
    starts = rng.integers(0, n_source, size=(paths, horizon))
    new_block = rng.random((paths, horizon)) < 1.0 / block_length
    new_block[:, 0] = True
    day = np.arange(horizon)
    block_first_day = np.maximum.accumulate(np.where(new_block, day, 0), axis=1)
    first_bar = np.take_along_axis(starts, block_first_day, axis=1)
    return (first_bar + (day - block_first_day)) % n_source


def apply_shocks(rel: np.ndarray, *, mean_log_return: float, vol_multiplier: float = 1.0,
                 gap_pct: float | None = None, gap_day: int = 1) -> np.ndarray:
    """Relative bars (paths, horizon, 4) with the parametric shocks of the module docstring."""
    out = rel
    if vol_multiplier != 1.0:
        log_rel = np.log(rel)
        out = np.exp(mean_log_return + vol_multiplier * (log_rel - mean_log_return))
    if gap_pct is not None and gap_pct != 0:
        out = out.copy() if out is rel else out
        out[:, gap_day - 1, :] *= 1.0 + gap_pct / 100.0
    return out


def bars_from_relative(last_close: float, rel: np.ndarray) -> dict[str, np.ndarray]:
    """OHLC arrays (paths, horizon) from relative bars (paths, horizon, 4) after ``last_close``.

    ``close_t = close_{t-1} * rel_close_t`` compounding from ``last_close``; the other prices are
    ``close_{t-1} * rel``. High and low are widened to contain the open and close should
    rounding have moved them apart by an ulp.
    """
    paths = rel.shape[0]
    growth = np.concatenate((np.full((paths, 1), float(last_close)), rel[:, :, 3]), axis=1)
    closes = np.cumprod(growth, axis=1)
    previous = closes[:, :-1]
    open_ = previous * rel[:, :, 0]
    close = closes[:, 1:]
    high = np.maximum(previous * rel[:, :, 1], np.maximum(open_, close))
    low = np.minimum(previous * rel[:, :, 2], np.minimum(open_, close))
    return {"open": open_, "high": high, "low": low, "close": close}


def path_signals(entry: Mapping[str, Any], exit_: Mapping[str, Any], history: pd.DataFrame,
                 paths: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Entry and exit signals (paths, len(history) + horizon) of rule trees on every path.

    ``history`` holds the real bars every path continues (open, high, low, close, volume);
    ``paths`` the synthetic bars, arrays (paths, horizon) per column. See the module docstring
    for why one evaluation over NaN-separated paths equals one evaluation per path.
    """
    n_paths, horizon = paths["close"].shape
    gap = max(max_warmup(entry), max_warmup(exit_)) + 1
    width = gap + len(history) + horizon
    columns = {}
    for name in (*_OHLC, "volume"):
        block = np.full((n_paths, width), np.nan)
        block[:, gap:gap + len(history)] = history[name].to_numpy(dtype=np.float64)
        block[:, gap + len(history):] = paths[name]
        columns[name] = block.ravel()
    cache = IndicatorCache()
    entries = evaluate_rules(entry, columns, cache).reshape(n_paths, width)[:, gap:]
    exits = evaluate_rules(exit_, columns, cache).reshape(n_paths, width)[:, gap:]
    return entries, exits


def simulate_paths(ohlc: Mapping[str, np.ndarray], entries: np.ndarray, exits: np.ndarray,
                   config: SimConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run the simulator on every path: ``(equity, position, num_trades)``.

    ``ohlc`` arrays and the boolean ``entries``/``exits`` have shape (paths, bars) and must be
    valid bars (positive, low <= open, close <= high). Row ``j`` of the result equals
    ``engine.simulate.simulate`` on row ``j`` of the inputs (``simulate_many``: the same compiled
    kernel).
    """
    result = simulate_many(*(np.asarray(ohlc[name]).T for name in _OHLC), np.asarray(entries).T,
                           np.asarray(exits).T, config)
    return result.equity.T, result.position.T, result.num_trades


def _percentiles(values: np.ndarray) -> dict[str, float | None]:
    defined = values[np.isfinite(values)]
    if defined.size == 0:
        return {f"p{q}": None for q in PERCENTILES}
    return {f"p{q}": float(v) for q, v in zip(PERCENTILES, np.percentile(defined, PERCENTILES),
                                               strict=True)}


def path_statistics(equity: np.ndarray, risk_free: float = 0.0,
                    periods_per_year: float = PERIODS_PER_YEAR) -> dict[str, np.ndarray]:
    """Per-path final return, max drawdown and Sharpe of equity paths (paths, 1 + horizon);
    column 0 is each path's base (conventions in the module docstring; computed by
    ``engine.metrics.curve_statistics``, the pieces of ``compute_metrics``)."""
    return curve_statistics(equity, risk_free, periods_per_year)


def run_monte_carlo(spec: Mapping[str, Any], source: pd.DataFrame, history: pd.DataFrame,
                    config: SimConfig, *, paths: int = 1000, horizon_days: int = 252,
                    block_length: float = 20, seed: int = 0, vol_multiplier: float = 1.0,
                    gap_pct: float | None = None, gap_day: int = 1, risk_free: float = 0.0,
                    periods_per_year: float = PERIODS_PER_YEAR,
                    loss_thresholds: Sequence[float] = (0.1, 0.2, 0.3),
                    progress: Progress | None = None) -> dict[str, Any]:
    """The docs/results.md#stress-result ``monte_carlo`` object of a normalised spec.

    Parameters
    ----------
    spec : normalised spec dict (its ``entry`` and ``exit`` rule trees are used).
    source : real bars whose relative moves are resampled (at least 2 bars).
    history : real bars up to "now"; the paths continue its last close and its tail warms the
        indicators up.
    config : execution settings (``engine.backtest.sim_config``).
    paths, horizon_days, block_length, seed : the bootstrap (module docstring).
    vol_multiplier, gap_pct, gap_day : parametric shocks (:func:`apply_shocks`).
    risk_free : ANNUAL rate for the Sharpe ratios.
    periods_per_year : bars a year of the resampled bars, for the Sharpe ratios.
    loss_thresholds : losses ``x`` (fractions) for ``prob_loss_worse_than``.
    progress : ``progress(fraction, stage)`` after each chunk of paths.
    """
    check_monte_carlo_options(paths, horizon_days, block_length, vol_multiplier, gap_pct,
                              gap_day)
    rel_source, volume_source = relative_bars(source)
    if len(rel_source) < 2:
        raise StressInputError("Monte Carlo: the source window has fewer than 3 bars; choose "
                               "a longer backtest window")
    mean_log_return = float(np.log(rel_source[:, 3]).mean())
    lookback = max(max_warmup(spec["entry"]), max_warmup(spec["exit"]))
    warm = history.iloc[-min(len(history), max(MIN_WARMUP_BARS, 5 * lookback)):]
    last_close = float(history["close"].iloc[-1])
    equity = np.empty((paths, horizon_days + 1))
    exposure = np.empty(paths)
    trades = np.empty(paths, dtype=np.int64)
    hold = np.empty((paths, horizon_days + 1))
    chunk_seeds = np.random.SeedSequence(seed).spawn(max(1, math.ceil(paths / CHUNK_PATHS)))
    for k, first in enumerate(range(0, paths, CHUNK_PATHS)):
        count = min(CHUNK_PATHS, paths - first)
        rng = np.random.default_rng(chunk_seeds[k])
        picks = stationary_bootstrap_indices(len(rel_source), count, horizon_days, block_length,
                                             rng)
        rel = apply_shocks(rel_source[picks], mean_log_return=mean_log_return,
                           vol_multiplier=vol_multiplier, gap_pct=gap_pct, gap_day=gap_day)
        synthetic = bars_from_relative(last_close, rel)
        synthetic["volume"] = volume_source[picks]
        entries, exits = path_signals(spec["entry"], spec["exit"], warm, synthetic)
        # The window: the last real bar (the base) and the synthetic days.
        ohlc = {name: np.concatenate((np.full((count, 1), float(warm[name].iloc[-1])),
                                      synthetic[name]), axis=1) for name in _OHLC}
        entries, exits = entries[:, len(warm) - 1:], exits[:, len(warm) - 1:]
        if config.fill == "close":  # nothing fills at the base's close
            entries[:, 0] = exits[:, 0] = False
        rows = slice(first, first + count)
        equity[rows], position, trades[rows] = simulate_paths(ohlc, entries, exits, config)
        exposure[rows] = np.count_nonzero(position[:, 1:], axis=1) / horizon_days
        hold[rows] = ohlc["close"] / last_close
        if progress is not None:
            progress((first + count) / paths, "monte carlo")
    return _summary(equity, hold, exposure, trades, paths=paths, horizon_days=horizon_days,
                    block_length=block_length, seed=seed, risk_free=risk_free,
                    periods_per_year=periods_per_year, loss_thresholds=loss_thresholds, shocks={
                        "vol_multiplier": vol_multiplier, "gap_pct": gap_pct,
                        "gap_day": gap_day if gap_pct is not None else None},
                    source=(source.index[0], source.index[-1]), warmup_bars=len(warm))


def _summary(equity: np.ndarray, hold: np.ndarray, exposure: np.ndarray, trades: np.ndarray, *,
             paths: int, horizon_days: int, block_length: float, seed: int, risk_free: float,
             periods_per_year: float, loss_thresholds: Sequence[float],
             shocks: dict[str, Any], source: tuple[pd.Timestamp, pd.Timestamp],
             warmup_bars: int) -> dict[str, Any]:
    stats = path_statistics(equity, risk_free, periods_per_year)
    held = path_statistics(hold, risk_free, periods_per_year)
    fan = np.percentile(equity / equity[:, :1] * 100.0, PERCENTILES, axis=0)
    both = np.concatenate((stats["final_return"], held["final_return"]))
    edges = np.histogram_bin_edges(both[np.isfinite(both)], bins=HISTOGRAM_BINS)
    return {
        "paths": paths, "horizon_days": horizon_days, "block_length": block_length,
        "seed": seed,
        "final_return": _percentiles(stats["final_return"]),
        "max_drawdown": _percentiles(stats["max_drawdown"]),
        "sharpe": _percentiles(stats["sharpe"]),
        "prob_loss_worse_than": {f"{x:g}": float(np.mean(stats["final_return"] < -x))
                                 for x in loss_thresholds},
        "fan": [{"day": day, **{f"p{q}": float(fan[i, day]) for i, q in enumerate(PERCENTILES)}}
                for day in range(horizon_days + 1)],
        # Extra fields (docs/results.md#stress-result allows optional additions):
        "sharpe_defined_paths": int(np.isfinite(stats["sharpe"]).sum()),
        # Share of paths on which the account was ruined (equity 0, engine.simulate "Ruin").
        "prob_ruin": float(np.mean(equity[:, -1] <= 0.0)),
        "periods_per_year": periods_per_year,
        "num_trades": _percentiles(trades.astype(np.float64)),
        "exposure": _percentiles(exposure),
        "buy_and_hold": {"final_return": _percentiles(held["final_return"]),
                         "max_drawdown": _percentiles(held["max_drawdown"]),
                         "prob_loss_worse_than": {
                             f"{x:g}": float(np.mean(held["final_return"] < -x))
                             for x in loss_thresholds}},
        "histogram": {"edges": [float(e) for e in edges],
                      "strategy": np.histogram(stats["final_return"], edges)[0].tolist(),
                      "buy_and_hold": np.histogram(held["final_return"], edges)[0].tolist()},
        "shocks": shocks,
        "source": {"start": source[0].strftime("%Y-%m-%d"), "end": source[1].strftime("%Y-%m-%d")},
        "warmup_bars": warmup_bars,
    }
