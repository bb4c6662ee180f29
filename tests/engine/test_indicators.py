"""Specification of engine/indicators.py.

Three kinds of checks: small hand-worked examples (expected values derived in the comments),
cross-checks against textbook loops written here independently of the engine (on random walks
and on the bundled SPY history), and exact warm-up lengths for every registry entry.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from data.bundled import load_bundled
from engine.indicators import (
    INDICATORS,
    atr,
    bbands,
    donchian,
    ema,
    macd,
    roc,
    rolling_high,
    rolling_low,
    rsi,
    sma,
    stoch,
)

nan = np.nan
ATOL = 1e-8


def assert_same(actual, expected, atol=ATOL):
    """Equal to ``atol`` with NaN in exactly the same places."""
    actual = np.asarray(actual)
    assert actual.dtype == np.float64
    np.testing.assert_allclose(actual, np.asarray(expected, dtype=float), rtol=0, atol=atol)


# --------------------------------------------------------------------------------------------
# textbook reference implementations: plain loops, deliberately naive


def ref_sma(x, period):
    out = [nan] * len(x)
    for t in range(period - 1, len(x)):
        total = 0.0
        for i in range(t - period + 1, t + 1):
            total += x[i]
        out[t] = total / period
    return out


def ref_ema(x, period):
    """Seed = mean of the first `period` values (after any leading NaNs), then the recursion."""
    out = [nan] * len(x)
    start = 0
    while start < len(x) and math.isnan(x[start]):
        start += 1
    alpha = 2.0 / (period + 1)
    if start + period > len(x):
        return out
    value = sum(x[start : start + period]) / period
    out[start + period - 1] = value
    for t in range(start + period, len(x)):
        value = alpha * x[t] + (1 - alpha) * value
        out[t] = value
    return out


def ref_rsi(close, period):
    out = [nan] * len(close)
    gains = [0.0] * len(close)
    losses = [0.0] * len(close)
    for t in range(1, len(close)):
        change = close[t] - close[t - 1]
        gains[t] = change if change > 0 else 0.0
        losses[t] = -change if change < 0 else 0.0

    def value(avg_gain, avg_loss):
        if avg_loss == 0:
            return 100.0 if avg_gain > 0 else 50.0
        return 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)

    if period >= len(close):
        return out
    avg_gain = sum(gains[1 : period + 1]) / period
    avg_loss = sum(losses[1 : period + 1]) / period
    out[period] = value(avg_gain, avg_loss)
    for t in range(period + 1, len(close)):
        avg_gain = (avg_gain * (period - 1) + gains[t]) / period
        avg_loss = (avg_loss * (period - 1) + losses[t]) / period
        out[t] = value(avg_gain, avg_loss)
    return out


def ref_atr(high, low, close, period):
    out = [nan] * len(close)
    true_range = [nan] * len(close)
    for t in range(1, len(close)):
        true_range[t] = max(
            high[t] - low[t], abs(high[t] - close[t - 1]), abs(low[t] - close[t - 1])
        )
    if period >= len(close):
        return out
    value = sum(true_range[1 : period + 1]) / period
    out[period] = value
    for t in range(period + 1, len(close)):
        value = (value * (period - 1) + true_range[t]) / period
        out[t] = value
    return out


def ref_macd(close, fast, slow, signal):
    fast_line, slow_line = ref_ema(close, fast), ref_ema(close, slow)
    line = [f - s for f, s in zip(fast_line, slow_line, strict=True)]
    signal_line = ref_ema(line, signal)
    hist = [m - s for m, s in zip(line, signal_line, strict=True)]
    return {"macd": line, "signal": signal_line, "hist": hist}


def ref_bbands(x, period, k):
    out = {name: [nan] * len(x) for name in ("upper", "middle", "lower", "percent_b")}
    for t in range(period - 1, len(x)):
        window = x[t - period + 1 : t + 1]
        mean = sum(window) / period
        sigma = math.sqrt(sum((v - mean) ** 2 for v in window) / period)  # population
        out["middle"][t] = mean
        out["upper"][t] = mean + k * sigma
        out["lower"][t] = mean - k * sigma
        if sigma > 0:
            out["percent_b"][t] = (x[t] - (mean - k * sigma)) / (2 * k * sigma)
    return out


def ref_stoch(high, low, close, k_period, d_period):
    k = [nan] * len(close)
    for t in range(k_period - 1, len(close)):
        highest = max(high[t - k_period + 1 : t + 1])
        lowest = min(low[t - k_period + 1 : t + 1])
        k[t] = 50.0 if highest == lowest else 100 * (close[t] - lowest) / (highest - lowest)
    d = [nan] * len(close)
    for t in range(k_period + d_period - 2, len(close)):
        d[t] = sum(k[t - d_period + 1 : t + 1]) / d_period
    return {"k": k, "d": d}


# --------------------------------------------------------------------------------------------
# data


def random_walk_bars(n=500, seed=7):
    """Positive OHLCV bars from a geometric random walk; high/low bracket open and close."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.015, n)))
    open_ = close * np.exp(rng.normal(0, 0.005, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.008, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.008, n)))
    volume = rng.integers(1_000, 1_000_000, n).astype(float)
    return {"open": open_, "high": high, "low": low, "close": close, "volume": volume}


