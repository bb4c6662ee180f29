"""Spec of engine/metrics/: hand-worked examples, the PITFALLS.md metric items, edge cases and
properties. Expected values are derived by hand in the comments next to them."""

from __future__ import annotations

import json
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.metrics import (
    METRIC_KEYS,
    PERIODS_PER_YEAR,
    annual_volatility,
    beta_alpha,
    cagr,
    calmar_ratio,
    compute_metrics,
    conditional_value_at_risk,
    downside_deviation,
    drawdown_series,
    exposure,
    infer_periods_per_year,
    max_drawdown,
    max_drawdown_duration_days,
    per_period_risk_free,
    period_returns,
    sharpe_ratio,
    sortino_ratio,
    total_return,
    trade_stats,
    value_at_risk,
)

SQRT_252 = math.sqrt(252)


def days(*iso_dates: str) -> np.ndarray:
    return np.array(iso_dates, dtype="datetime64[D]")


def approx(value: float) -> object:
    return pytest.approx(value, rel=1e-12, abs=1e-15)


# --------------------------------------------------------------------------- returns


def test_period_returns_start_from_initial_cash_so_n_bars_give_n_returns():
    # r_0 = 110/100 - 1 = 0.10, r_1 = 99/110 - 1 = -0.10, r_2 = 99/99 - 1 = 0
    returns = period_returns([110.0, 99.0, 99.0], initial_cash=100.0)
    assert returns.shape == (3,)
    np.testing.assert_allclose(returns, [0.10, -0.10, 0.0], rtol=0, atol=1e-15)


def test_period_returns_after_a_wipe_out_are_zero_not_nan():
    # 100 -> 0 is -100 %; 0 -> 0 has no defined ratio and counts as flat.
    np.testing.assert_array_equal(period_returns([0.0, 0.0], 100.0), [-1.0, 0.0])


def test_total_return_is_final_over_initial_cash_minus_one():
    # 121 / 100 - 1 = 0.21 (the path in between does not matter)
    assert total_return([110.0, 99.0, 121.0], 100.0) == approx(0.21)


# --------------------------------------------------------------------------- CAGR


def test_cagr_uses_calendar_days_over_365_25_not_bars_over_252():
    # 2020-01-01 -> 2024-01-01 is 1461 calendar days = 4 * 365.25 (one leap day), i.e. 4 years.
    # Growth 2.0736 = 1.2 ** 4, so CAGR = 2.0736 ** (365.25 / 1461) - 1 = 0.2 exactly.
    # With bars / 252 (3 bars = 0.012 years) it would be 2.0736 ** 84 - 1 ~ 4e26; with a 365-day
    # year 1461 / 365 = 4.0027 years give 0.19985.
    dates = days("2020-01-01", "2022-01-01", "2024-01-01")
    assert cagr([150.0, 180.0, 207.36], dates, 100.0) == approx(0.2)


def test_cagr_counts_weekends_between_daily_bars():
    # Fri 2024-01-05 -> Mon 2024-01-08 is 3 calendar days: 1.01 ** (365.25 / 3) - 1.
    dates = days("2024-01-05", "2024-01-08")
    assert cagr([100.0, 101.0], dates, 100.0) == approx(1.01 ** (365.25 / 3) - 1)


def test_cagr_is_none_when_less_than_one_calendar_day_elapsed():
    assert cagr([101.0], days("2024-01-05"), 100.0) is None
    same_day = np.array(["2024-01-05T10:00", "2024-01-05T15:00"], dtype="datetime64[m]")
    assert cagr([101.0, 102.0], same_day, 100.0) is None


def test_cagr_is_minus_one_after_a_wipe_out_and_none_for_negative_equity():
    dates = days("2024-01-01", "2025-01-01")
    assert cagr([50.0, 0.0], dates, 100.0) == -1.0
    assert cagr([50.0, -10.0], dates, 100.0) is None


# --------------------------------------------------------------------------- volatility, Sharpe

# r = [0.01, -0.01, 0.02, 0.00]: mean 0.005; deviations 0.005, -0.015, 0.015, -0.005; squares sum
# to 5e-4, so var(ddof=1) = 5e-4 / 3 and var * 252 = 0.042.
RETURNS = [0.01, -0.01, 0.02, 0.0]


