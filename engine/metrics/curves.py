"""The same statistics of many equity curves at once (Monte Carlo paths), in parallel threads.

Each curve goes through the compiled pieces ``compute_metrics`` uses (period returns, mean and
standard deviation, the drawdown walk) and the same Sharpe rule, so a path's statistics equal
``compute_metrics`` of that path with its first value as the starting capital.
"""

from __future__ import annotations

import numba
import numpy as np

from engine.metrics.conventions import PERIODS_PER_YEAR, per_period_risk_free
from engine.metrics.drawdowns import drawdown_walk
from engine.metrics.returns import excess_returns, mean_and_std, period_returns_into, sharpe_value

_NO_TICKS = np.empty(0, dtype=np.int64)


@numba.njit(cache=True, parallel=True)
def _curve_statistics_kernel(curves, rf_p, periods_per_year, no_ticks,
                             final_return, worst_ratio, sharpe):  # pragma: no cover - compiled
    n_curves, width = curves.shape
    for j in numba.prange(n_curves):
        base = curves[j, 0]
        equity = curves[j, 1:]
        returns = period_returns_into(equity, base, np.empty(width - 1))
        excess = excess_returns(returns, rf_p)
        mean, std = mean_and_std(excess, np.empty(width - 1))
        sharpe[j] = sharpe_value(mean, std, width - 1, periods_per_year)
        if equity[width - 2] <= 0.0:  # ruined (0 from the ruin on): no Sharpe, as compute_metrics
            sharpe[j] = np.nan
        worst_ratio[j], _ = drawdown_walk(equity, base, no_ticks, 1, False)
        final_return[j] = equity[width - 2] / base - 1.0


def curve_statistics(curves: np.ndarray, risk_free: float = 0.0,
                     periods_per_year: float = PERIODS_PER_YEAR) -> dict[str, np.ndarray]:
    """Final return, maximum drawdown and Sharpe ratio of each row of ``curves``.

    Parameters
    ----------
    curves : numpy.ndarray, shape (n_curves, 1 + horizon), horizon >= 1
        Equity curves; column 0 is each curve's base ``E_0`` (its starting capital, the first
        peak), columns 1.. its values at the end of each period.
    risk_free : float
        ANNUAL risk-free rate for the Sharpe ratio, converted per period.
    periods_per_year : float
        Periods a year (252 for daily values).

    Returns
    -------
    dict of numpy.ndarray (n_curves,)
        ``final_return = E_H / E_0 - 1``; ``max_drawdown = min(min_t E_t / peak_t - 1, 0)`` with
        ``E_0`` as the first peak; ``sharpe = mean(e) / std(e, ddof=1) * sqrt(periods_per_year)``
        of the ``H`` excess period returns, NaN where undefined (fewer than 2 returns, equity
        that never moves, or a ruined path, one that ends at 0, for which ``compute_metrics``
        reports no Sharpe either). The conventions of :mod:`engine.metrics`.
    """
    rows = np.ascontiguousarray(curves, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[1] < 2:
        raise ValueError(f"curves must have shape (n_curves, 1 + horizon) with horizon >= 1, "
                         f"got {rows.shape}")
    count = rows.shape[0]
    final_return, worst_ratio, sharpe = np.empty(count), np.empty(count), np.empty(count)
    _curve_statistics_kernel(rows, per_period_risk_free(risk_free, periods_per_year),
                             float(periods_per_year), _NO_TICKS, final_return, worst_ratio, sharpe)
    return {"final_return": final_return, "max_drawdown": np.minimum(worst_ratio - 1.0, 0.0),
            "sharpe": sharpe}