@pytest.fixture(scope="module", params=["random_walk", "spy"])
def bars(request):
    if request.param == "random_walk":
        return random_walk_bars()
    frame = load_bundled("SPY")
    return {c: frame[c].to_numpy() for c in ("open", "high", "low", "close", "volume")}


# --------------------------------------------------------------------------------------------
# hand-worked examples


def test_sma_is_the_mean_of_the_last_period_values():
    # windows (1,2,3), (2,3,4), (3,4,5) -> 2, 3, 4; first valid at index period - 1 = 2
    assert_same(sma([1, 2, 3, 4, 5], 3), [nan, nan, 2, 3, 4])


def test_ema_is_seeded_with_the_sma_of_the_first_period_values():
    # alpha = 2 / (3 + 1) = 0.5; seed at index 2 = (2 + 4 + 6) / 3 = 4
    # index 3: 0.5 * 3 + 0.5 * 4 = 3.5; index 4: 0.5 * 9 + 0.5 * 3.5 = 6.25
    assert_same(ema([2, 4, 6, 3, 9], 3), [nan, nan, 4, 3.5, 6.25])


def test_rsi_uses_wilder_smoothing():
    # closes 10, 11, 10.5, 12, 11, 11.5 -> changes +1, -0.5, +1.5, -1, +0.5
    # index 3: AG = (1 + 0 + 1.5) / 3 = 5/6, AL = 0.5 / 3 = 1/6, RS = 5 -> 100 - 100/6
    # index 4: AG = (5/6 * 2 + 0) / 3 = 5/9, AL = (1/6 * 2 + 1) / 3 = 4/9 -> 100 - 100/2.25
    # index 5: AG = (5/9 * 2 + 0.5) / 3 = 14.5/27, AL = (4/9 * 2) / 3 = 8/27
    #          RS = 14.5/8 -> 100 - 100/2.8125 = 64.44...
    # (a simple 3-bar average at index 5 would give AG = 2/3, AL = 1/3 -> 66.67)
    expected = [nan, nan, nan, 100 - 100 / 6, 100 - 100 / 2.25, 100 - 100 / 2.8125]
    assert_same(rsi([10, 11, 10.5, 12, 11, 11.5], 3), expected)


def test_rsi_is_100_without_losses_and_50_on_a_flat_market():
    assert_same(rsi([1, 2, 3, 4, 5], 2), [nan, nan, 100, 100, 100])
    assert_same(rsi([7, 7, 7, 7], 2), [nan, nan, 50, 50])
    assert_same(rsi([5, 4, 3, 2], 2), [nan, nan, 0, 0])