def test_volatility_is_sample_std_times_sqrt_252():
    # sqrt(5e-4 / 3 * 252) = sqrt(0.042) = 0.204939...
    assert annual_volatility(RETURNS) == approx(math.sqrt(0.042))


def test_volatility_uses_ddof_1_not_population_std():
    population = math.sqrt(5e-4 / 4 * 252)
    assert annual_volatility(RETURNS) != pytest.approx(population, rel=1e-6)


def test_sharpe_is_mean_over_sample_std_times_sqrt_252():
    # 0.005 / sqrt(5e-4 / 3) * sqrt(252) = 0.005 * 252 / sqrt(0.042) = 6.1482...
    assert sharpe_ratio(RETURNS) == approx(0.005 * 252 / math.sqrt(0.042))


def test_risk_free_is_an_annual_rate_converted_per_period():
    # rf_annual = 1.0001 ** 252 - 1 (about 2.55 % a year) is exactly 0.0001 a day.
    annual = 1.0001**252 - 1
    assert per_period_risk_free(annual) == approx(0.0001)
    # Sharpe with it: (0.005 - 0.0001) / sqrt(5e-4 / 3) * sqrt(252)
    expected = (0.005 - 0.0001) / math.sqrt(5e-4 / 3) * SQRT_252
    assert sharpe_ratio(RETURNS, risk_free=annual) == approx(expected)


def test_risk_free_of_one_percent_a_year_is_not_subtracted_each_day():
    # empyrical issue 108: 0.01 taken as a daily rate gives (0.005 - 0.01) / ... < 0.
    sharpe = sharpe_ratio(RETURNS, risk_free=0.01)
    daily = 1.01 ** (1 / 252) - 1  # 3.95e-5
    assert sharpe == approx((0.005 - daily) / math.sqrt(5e-4 / 3) * SQRT_252)
    assert sharpe > 0


def test_risk_free_conversion_uses_periods_per_year():
    # Monthly bars: 12 periods; (1 + 0.12) ** (1 / 12) - 1 per month.
    assert per_period_risk_free(0.12, 12) == approx(1.12 ** (1 / 12) - 1)
    monthly = sharpe_ratio(RETURNS, risk_free=0.12, periods_per_year=12)
    rf_p = 1.12 ** (1 / 12) - 1
    assert monthly == approx((0.005 - rf_p) / math.sqrt(5e-4 / 3) * math.sqrt(12))


# --------------------------------------------------------------------------- Sortino

# r = [0.02, -0.01, 0.03, -0.02]: mean 0.005. Shortfalls below 0 over ALL 4 periods:
# 0, -0.01, 0, -0.02 -> squares 0, 1e-4, 0, 4e-4 -> mean 1.25e-4 -> DD = sqrt(1.25e-4) = 0.01118.
SORTINO_RETURNS = [0.02, -0.01, 0.03, -0.02]


def test_downside_deviation_is_root_mean_square_shortfall_over_all_periods():
    assert downside_deviation(SORTINO_RETURNS) == approx(math.sqrt(1.25e-4))


def test_downside_deviation_measures_shortfall_below_the_target():
    # target 0.01: shortfalls 0, -0.02, 0, -0.03 -> (4e-4 + 9e-4) / 4 = 3.25e-4
    assert downside_deviation(SORTINO_RETURNS, target=0.01) == approx(math.sqrt(3.25e-4))


def test_sortino_uses_downside_deviation_over_all_periods():
    # 0.005 * 252 / (sqrt(1.25e-4) * sqrt(252)) = 0.005 * sqrt(252) / 0.01118 = 7.0993
    expected = 0.005 * 252 / (math.sqrt(1.25e-4) * SQRT_252)
    assert sortino_ratio(SORTINO_RETURNS) == approx(expected)
    # zipline/pyfolio's bug: std of the negative returns only (ddof=1, de-meaned):
    # std([-0.01, -0.02]) = 0.00707 -> 0.005 * sqrt(252) / 0.00707 = 11.22
    negatives_only = 0.005 * SQRT_252 / np.std([-0.01, -0.02], ddof=1)
    assert sortino_ratio(SORTINO_RETURNS) != pytest.approx(negatives_only, rel=1e-3)


