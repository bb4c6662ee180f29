"""Each alternative convention of the robustness report (engine.robustness.conventions) is
cross-checked against the tool that uses it, on the bundled data: quantstats and empyrical
(365 periods, bar-count years, the first value as the first peak, parametric VaR), and the
formulas of backtesting.py (``backtesting/_stats.py``) and of zipline's old Sortino written out
here."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data.bundled import load_bundled
from engine.backtest import run_backtest
from engine.metrics import period_returns
from engine.robustness import run_robustness

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the peers' own imports emit deprecation warnings
    import empyrical as ep
    import quantstats as qs

EXAMPLES = Path(__file__).resolve().parents[2] / "engine" / "examples"
RISK_FREE = 0.02


@pytest.fixture(scope="module")
def case():
    spec = json.loads((EXAMPLES / "sma_crossover.json").read_text())
    prices = load_bundled(spec["symbol"])
    backtest = run_backtest(spec, prices, risk_free=RISK_FREE)
    document = run_robustness(spec, prices, paths=0, risk_free=RISK_FREE).to_dict()
    equity = backtest.equity["equity"]
    cash = float(spec["initial_cash"])
    returns = pd.Series(period_returns(equity.to_numpy(), cash), index=equity.index)
    table = {(r["metric"], r["convention"]): r for r in document["conventions"]}
    return equity, returns, cash, table, backtest


def value(case, metric: str, convention: str) -> float:
    return case[3][(metric, convention)]["value"]


def test_every_row_names_its_tool_and_carries_our_value(case):
    *_, table, backtest = case
    for (metric, _), row in table.items():
        assert row["used_by"] and row["label"] and row["formula"]
        assert row["ours"] == backtest.metrics[metric]


def test_365_periods_match_quantstats_and_empyrical_called_with_365(case):
    _, returns, *_ = case
    rf_daily = (1 + RISK_FREE) ** (1 / 365) - 1
    assert value(case, "volatility", "days_365") == pytest.approx(
        qs.stats.volatility(returns, periods=365), rel=1e-10)
    assert value(case, "sharpe", "days_365") == pytest.approx(
        ep.sharpe_ratio(returns.to_numpy(), risk_free=rf_daily, annualization=365), rel=1e-10)
    assert value(case, "sortino", "days_365") == pytest.approx(
        ep.sortino_ratio(returns.to_numpy(), required_return=rf_daily, annualization=365),
        rel=1e-10)


def test_geometric_sharpe_is_backtesting_py_formula(case):
    # backtesting/_stats.py: gmean of day returns, annualised return (1 + g)^252 - 1,
    # volatility sqrt((var(r, ddof=1) + (1 + g)^2)^252 - (1 + g)^(2 * 252)),
    # Sharpe = (annual return - rf) / volatility.
    _, returns, *_ = case
    g = math.exp(np.log1p(returns.to_numpy()).mean()) - 1
    annual = (1 + g) ** 252 - 1
    volatility = math.sqrt((returns.var(ddof=1) + (1 + g) ** 2) ** 252 - (1 + g) ** 504)
    assert value(case, "cagr", "geometric") == pytest.approx(annual, rel=1e-10)
    assert value(case, "volatility", "geometric") == pytest.approx(volatility, rel=1e-10)
    assert value(case, "sharpe", "geometric") == pytest.approx(
        (annual - RISK_FREE) / volatility, rel=1e-10)


def test_geometric_annual_return_matches_empyrical_annual_return(case):
    # backtesting.py notes its annualised return matches empyrical.annual_return.
    _, returns, *_ = case
    assert value(case, "cagr", "geometric") == pytest.approx(
        ep.annual_return(returns.to_numpy()), rel=1e-10)


def test_sortino_over_negative_periods_only_is_the_std_of_the_negative_excess_returns(case):
    _, returns, *_ = case
    excess = returns.to_numpy() - ((1 + RISK_FREE) ** (1 / 252) - 1)
    downside = np.std(excess[excess < 0], ddof=1)
    assert value(case, "sortino", "negative_periods_only") == pytest.approx(
        excess.mean() * 252 / (downside * math.sqrt(252)), rel=1e-10)


def test_first_value_peak_drawdown_matches_quantstats_given_the_equity_curve(case):
    equity, *_ = case
    assert value(case, "max_drawdown", "first_value_peak") == pytest.approx(
        qs.stats.max_drawdown(equity), rel=1e-12)


def test_bar_count_cagr_matches_quantstats_and_empyrical_defaults(case):
    _, returns, *_ = case
    assert value(case, "cagr", "years_252_bars") == pytest.approx(
        ep.cagr(returns.to_numpy()), rel=1e-10)
    assert value(case, "cagr", "years_252_bars") == pytest.approx(
        qs.stats.cagr(returns), rel=1e-10)


def test_parametric_var_matches_quantstats(case):
    _, returns, *_ = case
    assert value(case, "var_95", "parametric") == pytest.approx(
        qs.stats.value_at_risk(returns), rel=1e-10)