def test_macd_is_fast_minus_slow_ema_with_an_ema_signal():
    # close 1, 2, 3, 5, 4, 6; fast = 2 (alpha 2/3), slow = 3 (alpha 1/2), signal = 2
    # ema2: i1 1.5, i2 2.5, i3 12.5/3, i4 36.5/9, i5 144.5/27
    # ema3: i2 2, i3 3.5, i4 3.75, i5 4.875
    # macd: i2 0.5, i3 2/3, i4 36.5/9 - 3.75 = 11/36, i5 144.5/27 - 4.875 = 103/216
    # signal: seed at i3 = (0.5 + 2/3) / 2 = 7/12; i4 = 2/3 * 11/36 + 1/3 * 7/12 = 43/108
    #         i5 = 2/3 * 103/216 + 1/3 * 43/108 = 73/162
    result = macd([1, 2, 3, 5, 4, 6], fast=2, slow=3, signal=2)
    assert_same(result["macd"], [nan, nan, 0.5, 2 / 3, 11 / 36, 103 / 216])
    assert_same(result["signal"], [nan, nan, nan, 7 / 12, 43 / 108, 73 / 162])
    assert_same(result["hist"], [nan, nan, nan, 1 / 12, 11 / 36 - 43 / 108, 103 / 216 - 73 / 162])


def test_bbands_use_the_population_standard_deviation():
    # window (1, 2, 3): mean 2, population variance (1 + 0 + 1) / 3 = 2/3 (sample would be 1)
    # upper/lower = 2 -+ 2 * sqrt(2/3); percent_b of 3 = 0.5 + 1 / (2 * 2 * sqrt(2/3))
    sigma = math.sqrt(2 / 3)
    result = bbands([1, 2, 3, 4, 5], period=3, std=2.0)
    assert_same(result["middle"], [nan, nan, 2, 3, 4])
    assert_same(result["upper"], [nan, nan, 2 + 2 * sigma, 3 + 2 * sigma, 4 + 2 * sigma])
    assert_same(result["lower"], [nan, nan, 2 - 2 * sigma, 3 - 2 * sigma, 4 - 2 * sigma])
    assert_same(result["percent_b"], [nan, nan] + [0.5 + 1 / (4 * sigma)] * 3)


def test_bbands_percent_b_is_nan_when_the_bands_have_no_width():
    # 0.1 is not exact in binary: the mean of a flat window can differ from 0.1 by rounding,
    # yet the width must be exactly 0 and percent_b NaN, not noise
    result = bbands([0.1] * 5, period=3)
    assert_same(result["upper"], [nan, nan, 0.1, 0.1, 0.1], atol=1e-15)
    assert np.isnan(result["percent_b"]).all()
    assert np.isnan(bbands([1, 2, 3, 4], period=2, std=0.0)["percent_b"]).all()


def test_atr_uses_the_previous_close_and_wilder_smoothing():
    # bar 1: h-l 0.5, |h-c0| = |12-10| = 2 (gap up), |l-c0| 1.5        -> TR 2
    # bar 2: h-l 1.5, |12.5-11.8| 0.7, |11-11.8| 0.8                    -> TR 1.5
    # bar 3: h-l 1.5, |11.5-12| 0.5, |10-12| = 2 (gap down)             -> TR 2
    # bar 4: h-l 0.6, |11-10.5| 0.5, |10.4-10.5| 0.1                    -> TR 0.6
    # period 2: ATR_2 = (2 + 1.5) / 2 = 1.75; ATR_3 = (1.75 + 2) / 2 = 1.875;
    #           ATR_4 = (1.875 + 0.6) / 2 = 1.2375
    high = [10.5, 12, 12.5, 11.5, 11]
    low = [9.5, 11.5, 11, 10, 10.4]
    close = [10, 11.8, 12, 10.5, 10.8]
    assert_same(atr(high, low, close, 2), [nan, nan, 1.75, 1.875, 1.2375])


def test_stoch_k_locates_the_close_in_the_recent_range():
    # k_period 3: index 2 window HH 12, LL 8, close 11 -> 75; index 3 HH 12, LL 9, close 10
    # -> 33.33; index 4 HH 12, LL 8, close 9 -> 25.  d (2 bars): 54.17, 29.17
    high, low, close = [10, 11, 12, 11, 10], [8, 9, 10, 9, 8], [9, 10, 11, 10, 9]
    result = stoch(high, low, close, k_period=3, d_period=2)
    assert_same(result["k"], [nan, nan, 75, 100 / 3, 25])
    assert_same(result["d"], [nan, nan, nan, (75 + 100 / 3) / 2, (100 / 3 + 25) / 2])


def test_stoch_k_is_50_when_the_range_is_empty():
    result = stoch([5] * 4, [5] * 4, [5] * 4, k_period=2, d_period=2)
    assert_same(result["k"], [nan, 50, 50, 50])
    assert_same(result["d"], [nan, nan, 50, 50])