def test_sortino_target_is_the_per_period_risk_free_rate():
    annual = 1.0001**252 - 1  # 0.0001 a period
    excess = np.array(SORTINO_RETURNS) - 0.0001
    # shortfalls -0.0101 and -0.0201 over 4 periods
    dd = math.sqrt((0.0101**2 + 0.0201**2) / 4)
    expected = excess.mean() * 252 / (dd * SQRT_252)
    assert sortino_ratio(SORTINO_RETURNS, risk_free=annual) == approx(expected)


def test_sortino_is_none_when_no_period_falls_below_the_target():
    assert sortino_ratio([0.01, 0.02, 0.0]) is None


# --------------------------------------------------------------------------- drawdowns


def test_drawdown_series_uses_the_running_peak_including_initial_cash():
    # cash 100; equity 90, 95, 120, 60, 130; peaks 100, 100, 120, 120, 130
    # dd = -0.10, -0.05, 0, -0.50, 0
    dd = drawdown_series([90.0, 95.0, 120.0, 60.0, 130.0], 100.0)
    np.testing.assert_allclose(dd, [-0.10, -0.05, 0.0, -0.50, 0.0], rtol=0, atol=1e-15)
    assert max_drawdown([90.0, 95.0, 120.0, 60.0, 130.0], 100.0) == approx(-0.5)


def test_max_drawdown_counts_a_loss_on_the_first_day():
    # pyfolio 179 / quantstats 438: with 80 as the first peak this curve has no drawdown.
    # Ours: starting capital 100 is the first peak -> 80 / 100 - 1 = -0.2.
    assert max_drawdown([80.0, 90.0, 100.0, 110.0], 100.0) == approx(-0.2)


def test_max_drawdown_does_not_invent_a_drawdown_when_the_first_day_gains():
    # quantstats PR 541 invented -95 % with a made-up base; here 100 -> 110 -> 121 never dips.
    assert max_drawdown([110.0, 121.0], 100.0) == 0.0


def test_max_drawdown_is_a_negative_fraction():
    assert max_drawdown([100.0, 75.0, 150.0], 100.0) == approx(-0.25)


# Hand-made curve (cash 100), calendar dates with a weekend:
#   Tue 2024-01-02  100  at the starting peak (dated here)
#   Wed 2024-01-03  105  new peak
#   Thu 2024-01-04  100  under water
#   Fri 2024-01-05  103  under water
#   Mon 2024-01-08  105  back at the peak  -> 2024-01-08 - 2024-01-03 = 5 days
#   Tue 2024-01-09  110  new peak
#   Wed 2024-01-10  108  under water
#   Thu 2024-01-11  109  still under at the end -> 2024-01-11 - 2024-01-09 = 2 days
# Longest: 5. Off-by-one alternatives would give 2 (bars under water), 3 (bars to recover),
# 2 (quantstats: last under-water date - first under-water date + 1 = Fri - Thu + 1).
DURATION_EQUITY = [100.0, 105.0, 100.0, 103.0, 105.0, 110.0, 108.0, 109.0]
DURATION_DATES = days(
    "2024-01-02",
    "2024-01-03",
    "2024-01-04",
    "2024-01-05",
    "2024-01-08",
    "2024-01-09",
    "2024-01-10",
    "2024-01-11",
)


def test_drawdown_duration_runs_from_peak_date_to_recovery_date_in_calendar_days():
    assert max_drawdown_duration_days(DURATION_EQUITY, DURATION_DATES, 100.0) == 5


def test_drawdown_duration_of_an_unrecovered_drawdown_runs_to_the_last_date():
    equity = [105.0, 110.0, 100.0, 104.0]
    dates = days("2024-01-02", "2024-01-03", "2024-01-04", "2024-01-31")
    # peak Wed 2024-01-03, never back to 110 -> 2024-01-31 - 2024-01-03 = 28 days
    assert max_drawdown_duration_days(equity, dates, 100.0) == 28


def test_drawdown_duration_starts_at_the_first_bar_date_when_the_first_day_loses():
    # cash 100 is the peak, dated Fri 2024-03-01; 95, 98 under; 101 on Tue 2024-03-05 recovers
    # -> 2024-03-05 - 2024-03-01 = 4 days (0 if the first bar's 95 were taken as the peak).
    dates = days("2024-03-01", "2024-03-04", "2024-03-05")
    assert max_drawdown_duration_days([95.0, 98.0, 101.0], dates, 100.0) == 4
    # never recovered: 2024-03-11 - 2024-03-01 = 10 days
    assert max_drawdown_duration_days([95.0, 96.0], days("2024-03-01", "2024-03-11"), 100.0) == 10


