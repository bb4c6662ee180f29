"""Performance and risk metrics of a backtest.

Every function here is pure: arrays in, Python floats/ints (or ``None``) out. The conventions
below are the product's; ``compute_metrics`` applies all of them and returns the contract §3
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
exposure; ``kernel`` and ``compute`` the whole set; ``curves`` the same statistics of many
curves at once (Monte Carlo paths).

Conventions
-----------
Periods
    ``PERIODS_PER_YEAR = 252`` periods (bars) a year for annualising per-period statistics
    (volatility, Sharpe, Sortino, alpha). Functions that annualise take ``periods_per_year``;
    for non-daily bars pass e.g. ``infer_periods_per_year(dates)``.
Returns
    Simple period returns. The starting capital is the value before the first bar:
    ``r_0 = equity_0 / initial_cash - 1`` and ``r_t = equity_t / equity_{t-1} - 1``, so ``n`` bars
    give ``n`` returns. Equity is assumed positive (an account that reaches 0 stays flat: a period
    that starts at 0 has return 0).
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
    ``cvar_95`` is the mean of the returns ``<= var_95``.
Beta and alpha
    On aligned period returns of the strategy ``r`` and benchmark ``b``:
    ``beta = cov(r, b, ddof=1) / var(b, ddof=1)``; alpha is Jensen's alpha annualised
    arithmetically: ``(mean(e) - beta * mean(e_b)) * periods_per_year``. ``None`` without a
    benchmark, with fewer than 2 aligned pairs, or when the benchmark is constant.
Trades
    ``num_trades``; ``win_rate`` = share of trades with pnl > 0; ``profit_factor`` = sum of gains /
    |sum of losses| (``None`` without losing trades); ``avg_trade_return`` = mean trade return.
Exposure
    Fraction of bars whose position (units) is non-zero.
Undefined values
    ``None`` (JSON null), never NaN or inf: e.g. Sharpe of a flat curve, ratios with fewer than 2
    bars, trade statistics without trades. A standard deviation below 1e-12 of the mean counts
    as 0 (rounding noise of constant returns). Inputs with NaN/inf equity raise ``ValueError``.
"""

from engine.metrics.benchmark import beta_alpha
from engine.metrics.compute import compute_metrics
from engine.metrics.conventions import (
    DAYS_PER_YEAR,
    METRIC_KEYS,
    PERIODS_PER_YEAR,
    VAR_LEVEL,
    infer_periods_per_year,
    per_period_risk_free,
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
from engine.metrics.tail_risk import conditional_value_at_risk, value_at_risk
from engine.metrics.trades import exposure, trade_stats

__all__ = [
    "DAYS_PER_YEAR",
    "METRIC_KEYS",
    "PERIODS_PER_YEAR",
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
    "sharpe_ratio",
    "sortino_ratio",
    "total_return",
    "trade_stats",
    "value_at_risk",
]