def test_roc_is_the_percent_change_over_period_bars():
    # 110/100 - 1 = 10 %, 121/110 - 1 = 10 %, 99/121 - 1 = -18.18 %; over 2 bars: 21 %, -10 %
    x = [100, 110, 121, 99]
    assert_same(roc(x, 1), [nan, 10, 10, 100 * (99 / 121 - 1)])
    assert_same(roc(x, 2), [nan, nan, 21, -10])
    assert_same(roc([0, 1, 2], 1), [nan, nan, 100])  # from 0: undefined, not infinite


def test_donchian_includes_the_current_bar():
    result = donchian([3, 5, 4, 2, 6], [1, 2, 0, 1, 3], period=3)
    assert_same(result["upper"], [nan, nan, 5, 5, 6])  # 6 is the current bar's high
    assert_same(result["lower"], [nan, nan, 0, 0, 0])


def test_rolling_high_and_low_include_the_current_bar():
    assert_same(rolling_high([1, 3, 2, 5, 4], 2), [nan, 3, 3, 5, 5])
    assert_same(rolling_low([1, 3, 2, 5, 4], 2), [nan, 1, 2, 2, 4])


# --------------------------------------------------------------------------------------------
# inputs, outputs and NaN


def test_accepts_lists_series_and_ints_and_returns_new_float64_arrays():
    x = np.arange(10)
    for values in (list(x), pd.Series(x), x):
        out = sma(values, 3)
        assert out.dtype == np.float64 and out.shape == (10,)
    close = np.arange(10.0)
    out = rolling_high(close, 1)
    out[:] = -1
    assert close[3] == 3.0  # the input is not aliased


def test_period_longer_than_the_data_gives_all_nan():
    for out in (sma([1, 2], 3), ema([1, 2], 3), rsi([1, 2, 3], 3), roc([1, 2], 2)):
        assert np.isnan(out).all()
    assert np.isnan(atr([1, 2], [1, 2], [1, 2], 2)).all()


def test_invalid_periods_are_rejected():
    with pytest.raises(ValueError, match="period must be >= 1"):
        sma([1, 2, 3], 0)
    with pytest.raises(TypeError, match="integer"):
        ema([1, 2, 3], 2.5)
    with pytest.raises(ValueError, match="1-D"):
        sma([[1, 2], [3, 4]], 1)
    with pytest.raises(ValueError, match="same length"):
        atr([1, 2, 3], [1, 2], [1, 2, 3], 1)


def test_sma_is_nan_while_its_window_holds_a_nan():
    assert_same(sma([1, 2, nan, 4, 5, 6], 2), [nan, 1.5, nan, nan, 4.5, 5.5])


def test_ema_skips_leading_nans_and_restarts_after_a_gap():
    # leading NaNs: seed = mean(2, 4) at index 3; alpha 2/3 -> index 4: 2/3 * 6 + 1/3 * 3 = 5
    assert_same(ema([nan, nan, 2, 4, 6], 2), [nan, nan, nan, 3, 5])
    # a NaN inside: NaN there, then a new seed from the next `period` valid values
    assert_same(ema([2, 4, nan, 6, 8, 11], 2), [nan, 3, nan, nan, 7, 2 / 3 * 11 + 1 / 3 * 7])


def test_rsi_and_atr_restart_after_a_missing_close():
    close = np.array([1, 2, 3, 4, nan, 5, 6, 7, 8])
    # the NaN removes the changes at index 4 and 5; 2 valid changes are needed again
    assert_same(rsi(close, 2), [nan, nan, 100, 100, nan, nan, nan, 100, 100])
    out = atr(close + 1, close - 1, close, 2)
    assert np.isnan(out[4:7]).all() and np.isfinite(out[7:]).all()


# --------------------------------------------------------------------------------------------
# cross-checks against the textbook loops (random walk and real SPY history)


@pytest.mark.parametrize("period", [1, 2, 14, 50])
def test_sma_and_ema_match_the_textbook_loops(bars, period):
    close = list(bars["close"])
    assert_same(sma(bars["close"], period), ref_sma(close, period))
    assert_same(ema(bars["close"], period), ref_ema(close, period))