def test_consecutive_new_highs_across_a_weekend_are_not_a_drawdown():
    dates = days("2024-01-04", "2024-01-05", "2024-01-08")
    assert max_drawdown_duration_days([101.0, 102.0, 103.0], dates, 100.0) == 0


def test_drawdown_duration_accepts_a_datetime_index_in_local_time():
    index = pd.DatetimeIndex(DURATION_DATES).tz_localize("America/New_York")
    assert max_drawdown_duration_days(DURATION_EQUITY, index, 100.0) == 5


def test_calmar_is_cagr_over_absolute_max_drawdown():
    # cash 100; 80 (first-day loss, dd -0.2), 150, 207.36 over 4 calendar years -> CAGR 0.2
    # calmar = 0.2 / 0.2 = 1.0
    dates = days("2020-01-01", "2022-01-01", "2024-01-01")
    assert calmar_ratio([80.0, 150.0, 207.36], dates, 100.0) == approx(1.0)
    assert calmar_ratio([110.0, 121.0], days("2020-01-01", "2021-01-01"), 100.0) is None


# --------------------------------------------------------------------------- VaR, CVaR

# 11 returns; sorted: -0.05, -0.03, -0.01, 0, 0.01, ..., 0.07. The 5th percentile sits at
# position (11 - 1) * 0.05 = 0.5, halfway between -0.05 and -0.03 -> VaR = -0.04 (linear
# interpolation; 'lower' would give -0.05, 'higher' -0.03). CVaR = mean of r <= -0.04 = -0.05.
VAR_RETURNS = [0.03, -0.01, 0.07, -0.05, 0.0, 0.05, 0.01, -0.03, 0.06, 0.02, 0.04]


def test_var_95_is_the_linear_interpolated_5th_percentile_of_period_returns():
    assert value_at_risk(VAR_RETURNS) == approx(-0.04)


def test_cvar_95_is_the_mean_of_the_worst_ceil_5_percent_of_returns():
    # 11 returns: ceil(0.05 * 11) = 1 -> the worst, -0.05.
    assert conditional_value_at_risk(VAR_RETURNS) == approx(-0.05)
    # 99 %: position 10 * 0.01 = 0.1 -> VaR -0.05 + 0.1 * 0.02 = -0.048; ceil(0.11) = 1 -> -0.05
    assert value_at_risk(VAR_RETURNS, level=0.99) == approx(-0.048)
    assert conditional_value_at_risk(VAR_RETURNS, level=0.99) == approx(-0.05)
    # 21 returns: ceil(1.05) = 2 -> (-0.03 - 0.02) / 2 = -0.025
    returns = [-0.03, -0.02] + [0.01] * 19
    assert value_at_risk(returns) == approx(-0.02)
    assert conditional_value_at_risk(returns) == approx(-0.025)
    # 20 returns: 0.05 * 20 is 1 (not 1.0000000000000002, which would take 2) -> -0.03
    assert conditional_value_at_risk([-0.03, -0.02] + [0.01] * 18) == approx(-0.03)


def test_cvar_counts_returns_tied_with_var_only_as_often_as_the_tail_needs():
    # 40 returns: one -0.05, three -0.02, 36 x 0.01. VaR: position 39 * 0.05 = 1.95, between
    # the 2nd and 3rd smallest, both -0.02 -> -0.02. The worst ceil(0.05 * 40) = 2 returns are
    # -0.05 and -0.02 -> CVaR -0.035. "Mean of r <= VaR" would average all four: -0.0275.
    returns = [-0.05, -0.02, -0.02, -0.02] + [0.01] * 36
    assert value_at_risk(returns) == approx(-0.02)
    assert conditional_value_at_risk(returns) == approx(-0.035)


