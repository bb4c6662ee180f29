"""The compiled ``compute_metrics`` path against a straightforward NumPy reference.

The reference spells out the module conventions with plain NumPy calls (``np.mean``, ``np.std``,
``np.percentile``, ``np.sort``, ``np.dot``, ``np.maximum.accumulate``); the compiled kernel must
agree to 1e-12 relative on random curves and edge cases (0, 1, 2 bars, flat equity, ruined
accounts, no trades, no benchmark, NaN benchmark pairs, risk-free rate, intraday and pre-1970
dates).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from engine.metrics import METRIC_KEYS, compute_metrics
from engine.metrics.numpy_compiled import (
    pairwise_sum,
    percentile_by_partition,
    percentile_linear,
)
from engine.metrics.tail_risk import SELECT_IN_KERNEL_MAX

NOISE = 1e-12


def _none_if_not_finite(value):
    value = float(value)
    return value + 0.0 if math.isfinite(value) else None


def reference_metrics(equity, dates, cash, positions=None, pnl=None, trade_returns=None,
                      benchmark=None, risk_free=0.0, periods=252):
    equity = np.asarray(equity, dtype=float)
    n = equity.size
    # A curve that reaches 0 is ruined there: return statistics on the bars up to the ruin,
    # no Sharpe, Sortino or alpha.
    ruin = int(np.argmax(equity <= 0)) if n and (equity <= 0).any() else None
    m = n if ruin is None else ruin + 1
    days = pd.DatetimeIndex(dates).tz_localize(None) if isinstance(dates, pd.DatetimeIndex) \
        else pd.DatetimeIndex(dates)
    day_numbers = days.to_numpy().astype("datetime64[D]").astype(np.int64)
    previous = np.concatenate(([cash], equity[:-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(previous == 0, 0.0, equity / previous - 1.0)
    rf = 0.0 if risk_free == 0 else math.expm1(math.log1p(risk_free) / periods)
    e = r - rf if rf != 0 else r
    out = dict.fromkeys(METRIC_KEYS)
    final = float(equity[-1]) if n else cash
    out["final_equity"] = final
    out["total_return"] = final / cash - 1.0 + 0.0
    r, e = r[:m], e[:m]
    if m >= 2:
        std = float(np.std(r, ddof=1))
        std = 0.0 if std <= NOISE * abs(float(np.mean(r))) else std
        out["volatility"] = _none_if_not_finite(std * math.sqrt(periods))
        std_e = float(np.std(e, ddof=1))
        if std_e > NOISE * abs(float(np.mean(e))) and ruin is None:
            out["sharpe"] = _none_if_not_finite(float(np.mean(e)) / std_e * math.sqrt(periods))
        shortfall = np.minimum(e, 0.0)
        downside = math.sqrt(float(np.dot(shortfall, shortfall)) / m)
        if downside != 0 and ruin is None:
            out["sortino"] = _none_if_not_finite(
                float(np.mean(e)) * periods / (downside * math.sqrt(periods)))
    peaks = np.maximum(np.maximum.accumulate(equity), cash) if n else equity
    out["max_drawdown"] = min(float((equity / peaks - 1.0).min()), 0.0) + 0.0 if n else 0.0
    longest = 0
    if n:
        peak_day, last_peak = day_numbers[0], -1
        for i in range(n):
            if equity[i] >= peaks[i]:
                if i - last_peak > 1:
                    longest = max(longest, int(day_numbers[i] - peak_day))
                peak_day, last_peak = day_numbers[i], i
        if n - last_peak > 1:
            longest = max(longest, int(day_numbers[-1] - peak_day))
    out["max_drawdown_duration_days"] = longest
    if n and day_numbers[-1] - day_numbers[0] >= 1 and final / cash >= 0:
        span = float(day_numbers[-1] - day_numbers[0])
        with np.errstate(over="ignore"):
            out["cagr"] = _none_if_not_finite(np.float64(final / cash) ** (365.25 / span) - 1.0)
    if out["cagr"] is not None and out["max_drawdown"] != 0:
        out["calmar"] = _none_if_not_finite(out["cagr"] / abs(out["max_drawdown"]))
    if n:
        var = float(np.percentile(r, 100.0 * (1.0 - 0.95)))
        out["var_95"] = var + 0.0
        worst = math.ceil(round(0.05 * m, 9))  # the worst 5 %, at least one
        out["cvar_95"] = float(np.sort(r)[:worst].mean()) + 0.0
    pnl = np.asarray(pnl if pnl is not None else [], dtype=float)
    trade_returns = np.asarray(trade_returns if trade_returns is not None else [], dtype=float)
    out["num_trades"] = int(max(pnl.size, trade_returns.size))
    if pnl.size:
        out["win_rate"] = np.count_nonzero(pnl > 0) / pnl.size
        losses = float(pnl[pnl < 0].sum())
        if losses < 0:
            out["profit_factor"] = _none_if_not_finite(float(pnl[pnl > 0].sum()) / -losses)
    if trade_returns.size:
        out["avg_trade_return"] = _none_if_not_finite(trade_returns.mean())
    if positions is not None and n:
        out["exposure"] = np.count_nonzero(positions) / n
    if benchmark is not None:
        b = np.asarray(benchmark, dtype=float)[:m]
        keep = np.isfinite(r) & np.isfinite(b)
        s, b = r[keep], b[keep]
        if s.size >= 2:
            centred = b - b.mean()
            ss = float(np.dot(centred, centred))
            if ss > (NOISE * b.mean()) ** 2 * b.size:
                beta = float(np.dot(centred, s)) / ss
                out["beta"] = _none_if_not_finite(beta)
                if ruin is None:
                    out["alpha"] = _none_if_not_finite(
                        ((s.mean() - rf) - beta * (b.mean() - rf)) * periods)
    return out


def assert_same(fast, reference):
    assert set(fast) == set(METRIC_KEYS)
    for key in METRIC_KEYS:
        a, b = fast[key], reference[key]
        assert (a is None) == (b is None), (key, a, b)
        if a is None:
            continue
        assert type(a) in (int, float), (key, a)  # plain Python numbers, never NumPy scalars
        assert a == pytest.approx(b, rel=1e-12, abs=1e-15), (key, a, b)
    for key in ("num_trades", "max_drawdown_duration_days"):
        assert type(fast[key]) is int


def _dates(kind, n, rng):
    if kind == 0:
        return pd.bdate_range("1990-01-01", periods=n)
    if kind == 1:
        return np.busday_offset("1000-01-01", np.arange(n), roll="forward")
    if kind == 2:
        return pd.date_range("1960-01-01 09:30", periods=n, freq="37min", tz="America/New_York")
    steps = np.cumsum(rng.integers(0, 200_000, n)).astype("timedelta64[s]")
    return np.datetime64("1950-01-01T00:00:00", "s") + steps


@pytest.mark.parametrize("seed", range(40))
def test_random_curves_match_numpy_reference(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.choice([0, 1, 2, 3, 7, 8, 9, 127, 128, 129, 300, 1000, 5000]))
    returns = rng.normal(3e-4, 0.01, n)
    shape = seed % 5
    if shape == 1:
        returns[:] = 0.0  # flat equity
    elif shape == 2:
        returns[:] = 0.01  # constant growth: std is rounding noise
    equity = 10_000.0 * np.cumprod(1.0 + returns)
    if shape == 3 and n > 2:
        equity[n // 2:] = 0.0  # wiped out
    dates = _dates(seed % 4, n, rng)
    kwargs = {}
    if seed % 3:
        kwargs["positions"] = np.where(rng.random(n) < 0.5, 0.0, rng.normal(size=n))
    trades = int(rng.integers(0, 30))
    if seed % 4 != 3:
        kwargs["trade_pnl"] = rng.normal(0.0, 100.0, trades)
        kwargs["trade_returns"] = list(rng.normal(0.0, 0.05, trades))
    if seed % 2:
        benchmark = rng.normal(3e-4, 0.01, n)
        if seed % 7 == 1 and n:
            benchmark[rng.integers(0, n, size=3)] = np.nan
        if seed % 11 == 1:
            benchmark[:] = 0.001  # constant benchmark: no beta
        kwargs["benchmark_returns"] = benchmark
    risk_free = 0.03 if seed % 6 == 5 else 0.0
    fast = compute_metrics(equity, dates, 10_000.0, risk_free=risk_free, **kwargs)
    reference = reference_metrics(
        equity, dates, 10_000.0, kwargs.get("positions"), kwargs.get("trade_pnl"),
        kwargs.get("trade_returns"), kwargs.get("benchmark_returns"), risk_free,
    )
    assert_same(fast, reference)


@pytest.mark.parametrize("n", [0, 1, 2])
def test_tiny_curves_without_extras(n):
    equity = np.linspace(9_000.0, 11_000.0, n)
    dates = pd.bdate_range("2024-01-01", periods=n)
    assert_same(compute_metrics(equity, dates, 10_000.0),
                reference_metrics(equity, dates, 10_000.0))


def test_flat_equity_no_trades():
    equity = np.full(50, 10_000.0)
    dates = pd.bdate_range("2024-01-01", periods=50)
    fast = compute_metrics(equity, dates, 10_000.0, positions=np.zeros(50), trade_pnl=[],
                           trade_returns=[])
    assert_same(fast, reference_metrics(equity, dates, 10_000.0, np.zeros(50), [], []))
    assert fast["sharpe"] is None and fast["sortino"] is None and fast["volatility"] == 0.0
    assert fast["win_rate"] is None and fast["num_trades"] == 0 and fast["exposure"] == 0.0


def test_large_curve_uses_numpy_selection_identically():
    n = SELECT_IN_KERNEL_MAX + 1_001
    rng = np.random.default_rng(3)
    equity = 10_000.0 * np.cumprod(1.0 + rng.normal(3e-4, 0.01, n))
    dates = np.busday_offset("1900-01-01", np.arange(n), roll="forward")
    benchmark = rng.normal(3e-4, 0.01, n)
    fast = compute_metrics(equity, dates, 10_000.0, benchmark_returns=benchmark)
    assert_same(fast, reference_metrics(equity, dates, 10_000.0, benchmark=benchmark))


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 127, 128, 129, 255, 256, 1000, 4099, 70_001])
def test_pairwise_sum_is_numpy_bit_for_bit(n):
    rng = np.random.default_rng(n)
    values = rng.normal(0.0, 1.0, n) * 10.0 ** rng.integers(-8, 9, n)  # mixed magnitudes
    assert pairwise_sum(values, n) == np.add.reduce(values)


@pytest.mark.parametrize("n", [1, 2, 3, 20, 21, 101, 1_000, 100_003])
def test_percentiles_are_numpy_bit_for_bit(n):
    values = np.round(np.random.default_rng(n).normal(0.0, 0.01, n), 4 if n < 50 else 12)
    quantile = (100.0 * (1.0 - 0.95)) / 100.0
    expected = np.percentile(values, 100.0 * (1.0 - 0.95))
    assert percentile_by_partition(values, quantile) == expected
    assert percentile_linear(values, n, quantile, np.empty(n)) == expected


def test_the_benchmarks_plain_numpy_floor_computes_the_same_metrics():
    # bench/bench_engine.py times compute_metrics against tests/engine/peers.plain_metrics; the
    # comparison is fair only if both compute the same numbers.
    from tests.engine.peers import INITIAL_CASH, plain_metrics

    rng = np.random.default_rng(5)
    n = 3_000
    equity = INITIAL_CASH * np.cumprod(1 + rng.normal(3e-4, 0.01, n))
    dates = np.busday_offset("2000-01-03", np.arange(n), roll="forward")
    positions = (rng.random(n) < 0.6).astype(float)
    pnl, trade_returns = rng.normal(5, 100, 300), rng.normal(0.001, 0.05, 300)
    benchmark = rng.normal(3e-4, 0.01, n)
    ours = compute_metrics(equity, dates, INITIAL_CASH, positions=positions, trade_pnl=pnl,
                           trade_returns=trade_returns, benchmark_returns=benchmark)
    plain = plain_metrics(equity, dates.astype(np.int64), positions, pnl, trade_returns,
                          benchmark)
    assert set(plain) == set(METRIC_KEYS)
    for key in METRIC_KEYS:
        assert ours[key] == pytest.approx(float(plain[key]), rel=1e-12, abs=1e-15), key
