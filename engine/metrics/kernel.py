"""The compiled single pass behind ``compute_metrics``: every raw statistic of one equity curve.

It composes the compiled pieces of the metric modules (returns, drawdowns, tail risk,
benchmark, trades), so each statistic is computed by the same code as its public function, and
returns them as a :class:`RawMetrics` named tuple. The rules that turn them into reported
values (``None`` for undefined, the noise rule, CAGR, Calmar) are applied by
``engine.metrics.compute``.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from engine.metrics.benchmark import finite_pairs
from engine.metrics.drawdowns import drawdown_walk
from engine.metrics.returns import excess_returns, mean_and_std, period_returns_into, shortfall
from engine.metrics.tail_risk import SELECT_IN_KERNEL_MAX, var_cvar_compiled
from engine.metrics.trades import count_nonzero, trade_sums


class RawMetrics(NamedTuple):
    """Raw statistics of one equity curve of ``n`` bars (NaN where undefined).

    Attributes
    ----------
    returns : period returns ``r`` (n,); shortfall : ``min(e, 0)`` of the excess returns (n,).
    mean_returns, std_returns : ``mean(r)``, ``std(r, ddof=1)`` (NaN for n < 2).
    mean_excess, std_excess : the same of ``e = r - rf_p``.
    worst_ratio : ``min(equity / peak)``; longest_days : longest time under water (days).
    days : calendar days from the first to the last date.
    var, cvar : VaR and CVaR (mean of the ``tail`` worst) of ``r`` (NaN without bars or above
        ``SELECT_IN_KERNEL_MAX``).
    strategy, centred : the finite (strategy, benchmark - mean) return pairs, for the dot
        products NumPy (BLAS) computes; mean_benchmark, mean_paired : their means; pairs : their
        number (0 without a benchmark).
    wins, gains, losses, mean_trade_return : see ``engine.metrics.trades.trade_sums``.
    nonzero_positions : bars with a non-zero ``positions`` value (0 without positions).
    """

    returns: np.ndarray
    shortfall: np.ndarray
    mean_returns: float
    std_returns: float
    mean_excess: float
    std_excess: float
    worst_ratio: float
    longest_days: int
    days: int
    var: float
    cvar: float
    strategy: np.ndarray
    centred: np.ndarray
    mean_benchmark: float
    mean_paired: float
    pairs: int
    wins: int
    gains: float
    losses: float
    mean_trade_return: float
    nonzero_positions: int


@numba.njit(cache=True, nogil=True)
def metrics_kernel(
    equity, cash, date_ticks, ticks_per_day, rf_p, quantile, tail, benchmark, has_benchmark,
    pnl, trade_returns, positions, has_positions,
):  # pragma: no cover - compiled
    """:class:`RawMetrics` of one equity curve; see ``engine.metrics.compute_metrics``."""
    n = equity.shape[0]
    work = np.empty(max(n, pnl.shape[0], trade_returns.shape[0]))
    returns = period_returns_into(equity, cash, np.empty(n))
    mean_r, std_r = mean_and_std(returns, work)
    excess = excess_returns(returns, rf_p)
    if rf_p != 0.0:
        mean_e, std_e = mean_and_std(excess, work)
    else:
        mean_e, std_e = mean_r, std_r
    worst, longest = drawdown_walk(equity, cash, date_ticks, ticks_per_day, True)
    days = 0
    var = np.nan
    cvar = np.nan
    if n > 0:
        days = (date_ticks[n - 1] // ticks_per_day) - (date_ticks[0] // ticks_per_day)
        if n <= SELECT_IN_KERNEL_MAX:
            var, cvar = var_cvar_compiled(returns, quantile, tail, work)
    strategy = np.empty(0)
    centred = np.empty(0)
    mean_b = np.nan
    mean_s = np.nan
    pairs = 0
    if has_benchmark:
        strategy, centred, mean_b, mean_s, pairs = finite_pairs(returns, benchmark)
    wins, gains, losses, mean_trade = trade_sums(pnl, trade_returns, work)
    nonzero = count_nonzero(positions) if has_positions else 0
    return RawMetrics(
        returns, shortfall(excess), mean_r, std_r, mean_e, std_e, worst, longest, days, var,
        cvar, strategy, centred, mean_b, mean_s, pairs, wins, gains, losses, mean_trade, nonzero,
    )