def test_cvar_is_stable_under_one_ulp_changes_of_returns_tied_with_var():
    # 1,000 returns: 30 x -0.05, 100 x -0.02 (tied with the VaR: positions 49 and 50 of the
    # sorted returns are both -0.02), 870 x 0.01. CVaR: the worst 50 = 30 x -0.05 + 20 x -0.02
    # -> (-1.5 - 0.4) / 50 = -0.038. Nudging the tied returns by one ulp either way (rounding
    # noise) may move each one across the VaR, but must not move the CVaR beyond rounding.
    base = np.array([-0.05] * 30 + [-0.02] * 100 + [0.01] * 870)
    reference = conditional_value_at_risk(base)
    assert reference == approx(-0.038)
    rng = np.random.default_rng(12)
    for _ in range(20):
        nudged = base.copy()
        ties = slice(30, 130)
        nudged[ties] = np.where(rng.random(100) < 0.5, np.nextafter(base[ties], 0.0),
                                np.nextafter(base[ties], -1.0))
        assert abs(conditional_value_at_risk(nudged) - reference) <= 1e-15


def test_var_level_must_be_a_fraction():
    with pytest.raises(ValueError, match="level"):
        value_at_risk(VAR_RETURNS, level=95)


# --------------------------------------------------------------------------- beta, alpha

# b = [0.01, -0.02, 0.03, 0.00] (mean 0.005), r = 2 b + 0.001 -> beta = 2 exactly,
# daily alpha = mean(r) - 2 mean(b) = 0.001 -> annual (arithmetic) 0.001 * 252 = 0.252.
BENCHMARK = np.array([0.01, -0.02, 0.03, 0.0])
STRATEGY = 2 * BENCHMARK + 0.001


def test_beta_is_cov_over_benchmark_var_and_alpha_is_arithmetic_jensen_alpha():
    beta, alpha = beta_alpha(STRATEGY, BENCHMARK)
    assert beta == approx(2.0)
    # empyrical compounds instead: 1.001 ** 252 - 1 = 0.2863
    assert alpha == approx(0.252)


def test_alpha_subtracts_the_per_period_risk_free_rate_from_both_series():
    # rf_p = 0.0001: (mean(r) - rf_p) - 2 (mean(b) - rf_p) = 0.001 + 0.0001 -> * 252 = 0.2772
    beta, alpha = beta_alpha(STRATEGY, BENCHMARK, risk_free=1.0001**252 - 1)
    assert beta == approx(2.0)
    assert alpha == approx(0.2772)


def test_beta_alpha_align_series_on_their_dates_and_drop_missing_pairs():
    index = pd.date_range("2024-01-01", periods=4)
    strategy = pd.Series(STRATEGY, index=index)
    # The benchmark has an extra date and comes in reverse order: only the 4 shared dates count.
    extra_date = index.append(pd.DatetimeIndex(["2024-02-01"]))
    benchmark = pd.Series(np.append(BENCHMARK, 0.5), index=extra_date)
    beta, alpha = beta_alpha(strategy, benchmark.iloc[::-1])
    assert (beta, alpha) == (approx(2.0), approx(0.252))
    with_gap = np.append(STRATEGY, np.nan)
    assert beta_alpha(with_gap, np.append(BENCHMARK, 0.4)) == (approx(2.0), approx(0.252))


def test_beta_alpha_are_none_for_a_constant_benchmark_or_fewer_than_two_pairs():
    assert beta_alpha(STRATEGY, np.full(4, 0.001)) == (None, None)
    assert beta_alpha([0.01], [0.02]) == (None, None)


def test_beta_alpha_reject_misaligned_arrays():
    with pytest.raises(ValueError, match="same length"):
        beta_alpha(STRATEGY, BENCHMARK[:3])


# --------------------------------------------------------------------------- trades, exposure


def test_trade_stats_from_pnl_and_trade_returns():
    # pnl: 2 wins of 5 -> 0.4; gains 100 + 30 = 130, losses -50 - 25 = -75 -> 130 / 75 = 1.7333;
    # the break-even trade is neither. Returns sum to 0.055 -> mean 0.011.
    stats = trade_stats([100.0, -50.0, 0.0, 30.0, -25.0], [0.1, -0.05, 0.0, 0.03, -0.025])
    assert stats == {
        "num_trades": 5,
        "win_rate": approx(0.4),
        "profit_factor": approx(130 / 75),
        "avg_trade_return": approx(0.011),
    }


def test_profit_factor_is_none_without_losing_trades_and_zero_without_winning_ones():
    assert trade_stats([10.0, 0.0], [0.1, 0.0])["profit_factor"] is None
    assert trade_stats([-10.0, 0.0], [-0.1, 0.0])["profit_factor"] == 0.0