@pytest.mark.parametrize("period", [2, 14, 30])
def test_rsi_matches_the_textbook_loop(bars, period):
    assert_same(rsi(bars["close"], period), ref_rsi(list(bars["close"]), period))


@pytest.mark.parametrize("period", [1, 14, 30])
def test_atr_matches_the_textbook_loop(bars, period):
    h, low, c = (list(bars[k]) for k in ("high", "low", "close"))
    assert_same(atr(bars["high"], bars["low"], bars["close"], period), ref_atr(h, low, c, period))


@pytest.mark.parametrize(("fast", "slow", "signal"), [(12, 26, 9), (5, 35, 5), (3, 3, 1)])
def test_macd_matches_the_textbook_loop(bars, fast, slow, signal):
    result = macd(bars["close"], fast, slow, signal)
    expected = ref_macd(list(bars["close"]), fast, slow, signal)
    for name in ("macd", "signal", "hist"):
        assert_same(result[name], expected[name])


@pytest.mark.parametrize(("period", "k"), [(20, 2.0), (5, 1.5), (2, 3.0)])
def test_bbands_match_the_textbook_loop(bars, period, k):
    result = bbands(bars["close"], period, k)
    expected = ref_bbands(list(bars["close"]), period, k)
    for name in ("upper", "middle", "lower", "percent_b"):
        assert_same(result[name], expected[name])


@pytest.mark.parametrize(("k_period", "d_period"), [(14, 3), (5, 1), (1, 4)])
def test_stoch_matches_the_textbook_loop(bars, k_period, d_period):
    h, low, c = (list(bars[k]) for k in ("high", "low", "close"))
    result = stoch(bars["high"], bars["low"], bars["close"], k_period, d_period)
    expected = ref_stoch(h, low, c, k_period, d_period)
    assert_same(result["k"], expected["k"])
    assert_same(result["d"], expected["d"])


def test_roc_donchian_and_rolling_extremes_match_direct_definitions(bars):
    close, high, low = bars["close"], bars["high"], bars["low"]
    changes = [100 * (close[t] / close[t - 10] - 1) for t in range(10, len(close))]
    expected_roc = [nan] * 10 + changes
    assert_same(roc(close, 10), expected_roc)
    upper = [nan] * 19 + [max(high[t - 19 : t + 1]) for t in range(19, len(high))]
    lower = [nan] * 19 + [min(low[t - 19 : t + 1]) for t in range(19, len(low))]
    assert_same(donchian(high, low, 20)["upper"], upper)
    assert_same(donchian(high, low, 20)["lower"], lower)
    assert_same(rolling_high(high, 20), upper)
    assert_same(rolling_low(low, 20), lower)


# --------------------------------------------------------------------------------------------
# registry


REGISTRY_CASES = [
    ("sma", {"period": 1}),
    ("sma", {"period": 20}),
    ("ema", {"period": 9}),
    ("rsi", {"period": 14}),
    ("rsi", {"period": 1}),
    ("macd", {}),
    ("macd", {"fast": 30, "slow": 10, "signal": 4}),
    ("bbands", {"period": 3, "std": 1.0}),  # SPY has equal consecutive closes: no period 2
    ("bbands", {}),
    ("atr", {"period": 14}),
    ("stoch", {"k_period": 14, "d_period": 3}),
    ("stoch", {"k_period": 1, "d_period": 1}),
    ("roc", {"period": 10}),
    ("donchian", {"period": 20}),
    ("rolling_high", {"period": 5}),
    ("rolling_low", {"period": 55}),
]


def test_registry_covers_the_contract_indicators():
    assert set(INDICATORS) == {
        "sma", "ema", "rsi", "macd", "bbands", "atr", "stoch", "roc", "donchian",
        "rolling_high", "rolling_low",
    }  # fmt: skip
    assert INDICATORS["macd"].outputs == ("macd", "signal", "hist")
    assert INDICATORS["bbands"].outputs == ("upper", "middle", "lower", "percent_b")
    assert INDICATORS["stoch"].outputs == ("k", "d")
    assert INDICATORS["donchian"].outputs == ("upper", "lower")
    assert INDICATORS["sma"].outputs == ("sma",)
    assert INDICATORS["rsi"].inputs == "source"
    assert INDICATORS["atr"].inputs == ("high", "low", "close")
    assert INDICATORS["rsi"].params["period"] == (int, 14, 1)


