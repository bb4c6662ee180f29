"""Performance and risk metrics of a backtest.

Every function here is pure: arrays in, Python floats/ints (or ``None``) out. The conventions
below are the product's; ``compute_metrics`` applies all of them and returns the
docs/results.md#backtest-result
metrics dictionary.

One implementation per metric: each module holds one concept, its compiled (numba) pieces and
the rule that turns them into the reported value; the per-metric functions and
``compute_metrics`` (one compiled pass, :mod:`engine.metrics.kernel`) call the same pieces.
Sums, means, standard deviations and percentiles reproduce NumPy's arithmetic
(:mod:`engine.metrics.numpy_compiled`).

Modules
-------
``conventions`` constants, risk-free rate per period, periods a year; ``inputs`` checks;
``returns`` returns, CAGR, volatility, Sharpe, Sortino; ``drawdowns`` drawdowns and Calmar;
``tail_risk`` VaR and CVaR; ``benchmark`` beta and alpha; ``trades`` trade statistics and
exposure; ``ruin`` the bar where equity reaches 0; ``kernel`` and ``compute`` the whole set;
``curves`` the same statistics of many curves at once (Monte Carlo paths).

Conventions
-----------
Periods
    One period is one bar. ``periods_per_year`` annualises per-period statistics (volatility,
    Sharpe, Sortino, the risk-free conversion, alpha) and follows the bars:
    ``infer_periods_per_year(dates)`` gives 252 for daily bars, 52 weekly, 12 monthly, 4
    quarterly and ``252 * bars per session`` intraday. Backtests use it unless the spec sets
    ``periods_per_year``, and state the value in ``meta.periods_per_year``. The functions'
    default is ``PERIODS_PER_YEAR = 252`` (daily bars).
Returns
    Simple period returns. The starting capital is the value before the first bar:
    ``r_0 = equity_0 / initial_cash - 1`` and ``r_t = equity_t / equity_{t-1} - 1``, so ``n`` bars
    give ``n`` returns. A period that starts at 0 has return 0.
Ruin
    Equity is >= 0 (``compute_metrics`` rejects a negative value). An account whose equity
    reaches 0 is ruined on that bar (the simulator liquidates it and keeps it at 0). Its
    ``total_return`` and ``max_drawdown`` are -1, its CAGR -1 and ``final_equity`` 0. Volatility,
    VaR, CVaR and beta are computed on the periods up to and including the ruin bar (whose
    return is -1), not on the zeros after it. Sharpe, Sortino and alpha are ``None``: a mean of
    period returns can be positive on a path that lost everything (``RUINED_NULL_REASON``).
Risk-free rate
    Given as an ANNUAL rate ``risk_free`` (0.02 is 2 % a year, default 0) and converted per
    period as ``rf_p = (1 + risk_free) ** (1 / periods_per_year) - 1``. Excess returns
    ``e_t = r_t - rf_p``.
Volatility
    ``std(r, ddof=1) * sqrt(periods_per_year)`` (a fraction a year; 0.2 is 20 %).
Sharpe
    ``mean(e) / std(e, ddof=1) * sqrt(periods_per_year)`` (arithmetic, not geometric).
Sortino
    ``mean(e) * periods_per_year / (DD * sqrt(periods_per_year))`` with the downside deviation
    ``DD = sqrt(mean(min(e_t, 0) ** 2))`` taken over ALL periods (target = the per-period risk-free
    rate). It is not the standard deviation of the negative returns.
Drawdown
    The starting capital is the first peak: ``dd_t = equity_t / max(initial_cash, max_{s<=t}
    equity_s) - 1``; ``max_drawdown = min(dd)`` is a negative fraction (-0.25 is -25 %) or 0. A
    loss on the first bar counts.
Drawdown duration
    In CALENDAR days: for every stretch under water, the date equity first gets back to (>=) the
    peak minus the date of that peak, or the last date minus the peak date if it never recovers.
    The starting capital's peak is dated at the first bar's date. A bar at a new high (or exactly
    at the old one) is a peak; consecutive peaks are no drawdown. The maximum over stretches, 0
    when equity never goes under water.
Total return and CAGR
    ``total_return = final / initial_cash - 1``. CAGR on calendar time:
    ``(final / initial_cash) ** (365.25 / days) - 1`` with ``days`` the calendar days from the first
    to the last date (not bars / 252). ``None`` when ``days < 1``.
Calmar
    ``cagr / |max_drawdown|``; ``None`` when ``max_drawdown == 0`` or CAGR is undefined.
VaR and CVaR
    Historical, on period returns: ``var_95`` is the 5th percentile of the returns
    (``np.percentile``, linear interpolation), reported as a return (negative for a loss);
    ``cvar_95`` is the mean of the worst ``k = ceil(0.05 * n)`` returns (an order statistic, as
    empyrical computes it). Not "the mean of the returns <= var_95": when many returns tie
    with the VaR, that set depends on their last bits (rounding noise).
Beta and alpha
    On aligned period returns of the strategy ``r`` and benchmark ``b``:
    ``beta = cov(r, b, ddof=1) / var(b, ddof=1)``; alpha is Jensen's alpha annualised
    arithmetically: ``(mean(e) - beta * mean(e_b)) * periods_per_year``. ``None`` without a
    benchmark, with fewer than 2 aligned pairs, or when the benchmark is constant.
Trades
    ``num_trades``; ``win_rate`` = share of trades with pnl > 0; ``profit_factor`` = sum of gains /
    |sum of losses| (``None`` without losing trades); ``avg_trade_return`` = mean trade return.
Exposure
    Fraction of bars with a position held at any time during the bar (the simulator's
    ``exposed``: still held after the bar's opening fills, or held at its close), so a trade
    opened and closed inside one bar counts. Without ``exposed``, the fraction of bars whose
    position at the close is non-zero (backtests report that as ``exposure_at_close``).
Undefined values
    ``None`` (JSON null), never NaN or inf: e.g. Sharpe of a flat curve, ratios with fewer than 2
    bars, trade statistics without trades. A standard deviation below 1e-12 of the mean counts
    as 0 (rounding noise of constant returns). Inputs with NaN/inf equity raise ``ValueError``.
"""

