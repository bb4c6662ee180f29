"""Cross-check engine/metrics/ against empyrical-reloaded and quantstats.

Every peer is fed OUR period returns (starting capital before the first bar), so the only
difference left is the formula. Where both use the same convention the values must agree to
1e-9 relative. Where a peer's convention differs, the comment says how (read from the installed
sources: empyrical/stats.py, quantstats/stats.py and quantstats/utils.py), and the peer is either
called with arguments that match ours or its value is converted to our convention.

Conventions that agree out of the box:
- volatility: both std(ddof=1) * sqrt(252).
- Sortino: both use sqrt(mean(min(r - T, 0) ** 2)) over ALL periods (empyrical `downside_risk`;
  quantstats sqrt(sum(neg ** 2) / count)), i.e. the correct definition.
- max drawdown from returns: empyrical anchors the running peak at a start value of 100 before
  the first return, quantstats rebuilds prices from 1.0 and adds that baseline as a phantom
  first point; both equal our "starting capital is the first peak".
- quantstats Sharpe/Sortino take an ANNUAL rf and de-annualise it as (1 + rf) ** (1/252) - 1,
  like ours.
Conventions that differ are noted at each test.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from data.bundled import load_bundled
from engine.metrics import (
    annual_volatility,
    beta_alpha,
    cagr,
    conditional_value_at_risk,
    max_drawdown,
    max_drawdown_duration_days,
    per_period_risk_free,
    period_returns,
    sharpe_ratio,
    sortino_ratio,
    value_at_risk,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the peers' own imports emit deprecation warnings
    import empyrical as ep
    import quantstats as qs
    from scipy.stats import norm

pytestmark = pytest.mark.filterwarnings("ignore")  # peers warn about pandas/numpy internals

RTOL = 1e-9
CASH = 10_000.0
RISK_FREE_RATES = [0.0, 0.035]


@dataclass(frozen=True)
class Case:
    """An equity curve with its dates and an aligned benchmark, plus our period returns."""

    name: str
    equity: np.ndarray
    dates: pd.DatetimeIndex
    benchmark_returns: np.ndarray

    @property
    def returns(self) -> pd.Series:
        return pd.Series(period_returns(self.equity, CASH), index=self.dates)

    @property
    def benchmark(self) -> pd.Series:
        return pd.Series(self.benchmark_returns, index=self.dates)

    @property
    def calendar_days(self) -> int:
        return (self.dates[-1] - self.dates[0]).days


def random_case(seed: int, first_day_loss: bool) -> Case:
    rng = np.random.default_rng(seed)
    n = 2_500
    benchmark = rng.normal(0.0004, 0.011, n)
    # fat-tailed idiosyncratic part so VaR/CVaR are not just Gaussian quantiles
    returns = 0.2 * rng.standard_t(3, n) * 0.01 + 0.8 * benchmark + 0.0001
    if first_day_loss:
        returns[0] = -0.04  # the pitfall: must show in max drawdown
    dates = pd.bdate_range("2012-01-03", periods=n)
    return Case(f"random-{seed}", CASH * np.cumprod(1 + returns), dates, benchmark)


def bundled_case(symbol: str, benchmark_symbol: str) -> Case:
    """Buy-and-hold of ``symbol`` bought at the first close, benchmark ``benchmark_symbol``."""
    frame = pd.concat(
        [load_bundled(symbol)["adj_close"], load_bundled(benchmark_symbol)["adj_close"]],
        axis=1,
        join="inner",
    )
    prices, dates = frame.to_numpy(), frame.index
    strategy, benchmark = prices[:, 0], prices[:, 1]
    equity = CASH * strategy[1:] / strategy[0]
    benchmark_returns = benchmark[1:] / benchmark[:-1] - 1
    return Case(f"{symbol}-vs-{benchmark_symbol}", equity, dates[1:], benchmark_returns)


CASES = [
    random_case(0, first_day_loss=False),
    random_case(1, first_day_loss=True),
    bundled_case("SPY", "SPY"),
    bundled_case("QQQ", "SPY"),
    bundled_case("TLT", "SPY"),
    bundled_case("XLE", "GSPC"),
]


@pytest.fixture(params=CASES, ids=lambda case: case.name)
def case(request) -> Case:
    return request.param


def close(ours: float | None, peer: float) -> bool:
    return ours is not None and math.isclose(ours, float(peer), rel_tol=RTOL, abs_tol=1e-15)


# --------------------------------------------------------------------------- volatility


def test_volatility_matches_empyrical_and_quantstats(case):
    ours = annual_volatility(case.returns)
    assert close(ours, ep.annual_volatility(case.returns.to_numpy()))
    assert close(ours, qs.stats.volatility(case.returns, periods=252))


# --------------------------------------------------------------------------- Sharpe, Sortino


@pytest.mark.parametrize("risk_free", RISK_FREE_RATES)
def test_sharpe_matches_empyrical_given_the_per_period_rate(case, risk_free):
    # empyrical's risk_free is PER PERIOD (issue 108): pass our converted rate.
    rf_p = per_period_risk_free(risk_free)
    ours = sharpe_ratio(case.returns, risk_free=risk_free)
    assert close(ours, ep.sharpe_ratio(case.returns.to_numpy(), risk_free=rf_p))


@pytest.mark.parametrize("risk_free", RISK_FREE_RATES)
def test_sharpe_matches_quantstats_given_the_annual_rate(case, risk_free):
    ours = sharpe_ratio(case.returns, risk_free=risk_free)
    assert close(ours, qs.stats.sharpe(case.returns, rf=risk_free, periods=252))


@pytest.mark.parametrize("risk_free", RISK_FREE_RATES)
def test_sortino_matches_empyrical_with_the_per_period_rate_as_target(case, risk_free):
    rf_p = per_period_risk_free(risk_free)
    ours = sortino_ratio(case.returns, risk_free=risk_free)
    # empyrical subtracts required_return in the numerator and uses it as the downside target,
    # exactly our e = r - rf_p with target 0 on e.
    assert close(ours, ep.sortino_ratio(case.returns.to_numpy(), required_return=rf_p))


@pytest.mark.parametrize("risk_free", RISK_FREE_RATES)
def test_sortino_matches_quantstats_given_the_annual_rate(case, risk_free):
    ours = sortino_ratio(case.returns, risk_free=risk_free)
    assert close(ours, qs.stats.sortino(case.returns, rf=risk_free, periods=252))


# --------------------------------------------------------------------------- max drawdown


def test_max_drawdown_matches_peers_computed_from_returns(case):
    ours = max_drawdown(case.equity, CASH)
    assert close(ours, ep.max_drawdown(case.returns.to_numpy()))
    assert close(ours, qs.stats.max_drawdown(case.returns))


def test_quantstats_on_equity_prices_takes_the_first_value_as_peak_and_matches_once_cash_leads(
    case,
):
    # Given PRICES (our equity curve) quantstats takes the first observation as the baseline, so a
    # first-day loss is invisible (quantstats issue 438). Prepending the starting capital one day
    # earlier reproduces our convention exactly.
    ours = max_drawdown(case.equity, CASH)
    equity = pd.Series(case.equity, index=case.dates)
    with_cash = pd.concat([pd.Series([CASH], index=[case.dates[0] - pd.Timedelta(days=1)]), equity])
    assert close(ours, qs.stats.max_drawdown(with_cash))
    assert qs.stats.max_drawdown(equity) >= ours - 1e-15


def test_first_day_loss_is_missed_by_the_first_value_as_peak_convention():
    # cash 100; equity 96, 97, 95.5, 99, 101. Ours: 95.5 / 100 - 1 = -0.045. quantstats on these
    # prices peaks at 96 then 97: 95.5 / 97 - 1 = -0.01546.
    dates = pd.bdate_range("2024-01-02", periods=5)
    equity = pd.Series([96.0, 97.0, 95.5, 99.0, 101.0], index=dates)
    assert max_drawdown(equity, 100.0) == pytest.approx(-0.045, rel=1e-12)
    assert qs.stats.max_drawdown(equity) == pytest.approx(95.5 / 97 - 1, rel=1e-12)
    returns = pd.Series(period_returns(equity, 100.0), index=dates)
    assert close(max_drawdown(equity, 100.0), qs.stats.max_drawdown(returns))
    assert close(max_drawdown(equity, 100.0), ep.max_drawdown(returns.to_numpy()))


def test_drawdown_duration_matches_quantstats_periods_moved_to_peak_and_recovery_dates(case):
    # quantstats' drawdown_details dates a drawdown from its first UNDER-WATER bar to its last
    # under-water bar and counts (end - start).days + 1. Ours runs from the PEAK date (the bar
    # before the first under-water bar; the first bar's date for the starting capital) to the
    # RECOVERY date (the bar after the last under-water bar; the last date if never recovered).
    # Move quantstats' start/end to those dates and the longest must equal ours.
    drawdown = qs.stats.to_drawdown_series(case.returns)
    details = qs.stats.drawdown_details(drawdown)
    assert len(details) > 0
    position = {date: i for i, date in enumerate(case.dates)}
    longest = 0
    for start, end in zip(details["start"], details["end"], strict=True):
        first_under = position[pd.Timestamp(start)]
        last_under = position[pd.Timestamp(end)]
        peak_date = case.dates[max(first_under - 1, 0)]
        recovered = last_under + 1 < len(case.dates)
        recovery_date = case.dates[last_under + 1] if recovered else case.dates[-1]
        longest = max(longest, (recovery_date - peak_date).days)
    assert max_drawdown_duration_days(case.equity, case.dates, CASH) == longest


# --------------------------------------------------------------------------- CAGR


def test_cagr_matches_peers_called_with_calendar_years(case):
    # Both peers count years as len(returns) / periods (252 by default: quantstats issues
    # 291/317/458). Passing periods = n * 365.25 / calendar_days makes their year count
    # calendar_days / 365.25, which is ours.
    ours = cagr(case.equity, case.dates, CASH)
    periods = len(case.returns) * 365.25 / case.calendar_days
    assert close(ours, ep.cagr(case.returns.to_numpy(), annualization=periods))
    assert close(ours, qs.stats.cagr(case.returns, periods=periods))


def test_cagr_differs_from_the_peers_bar_count_default(case):
    ours = cagr(case.equity, case.dates, CASH)
    growth = case.equity[-1] / CASH
    assert close(ep.cagr(case.returns.to_numpy()), growth ** (252 / len(case.returns)) - 1)
    assert close(ours, growth ** (365.25 / case.calendar_days) - 1)


# --------------------------------------------------------------------------- VaR, CVaR


def test_var_matches_empyrical_historical_percentile(case):
    # empyrical.value_at_risk is np.percentile(r, 5) (linear), like ours.
    assert close(value_at_risk(case.returns), ep.value_at_risk(case.returns.to_numpy()))


def test_var_is_historical_not_quantstats_parametric(case):
    # quantstats.value_at_risk is PARAMETRIC: norm.ppf(0.05, mean, std(ddof=1)). It cannot be
    # converted to a historical quantile; check it is that formula on our mean and volatility, and
    # that our VaR is the empirical quantile instead (checked against empyrical above and
    # against quantstats' historical CVaR threshold below).
    returns = case.returns
    volatility = annual_volatility(returns) / math.sqrt(252)
    parametric = norm.ppf(0.05, returns.mean(), volatility)
    assert close(parametric, qs.stats.value_at_risk(returns))
    assert close(value_at_risk(returns), returns.quantile(0.05))


def test_cvar_matches_empyrical_which_averages_the_same_number_of_worst_returns(case):
    # empyrical averages the k + 1 smallest returns, k = int((n - 1) * 0.05); k + 1 equals our
    # ceil(0.05 * n) for every n (0.05 * n is a multiple of 0.05, so its fractional part is 0
    # or at least 0.05): the same order statistic, ties or not.
    returns = case.returns.to_numpy()
    assert int((len(returns) - 1) * 0.05) + 1 == math.ceil(0.05 * len(returns))
    assert close(conditional_value_at_risk(returns), ep.conditional_value_at_risk(returns))


def test_cvar_matches_quantstats_historical_method_when_no_return_ties_the_var(case):
    # quantstats' default CVaR is parametric (normal expected shortfall); method="historical"
    # averages r <= r.quantile(0.05) (pandas linear quantile). Without returns tied at the VaR
    # (checked) that set is exactly our worst ceil(0.05 * n): convert nothing, they agree.
    returns = case.returns.to_numpy()
    assert np.count_nonzero(returns <= value_at_risk(returns)) == math.ceil(0.05 * len(returns))
    ours = conditional_value_at_risk(case.returns)
    assert close(ours, qs.stats.conditional_value_at_risk(case.returns, method="historical"))


def test_cvar_with_returns_tied_at_the_var_follows_empyrical_not_the_threshold_mean():
    # 40 returns, three tied at the VaR (-0.02): the worst ceil(0.05 * 40) = 2 average -0.035;
    # empyrical (k + 1 = int(39 * 0.05) + 1 = 2 smallest) agrees. quantstats' historical CVaR
    # averages every r <= VaR, the four worst: -0.0275, which moves with the ties' last bits.
    returns = pd.Series([-0.05, -0.02, -0.02, -0.02] + [0.01] * 36,
                        index=pd.bdate_range("2024-01-01", periods=40))
    ours = conditional_value_at_risk(returns)
    assert close(ours, ep.conditional_value_at_risk(returns.to_numpy()))
    assert close(ours, -0.035)
    assert close(qs.stats.conditional_value_at_risk(returns, method="historical"), -0.0275)


# --------------------------------------------------------------------------- beta, alpha


@pytest.mark.parametrize("risk_free", RISK_FREE_RATES)
def test_beta_and_alpha_match_empyrical_after_decompounding_its_alpha(case, risk_free):
    # empyrical's alpha is COMPOUNDED: (1 + mean(e - beta e_b)) ** 252 - 1. Ours is arithmetic:
    # mean(e - beta e_b) * 252 = ((1 + alpha_empyrical) ** (1 / 252) - 1) * 252. Its beta is
    # cov / var with ddof 0 on both, which cancels to ours.
    rf_p = per_period_risk_free(risk_free)
    ours_beta, ours_alpha = beta_alpha(case.returns, case.benchmark, risk_free=risk_free)
    peer_alpha, peer_beta = ep.alpha_beta(
        case.returns.to_numpy(), case.benchmark.to_numpy(), risk_free=rf_p
    )
    assert close(ours_beta, peer_beta)
    assert close(ours_alpha, ((1 + peer_alpha) ** (1 / 252) - 1) * 252)
    # the same through annualization=1 (no compounding), scaled by 252
    per_period = ep.alpha(
        case.returns.to_numpy(), case.benchmark.to_numpy(), risk_free=rf_p, annualization=1
    )
    assert close(ours_alpha, per_period * 252)


@pytest.mark.parametrize("risk_free", RISK_FREE_RATES)
def test_beta_and_alpha_match_quantstats_greeks_adjusted_for_the_risk_free_rate(case, risk_free):
    # quantstats.greeks: beta = np.cov ratio (ddof 1), alpha = (mean(r) - beta mean(b)) * 252
    # with NO risk-free rate. Ours subtracts rf_p from both series:
    # (mean(r) - rf_p) - beta (mean(b) - rf_p) = qs_daily_alpha - rf_p (1 - beta).
    rf_p = per_period_risk_free(risk_free)
    ours_beta, ours_alpha = beta_alpha(case.returns, case.benchmark, risk_free=risk_free)
    greeks = qs.stats.greeks(case.returns, case.benchmark, periods=252)
    assert close(ours_beta, greeks["beta"])
    assert close(ours_alpha, greeks["alpha"] - rf_p * (1 - greeks["beta"]) * 252)


# --------------------------------------------------------------------------- the data itself


def test_our_period_returns_rebuild_the_equity_curve(case):
    rebuilt = CASH * np.cumprod(1 + case.returns.to_numpy())
    np.testing.assert_allclose(rebuilt, case.equity, rtol=1e-10)