def test_no_trades_give_zero_count_and_none_ratios():
    expected = {"num_trades": 0, "win_rate": None, "profit_factor": None, "avg_trade_return": None}
    assert trade_stats([], []) == expected
    assert trade_stats(None, None) == expected


def test_trade_pnl_and_returns_must_describe_the_same_trades():
    with pytest.raises(ValueError, match="same trades"):
        trade_stats([1.0, 2.0], [0.1])


def test_exposure_is_the_share_of_bars_with_a_non_zero_position():
    # long 1.5 and short 2 count; 2 of 4 bars
    assert exposure([0.0, 1.5, -2.0, 0.0]) == 0.5
    assert exposure([]) is None


# --------------------------------------------------------------------------- periods per year


def test_periods_per_year_inferred_from_the_bar_interval():
    assert infer_periods_per_year(pd.bdate_range("2024-01-01", periods=30)) == 252
    assert infer_periods_per_year(pd.date_range("2024-01-07", periods=30, freq="W")) == 52
    assert infer_periods_per_year(pd.date_range("2024-01-01", periods=30, freq="MS")) == 12
    # 7 hourly bars a session -> 252 * 7 (not 365 * 24: vectorbt issue 294)
    hourly = pd.DatetimeIndex(
        [f"2024-01-0{day} {hour}:30" for day in range(1, 6) for hour in range(9, 16)]
    )
    assert infer_periods_per_year(hourly) == 252 * 7


# --------------------------------------------------------------------------- compute_metrics


def test_compute_metrics_returns_exactly_the_contract_keys_as_plain_python_values():
    dates = pd.bdate_range("2024-01-01", periods=len(DURATION_EQUITY))
    metrics = compute_metrics(
        DURATION_EQUITY,
        dates,
        100.0,
        positions=[0, 1, 1, 1, 0, 0, 1, 1],
        trade_pnl=[5.0, -1.0],
        trade_returns=[0.05, -0.01],
        benchmark_returns=np.linspace(-0.01, 0.01, len(DURATION_EQUITY)),
        risk_free=0.02,
    )
    assert tuple(metrics) == METRIC_KEYS
    assert set(METRIC_KEYS) == {
        "total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown",
        "max_drawdown_duration_days", "calmar", "num_trades", "win_rate", "profit_factor",
        "avg_trade_return", "exposure", "var_95", "cvar_95", "beta", "alpha", "final_equity",
    }  # fmt: skip
    for key, value in metrics.items():
        assert type(value) in (int, float), key
    assert type(metrics["num_trades"]) is int
    assert type(metrics["max_drawdown_duration_days"]) is int
    json.dumps(metrics, allow_nan=False)


def test_compute_metrics_agrees_with_the_individual_functions():
    equity = np.array([98.0, 103.0, 101.0, 99.0, 107.0, 104.0, 110.0, 108.0])
    dates = pd.bdate_range("2024-01-01", periods=equity.size)
    benchmark = np.array([-0.01, 0.02, -0.005, -0.01, 0.03, -0.02, 0.015, 0.0])
    rf = 0.03
    metrics = compute_metrics(
        equity, dates, 100.0, positions=np.ones(8), benchmark_returns=benchmark, risk_free=rf
    )
    returns = period_returns(equity, 100.0)
    beta, alpha = beta_alpha(returns, benchmark, risk_free=rf)
    assert metrics == {
        "total_return": approx(0.08),
        "cagr": approx(cagr(equity, dates, 100.0)),
        "volatility": approx(annual_volatility(returns)),
        "sharpe": approx(sharpe_ratio(returns, risk_free=rf)),
        "sortino": approx(sortino_ratio(returns, risk_free=rf)),
        "max_drawdown": approx(max_drawdown(equity, 100.0)),
        "max_drawdown_duration_days": max_drawdown_duration_days(equity, dates, 100.0),
        "calmar": approx(calmar_ratio(equity, dates, 100.0)),
        "num_trades": 0,
        "win_rate": None,
        "profit_factor": None,
        "avg_trade_return": None,
        "exposure": 1.0,
        "var_95": approx(value_at_risk(returns)),
        "cvar_95": approx(conditional_value_at_risk(returns)),
        "beta": approx(beta),
        "alpha": approx(alpha),
        "final_equity": 108.0,
    }
    # Hand checks: 98 then 103 (peak Tue 01-02), 101, 99 under, 107 on Fri 01-05 -> 3 days;
    # 104 under after 107, 110 on Tue 01-09 -> Fri 01-05 to Tue 01-09 = 4 days (the longest).
    assert metrics["max_drawdown_duration_days"] == 4
    # Worst drawdown: 99 / 103 - 1 = -0.03883
    assert metrics["max_drawdown"] == approx(99 / 103 - 1)