from engine.metrics.benchmark import beta_alpha
from engine.metrics.compute import RUINED_NULL_METRICS, RUINED_NULL_REASON, compute_metrics
from engine.metrics.conventions import (
    DAYS_PER_YEAR,
    METRIC_KEYS,
    PERIODS_PER_YEAR,
    VAR_LEVEL,
    infer_periods_per_year,
    per_period_risk_free,
    tail_count,
)
from engine.metrics.curves import curve_statistics
from engine.metrics.drawdowns import (
    calmar_ratio,
    drawdown_series,
    max_drawdown,
    max_drawdown_duration_days,
)
from engine.metrics.returns import (
    annual_volatility,
    cagr,
    downside_deviation,
    period_returns,
    sharpe_ratio,
    sortino_ratio,
    total_return,
)
from engine.metrics.ruin import ruin_index
from engine.metrics.tail_risk import conditional_value_at_risk, value_at_risk
from engine.metrics.trades import exposure, trade_stats

__all__ = [
    "DAYS_PER_YEAR",
    "METRIC_KEYS",
    "PERIODS_PER_YEAR",
    "RUINED_NULL_METRICS",
    "RUINED_NULL_REASON",
    "VAR_LEVEL",
    "annual_volatility",
    "beta_alpha",
    "cagr",
    "calmar_ratio",
    "compute_metrics",
    "conditional_value_at_risk",
    "curve_statistics",
    "downside_deviation",
    "drawdown_series",
    "exposure",
    "infer_periods_per_year",
    "max_drawdown",
    "max_drawdown_duration_days",
    "per_period_risk_free",
    "period_returns",
    "ruin_index",
    "sharpe_ratio",
    "sortino_ratio",
    "tail_count",
    "total_return",
    "trade_stats",
    "value_at_risk",
]