@pytest.mark.parametrize(("name", "params"), REGISTRY_CASES)
def test_registry_warmup_is_exact_for_every_output(bars, name, params):
    info = INDICATORS[name]
    outputs = info.compute(bars, params, "close")
    assert set(outputs) == set(info.outputs)
    for output, values in outputs.items():
        warmup = info.warmup(params, output)
        assert len(values) == len(bars["close"])
        assert np.isnan(values[:warmup]).all(), (output, warmup)
        assert np.isfinite(values[warmup:]).all(), (output, warmup)


def test_registry_compute_matches_the_functions_and_uses_the_source():
    bars = random_walk_bars(100)
    assert_same(INDICATORS["rsi"].compute(bars, {"period": 5}, "open")["rsi"], rsi(bars["open"], 5))
    assert_same(INDICATORS["ema"].compute(bars, {}, "close")["ema"], ema(bars["close"], 20))
    stoch_out = INDICATORS["stoch"].compute(bars, {"k_period": 5}, "ignored")
    assert_same(stoch_out["d"], stoch(bars["high"], bars["low"], bars["close"], 5, 3)["d"])
    with pytest.raises(ValueError, match="adj_close"):
        INDICATORS["sma"].compute(bars, {}, "adj_close")


def test_resolve_params_fills_defaults_and_checks_types_and_minimums():
    info = INDICATORS["bbands"]
    assert info.resolve_params({}) == {"period": 20, "std": 2.0}
    assert info.resolve_params({"period": 10.0, "std": 1}) == {"period": 10, "std": 1.0}
    assert info.resolve_params({"period": 10, "source": "open"}) == {"period": 10, "std": 2.0}
    with pytest.raises(ValueError, match="unknown parameter 'length'"):
        info.resolve_params({"length": 10})
    with pytest.raises(ValueError, match="bbands.period must be >= 2"):
        info.resolve_params({"period": 1})
    with pytest.raises(ValueError, match="whole number"):
        info.resolve_params({"period": 10.5})
    with pytest.raises(ValueError, match="must be a number"):
        info.resolve_params({"std": "2"})
    with pytest.raises(ValueError, match="must be a number"):
        INDICATORS["sma"].resolve_params({"period": True})
    with pytest.raises(ValueError, match="no output 'k'"):
        info.warmup({}, "k")


# --------------------------------------------------------------------------------------------
# optional: agreement with TA-Lib itself when it is installed


def test_agrees_with_talib_on_spy_when_installed():
    talib = pytest.importorskip("talib")
    frame = load_bundled("SPY")
    h, low, c = (frame[k].to_numpy() for k in ("high", "low", "close"))
    assert_same(sma(c, 30), talib.SMA(c, 30))
    assert_same(ema(c, 30), talib.EMA(c, 30))
    assert_same(rsi(c, 14), talib.RSI(c, 14))
    assert_same(atr(h, low, c, 14), talib.ATR(h, low, c, 14))
    assert_same(roc(c, 10), talib.ROC(c, 10))
    assert_same(rolling_high(h, 20), talib.MAX(h, 20))
    assert_same(rolling_low(low, 20), talib.MIN(low, 20))
    upper, middle, lower = talib.BBANDS(c, 20, 2.0, 2.0, 0)
    bands = bbands(c, 20, 2.0)
    assert_same(bands["upper"], upper)
    assert_same(bands["middle"], middle)
    assert_same(bands["lower"], lower)
    fast_k, fast_d = talib.STOCHF(h, low, c, 14, 3, 0)
    # TA-Lib starts both STOCHF outputs where %D starts (index 15); our %K starts at 13
    assert_same(stoch(h, low, c, 14, 3)["k"][15:], fast_k[15:])
    assert_same(stoch(h, low, c, 14, 3)["d"], fast_d)
    # TA-Lib seeds MACD's fast EMA later (see engine.indicators.macd); equal once it has decayed
    line, signal, hist = talib.MACD(c, 12, 26, 9)
    ours = macd(c, 12, 26, 9)
    assert_same(ours["macd"][300:], line[300:])
    assert_same(ours["signal"][300:], signal[300:])
    assert_same(ours["hist"][300:], hist[300:])