def test_compute_metrics_aligns_a_dated_benchmark_series_on_the_equity_dates():
    dates = pd.bdate_range("2024-01-01", periods=4)
    equity = 100.0 * np.cumprod(1 + STRATEGY)
    benchmark = pd.Series(BENCHMARK, index=dates).iloc[::-1]
    metrics = compute_metrics(equity, dates, 100.0, benchmark_returns=benchmark)
    assert metrics["beta"] == pytest.approx(2.0, rel=1e-12)
    assert metrics["alpha"] == pytest.approx(0.252, rel=1e-12)


def test_compute_metrics_on_flat_equity_gives_zero_risk_and_undefined_ratios():
    dates = pd.bdate_range("2024-01-01", periods=10)
    metrics = compute_metrics(np.full(10, 100.0), dates, 100.0, positions=np.zeros(10))
    assert metrics["total_return"] == 0.0
    assert metrics["cagr"] == 0.0
    assert metrics["volatility"] == 0.0
    assert metrics["sharpe"] is None
    assert metrics["sortino"] is None
    assert metrics["max_drawdown"] == 0.0
    assert metrics["max_drawdown_duration_days"] == 0
    assert metrics["calmar"] is None
    assert metrics["var_95"] == 0.0 and metrics["cvar_95"] == 0.0
    assert metrics["exposure"] == 0.0
    assert metrics["num_trades"] == 0 and metrics["win_rate"] is None


def test_constant_non_zero_returns_have_no_sharpe_despite_rounding_noise():
    # 1.01 ** k divided back gives 1.01 +- 1 ulp: std ~1e-17, which must not become Sharpe 1e15.
    equity = 100.0 * 1.01 ** np.arange(1, 60)
    assert annual_volatility(period_returns(equity, 100.0)) == 0.0
    assert sharpe_ratio(period_returns(equity, 100.0)) is None


def test_compute_metrics_with_one_bar_does_not_raise():
    metrics = compute_metrics([95.0], days("2024-01-02"), 100.0, positions=[1.0])
    assert metrics["total_return"] == approx(-0.05)
    assert metrics["max_drawdown"] == approx(-0.05)  # the first-day loss counts
    assert metrics["max_drawdown_duration_days"] == 0
    for key in ("cagr", "volatility", "sharpe", "sortino", "calmar", "beta", "alpha"):
        assert metrics[key] is None, key
    assert metrics["final_equity"] == 95.0
    assert metrics["exposure"] == 1.0


def test_compute_metrics_with_zero_bars_does_not_raise():
    metrics = compute_metrics(
        [], np.array([], dtype="datetime64[D]"), 100.0, positions=[], benchmark_returns=[]
    )
    assert metrics["final_equity"] == 100.0
    assert metrics["total_return"] == 0.0
    assert metrics["max_drawdown"] == 0.0
    assert metrics["max_drawdown_duration_days"] == 0
    assert metrics["num_trades"] == 0
    for key in ("cagr", "volatility", "sharpe", "sortino", "calmar", "var_95", "cvar_95"):
        assert metrics[key] is None, key
    for key in ("win_rate", "profit_factor", "avg_trade_return", "exposure", "beta", "alpha"):
        assert metrics[key] is None, key


