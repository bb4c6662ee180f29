"""Trade-order Monte Carlo (docs/results.md#robustness-result ``trade_monte_carlo``): how much of a
result is the
luck of the order its trades came in.

Each path draws the strategy's own closed-trade returns ``r_i`` (trades closed by a signal, a
stop or a target; a position still open at the end is not a closed trade) ``N`` times with
replacement, ``N`` being the number of closed trades, and compounds them:
``equity_k = prod_{i<=k} (1 + r_i)`` from a starting capital of 1, i.e. each trade is taken
with all of the equity (its return is ``pnl / (units x entry price)``). A trade return at or
below -100 % ruins the path (equity 0 from there on).

Per path: the final return ``equity_N - 1`` and the maximum drawdown on the trade-by-trade
equity with the starting capital as the first peak (``min_k equity_k / max(1, max_{j<=k}
equity_j) - 1``; the bar-by-bar drawdown inside a trade is not seen, so it is a lower bound of
the path's bar drawdown). Percentiles 5/25/50/75/95 by ``numpy.percentile`` (linear); the
probability that the maximum drawdown is worse than 10/20/30/50 %; and a fan of the equity
percentiles after ``k`` trades (at most :data:`FAN_POINTS` values of ``k``), x 100.

Paths are drawn with ``numpy.random.default_rng(seed)``, in chunks of at most
:data:`CHUNK_CELLS` draws (bounded memory); the same seed gives the same paths.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from engine.simulate import EXIT_REASONS, SimResult

PERCENTILES = (5, 25, 50, 75, 95)
DRAWDOWN_LEVELS = (0.1, 0.2, 0.3, 0.5)
FAN_POINTS = 101
CHUNK_CELLS = 2_000_000
MIN_TRADES = 2
_END_OF_DATA = EXIT_REASONS.index("end_of_data")


def closed_trade_returns(result: SimResult) -> np.ndarray:
    """Returns (fractions) of the trades that closed before the end of the data."""
    closed = result.trades["exit_reason"] != _END_OF_DATA
    return np.asarray(result.trades["return"][closed], dtype=np.float64)


def trade_log_paths(trade_returns: np.ndarray, paths: int, seed: int) -> np.ndarray:
    """Log-equity of the ``paths`` resampled orders, shape ``(paths, N + 1)``, column 0 = 0
    (the starting capital), ``-inf`` after a ruinous trade: exactly the paths
    :func:`trade_order_monte_carlo` summarises (for tests and small inputs)."""
    logs = _trade_logs(trade_returns)
    return np.concatenate([chunk for chunk in _log_equity_chunks(logs, paths, seed)])


def _log_equity_chunks(logs: np.ndarray, paths: int, seed: int) -> Iterator[np.ndarray]:
    """The paths' log-equity, ``(count, N + 1)`` at a time (at most CHUNK_CELLS draws)."""
    n = logs.size
    rng = np.random.default_rng(seed)
    chunk = max(1, CHUNK_CELLS // max(n, 1))
    for first in range(0, paths, chunk):
        count = min(chunk, paths - first)
        draws = rng.integers(0, n, size=(count, n))
        yield np.concatenate((np.zeros((count, 1)), np.cumsum(logs[draws], axis=1)), axis=1)


def trade_order_monte_carlo(trade_returns: np.ndarray, paths: int, seed: int
                            ) -> dict[str, Any] | None:
    """The summary of the module docstring; None with fewer than :data:`MIN_TRADES` trades."""
    logs = _trade_logs(trade_returns)
    n = logs.size
    if n < MIN_TRADES or paths < 1:
        return None
    fan_columns = np.unique(np.linspace(0, n, min(FAN_POINTS, n + 1)).round().astype(int))
    final = np.empty(paths)
    worst = np.empty(paths)
    fan = np.empty((paths, fan_columns.size))
    first = 0
    for log_equity in _log_equity_chunks(logs, paths, seed):
        count = log_equity.shape[0]
        with np.errstate(invalid="ignore"):
            peak = np.maximum.accumulate(log_equity, axis=1)
            below = np.where(np.isneginf(log_equity), -1.0, np.expm1(log_equity - peak))
        final[first:first + count] = np.expm1(log_equity[:, -1])
        worst[first:first + count] = below.min(axis=1)
        fan[first:first + count] = np.exp(log_equity[:, fan_columns]) * 100.0
        first += count
    fan_rows = np.percentile(fan, PERCENTILES, axis=0)
    return {
        "paths": int(paths),
        "seed": int(seed),
        "trades": int(n),
        "final_return": _percentiles(final),
        "max_drawdown": _percentiles(worst),
        "prob_drawdown_worse_than": {f"{level:g}": float(np.mean(worst < -level))
                                     for level in DRAWDOWN_LEVELS},
        "fan": [{"trade": int(k), **{f"p{q}": float(v) for q, v in
                                     zip(PERCENTILES, fan_rows[:, j], strict=True)}}
                for j, k in enumerate(fan_columns)],
    }


def _trade_logs(trade_returns: np.ndarray) -> np.ndarray:
    values = np.asarray(trade_returns, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.log1p(np.maximum(values, -1.0))


def _percentiles(values: np.ndarray) -> dict[str, float]:
    return {f"p{q}": float(v) for q, v in zip(PERCENTILES, np.percentile(values, PERCENTILES),
                                               strict=True)}