def test_compute_metrics_with_one_return_has_no_dispersion_ratios():
    assert annual_volatility([0.01]) is None
    assert sharpe_ratio([0.01]) is None
    assert sortino_ratio([-0.01]) is None
    assert sharpe_ratio([]) is None
    assert downside_deviation([]) is None
    assert value_at_risk([]) is None and conditional_value_at_risk([]) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"equity": [100.0, np.nan]}, "finite"),
        ({"initial_cash": 0.0}, "initial_cash"),
        ({"dates": days("2024-01-01")}, "one date per equity value"),
        ({"dates": days("2024-01-02", "2024-01-01")}, "ascending"),
        ({"positions": [1.0]}, "one value per bar"),
    ],
)
def test_compute_metrics_rejects_bad_input_with_a_message(kwargs, message):
    arguments = {
        "equity": [100.0, 101.0],
        "dates": days("2024-01-01", "2024-01-02"),
        "initial_cash": 100.0,
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        compute_metrics(**arguments)


def test_compute_metrics_handles_a_million_daily_bars_outside_the_nanosecond_range():
    # 1,000,000 daily bars span ~2,700 years: dates must not be forced to datetime64[ns].
    n = 1_000_000
    returns = np.random.default_rng(1).normal(0.0003, 0.01, n)
    dates = np.datetime64("1900-01-01", "D") + np.arange(n)
    metrics = compute_metrics(10_000.0 * np.cumprod(1 + returns), dates, 10_000.0)
    assert metrics["volatility"] == pytest.approx(0.01 * SQRT_252, rel=0.01)


# --------------------------------------------------------------------------- properties

positive_equity = st.lists(
    st.floats(min_value=0.0, max_value=1e9, allow_nan=False, allow_subnormal=False),
    min_size=1,
    max_size=60,
)
cash = st.floats(min_value=1e-3, max_value=1e9, allow_nan=False)


@settings(deadline=None)  # shared CI cores: timing is not what these check
@given(equity=positive_equity, initial_cash=cash)
def test_max_drawdown_lies_between_minus_one_and_zero(equity, initial_cash):
    assert -1.0 <= max_drawdown(equity, initial_cash) <= 0.0


@settings(deadline=None)  # shared CI cores: timing is not what these check
@given(equity=positive_equity, initial_cash=cash)
def test_drawdown_is_never_positive(equity, initial_cash):
    assert (drawdown_series(equity, initial_cash) <= 0.0).all()


@settings(max_examples=150, deadline=None)
@given(
    equity_cents=st.lists(st.integers(min_value=1, max_value=10**8), min_size=1, max_size=40),
    cash_cents=st.integers(min_value=1, max_value=10**8),
    scale=st.floats(min_value=1e-3, max_value=1e3),
    start=st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 1, 1)),
)
def test_scaling_equity_and_initial_cash_by_a_constant_changes_no_metric(
    equity_cents, cash_cents, scale, start
):
    dates = pd.bdate_range(start, periods=len(equity_cents))
    equity = np.array(equity_cents, dtype=float)
    base = compute_metrics(equity, dates, float(cash_cents))
    scaled = compute_metrics(equity * scale, dates, cash_cents * scale)
    assert scaled["final_equity"] == pytest.approx(base["final_equity"] * scale, rel=1e-12)
    for key in METRIC_KEYS:
        if key == "final_equity":
            continue
        if base[key] is None:
            assert scaled[key] is None, key
        elif isinstance(base[key], int) and not isinstance(base[key], bool):
            assert scaled[key] == base[key], key
        else:
            assert scaled[key] == pytest.approx(base[key], rel=1e-6, abs=1e-12), key


@settings(deadline=None)  # shared CI cores: timing is not what these check
@given(
    returns=st.lists(
        st.floats(min_value=-0.5, max_value=0.5, allow_nan=False, allow_subnormal=False),
        min_size=2,
        max_size=60,
    )
)
def test_sharpe_sign_equals_mean_return_sign(returns):
    sharpe = sharpe_ratio(returns)
    if sharpe is None:  # constant returns: no dispersion
        assert annual_volatility(returns) == 0.0
    else:
        assert np.sign(sharpe) == np.sign(np.mean(returns))


@settings(deadline=None)  # shared CI cores: timing is not what these check
@given(
    equity=st.lists(
        st.floats(min_value=1e-6, max_value=1e9, allow_nan=False), min_size=0, max_size=40
    ),
    risk_free=st.floats(min_value=0.0, max_value=0.2),
)
def test_compute_metrics_never_returns_nan_or_inf(equity, risk_free):
    dates = pd.bdate_range("2000-01-03", periods=len(equity))
    benchmark = np.sin(np.arange(len(equity)))
    metrics = compute_metrics(
        equity, dates, 1000.0, benchmark_returns=benchmark, risk_free=risk_free
    )
    json.dumps(metrics, allow_nan=False)


def test_periods_per_year_default_is_252():
    assert PERIODS_PER_YEAR == 252
