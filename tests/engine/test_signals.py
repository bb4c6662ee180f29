"""Specification of engine/signals.py: rule trees (docs/spec.md entry/exit) to boolean arrays."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.indicators import INDICATORS, macd, rolling_high, rsi, sma
from engine.signals import (
    OPERATORS,
    PRICE_FIELDS,
    IndicatorCache,
    evaluate_rules,
    max_warmup,
    operand_values,
)

nan = np.nan
T, F = True, False


def bars_from_close(close):
    close = np.asarray(close, dtype=float)
    return {
        "open": close - 0.5,
        "high": close + 1.0,
        "low": close - 1.0,
        "close": close,
        "volume": np.full(len(close), 1000.0),
    }


CLOSE = bars_from_close([1, 3, 2, 4, 4, 5])


def rule(left, op, right):
    return {"left": left, "op": op, "right": right}


def close_(offset=None):
    return {"field": "close"} if offset is None else {"field": "close", "offset": offset}


def signals(tree, prices=CLOSE):
    result = evaluate_rules(tree, prices)
    assert result.dtype == bool and result.shape == (len(prices["close"]),)
    return result.tolist()


# --------------------------------------------------------------------------------------------
# operators


def test_comparisons_are_elementwise():
    # close = 1, 3, 2, 4, 4, 5
    assert signals(rule(close_(), ">", 2)) == [F, T, F, T, T, T]
    assert signals(rule(close_(), ">=", 4)) == [F, F, F, T, T, T]
    assert signals(rule(close_(), "<", 3)) == [T, F, T, F, F, F]
    assert signals(rule(close_(), "<=", 3)) == [T, T, T, F, F, F]
    assert signals(rule(4, ">", close_())) == [T, T, T, F, F, F]  # a number on the left
    assert signals(rule({"field": "high"}, ">", close_())) == [T] * 6


def test_crosses_above_needs_the_previous_bar_at_or_below():
    prices = bars_from_close([3, 1, 3, 2, 2, 4])
    # t0: no previous bar; t2: 3 > 2 after 1 <= 2; t5: 4 > 2 after 2 <= 2 (touching counts)
    assert signals(rule(close_(), "crosses_above", 2), prices) == [F, F, T, F, F, T]
    # t1: 1 < 2 after 3 >= 2; t3/t4: 2 is not below 2
    assert signals(rule(close_(), "crosses_below", 2), prices) == [F, T, F, F, F, F]
    assert signals(rule(close_(), "crosses_below", 2.5), prices) == [F, T, F, T, F, F]


def test_crosses_are_false_at_the_first_bar():
    # at t = 0 close (5) is already below 5.2, but a cross needs bar -1 to have been above
    prices = bars_from_close([5, 6])
    assert signals(rule(close_(), "crosses_below", 5.2), prices) == [F, F]
    assert signals(rule(5.2, "crosses_above", close_()), prices) == [F, F]
    assert signals(rule(close_(), "crosses_above", 5.5), prices) == [F, T]


def test_comparisons_with_nan_are_false_whichever_way_round():
    prices = bars_from_close([1, nan, 3, 1, 3])
    assert signals(rule(close_(), ">", 0), prices) == [T, F, T, T, T]
    assert signals(rule(close_(), "<=", 0), prices) == [F, F, F, F, F]
    # t2: 3 > 2 but the previous close is NaN; t4 is a proper cross
    assert signals(rule(close_(), "crosses_above", 2), prices) == [F, F, F, F, T]
    assert signals(rule(close_(), "crosses_below", 2), prices) == [F, F, F, T, F]


def test_rules_on_an_indicator_in_warm_up_are_false():
    sma3 = {"indicator": "sma", "params": {"period": 3}}
    assert signals(rule(sma3, ">", 0)) == [F, F, T, T, T, T]
    assert signals(rule(sma3, "<=", 0)) == [F] * 6  # not the negation of the rule above
    # close crosses above its 2-bar SMA: the first SMA value (t1) has no predecessor
    sma2 = {"indicator": "sma", "params": {"period": 2}}
    # close 1, 3, 2, 4, 4, 5; sma2 nan, 2, 2.5, 3, 4, 4.5 -> above at t1, t3, t5
    assert signals(rule(close_(), "crosses_above", sma2)) == [F, F, F, T, F, T]


# --------------------------------------------------------------------------------------------
# groups


def test_all_is_and_any_is_or_and_groups_nest():
    above_2 = rule(close_(), ">", 2)  # F T F T T T
    below_5 = rule(close_(), "<", 5)  # T T T T T F
    is_1 = rule(close_(), "<=", 1)  # T F F F F F
    assert signals({"all": [above_2, below_5]}) == [F, T, F, T, T, F]
    assert signals({"any": [above_2, is_1]}) == [T, T, F, T, T, T]
    tree = {"any": [{"all": [above_2, below_5]}, is_1]}
    assert signals(tree) == [T, T, F, T, T, F]
    tree = {"all": [{"any": [is_1, above_2]}, {"any": [below_5]}]}
    assert signals(tree) == [T, T, F, T, T, F]


def test_an_empty_group_is_false_so_it_never_trades():
    assert signals({"all": []}) == [F] * 6
    assert signals({"any": []}) == [F] * 6
    assert signals({"any": [{"all": []}, rule(close_(), ">", 4)]}) == [F, F, F, F, F, T]


def test_a_bare_rule_is_a_tree_of_one():
    assert signals(rule(close_(), ">", 3)) == signals({"all": [rule(close_(), ">", 3)]})


def test_malformed_trees_name_the_place_of_the_error():
    with pytest.raises(ValueError, match=r"any\[1\]\.op: must be one of <, <=, >, >="):
        evaluate_rules({"any": [rule(1, "<", 2), rule(1, "=", 2)]}, CLOSE)
    with pytest.raises(ValueError, match=r"all\[0\]\.left\.indicator: unknown indicator 'vwap'"):
        evaluate_rules({"all": [rule({"indicator": "vwap"}, "<", 2)]}, CLOSE)
    with pytest.raises(ValueError, match="either one group or one rule"):
        evaluate_rules({"all": [], "any": []}, CLOSE)
    with pytest.raises(ValueError, match="must be a list"):
        evaluate_rules({"all": rule(1, "<", 2)}, CLOSE)
    with pytest.raises(ValueError, match=r"all\[0\]\.right: must be a number"):
        evaluate_rules({"all": [rule(1, "<", "2")]}, CLOSE)
    with pytest.raises(ValueError, match="price column 'vwap' not found"):
        evaluate_rules(rule({"field": "vwap"}, "<", 2), CLOSE)


# --------------------------------------------------------------------------------------------
# operands


def test_offset_reads_the_value_from_earlier_bars():
    assert_nan_equal(operand_values(close_(2), CLOSE), [nan, nan, 1, 3, 2, 4])
    rsi2 = {"indicator": "rsi", "params": {"period": 2}, "offset": 1}
    expected = np.concatenate([[nan], rsi(CLOSE["close"], 2)[:-1]])
    assert_nan_equal(operand_values(rsi2, CLOSE), expected)
    assert np.isnan(operand_values(close_(10), CLOSE)).all()  # longer than the data


def test_breakout_above_the_previous_high_needs_offset_one():
    # rolling_high(3) of close 1, 3, 2, 4, 4, 5 = nan, nan, 3, 4, 4, 5 (includes bar t):
    # close can never exceed it. One bar earlier: nan, nan, nan, 3, 4, 4.
    high3 = {"indicator": "rolling_high", "params": {"period": 3}}
    assert signals(rule(close_(), ">", high3)) == [F] * 6
    assert signals(rule(close_(), ">", {**high3, "offset": 1})) == [F, F, F, T, F, T]


def test_a_negative_offset_is_rejected_as_look_ahead():
    tree = rule(close_(), ">", {"indicator": "sma", "params": {"period": 2}, "offset": -1})
    with pytest.raises(ValueError, match=r"right\.offset: must be >= 0.*future"):
        evaluate_rules(tree, CLOSE)
    with pytest.raises(ValueError, match="future"):
        max_warmup(tree)
    for bad in (1.5, True, "1"):
        with pytest.raises(ValueError, match="whole number"):
            operand_values(close_(bad), CLOSE)
    assert_nan_equal(operand_values(close_(1.0), CLOSE), operand_values(close_(1), CLOSE))


def test_indicator_output_defaults_to_the_first_and_can_be_chosen():
    lines = macd(CLOSE["close"], 2, 3, 2)
    base = {"indicator": "macd", "params": {"fast": 2, "slow": 3, "signal": 2}}
    assert_nan_equal(operand_values(base, CLOSE), lines["macd"])
    assert_nan_equal(operand_values({**base, "output": "signal"}, CLOSE), lines["signal"])
    assert_nan_equal(operand_values({**base, "output": "hist"}, CLOSE), lines["hist"])
    with pytest.raises(ValueError, match="output: macd has outputs macd, signal, hist"):
        operand_values({**base, "output": "upper"}, CLOSE)


def test_indicator_params_default_and_are_checked():
    prices = bars_from_close(np.linspace(1, 30, 30) ** 1.5)
    assert_nan_equal(operand_values({"indicator": "sma"}, prices), sma(prices["close"], 20))
    with pytest.raises(ValueError, match=r"params: sma.period must be >= 1"):
        operand_values({"indicator": "sma", "params": {"period": 0}}, prices)


def test_source_selects_the_input_series_inside_or_beside_params():
    prices = bars_from_close([1, 3, 2, 4, 4, 5])
    expected = sma(prices["open"], 2)
    beside = {"indicator": "sma", "params": {"period": 2}, "source": "open"}
    inside = {"indicator": "sma", "params": {"period": 2, "source": "open"}}
    assert_nan_equal(operand_values(beside, prices), expected)
    assert_nan_equal(operand_values(inside, prices), expected)
    with pytest.raises(ValueError, match="given twice"):
        operand_values({**inside, "source": "high"}, prices)
    with pytest.raises(ValueError, match="atr always uses high, low, close"):
        operand_values({"indicator": "atr", "source": "open"}, prices)
    # naming the default explicitly is harmless
    atr_close = {"indicator": "atr", "params": {"period": 2}, "source": "close"}
    assert np.isfinite(operand_values(atr_close, prices)[2:]).all()


def test_dataframe_and_mapping_prices_give_the_same_signals():
    frame = pd.DataFrame(CLOSE, index=pd.date_range("2024-01-01", periods=6, name="date"))
    tree = {"any": [rule({"indicator": "rsi", "params": {"period": 2}}, ">", 60),
                    rule(close_(1), "crosses_above", 2)]}  # fmt: skip
    assert evaluate_rules(tree, frame).tolist() == evaluate_rules(tree, CLOSE).tolist()


# --------------------------------------------------------------------------------------------
# cache


def counting(monkeypatch, name):
    """Replace registry entry ``name`` by one that counts its computations."""
    calls = []
    info = INDICATORS[name]

    def calculate(series, params):
        calls.append(params)
        return info.calculate(series, params)

    monkeypatch.setitem(INDICATORS, name, dataclasses.replace(info, calculate=calculate))
    return calls


def test_cache_computes_each_distinct_indicator_once(monkeypatch):
    calls = counting(monkeypatch, "rsi")
    cache = IndicatorCache()
    default = {"indicator": "rsi"}
    explicit = {"indicator": "rsi", "params": {"period": 14.0}, "offset": 2}
    trees = [rule(default, "<", 30), rule(explicit, ">", 70), {"all": [rule(default, ">", 1)]}]
    for tree in trees:
        evaluate_rules(tree, CLOSE, cache)
    assert len(calls) == 1  # same (name, resolved params, source): computed once
    evaluate_rules(rule({"indicator": "rsi", "source": "open"}, "<", 30), CLOSE, cache)
    evaluate_rules(rule({"indicator": "rsi", "params": {"period": 3}}, "<", 30), CLOSE, cache)
    assert len(calls) == 3 and len(cache) == 3


def test_without_a_cache_one_tree_still_computes_each_indicator_once(monkeypatch):
    calls = counting(monkeypatch, "sma")
    sma5 = {"indicator": "sma", "params": {"period": 5}}
    evaluate_rules({"any": [rule(close_(), ">", sma5), rule(sma5, "crosses_above", 3)]}, CLOSE)
    assert len(calls) == 1


def test_cache_never_serves_values_of_another_frame():
    cache = IndicatorCache()
    first, second = bars_from_close([1, 2, 3]), bars_from_close([10, 20, 30, 40])
    sma2 = {"indicator": "sma", "params": {"period": 2}}
    assert_nan_equal(operand_values(sma2, first, cache), [nan, 1.5, 2.5])
    assert_nan_equal(operand_values(sma2, second, cache), [nan, 15, 25, 35])
    assert_nan_equal(operand_values(close_(), second, cache), [10, 20, 30, 40])


def test_cached_arrays_are_read_only_and_the_callers_arrays_stay_writeable():
    prices = bars_from_close([1, 2, 3])
    cache = IndicatorCache()
    values = operand_values({"indicator": "sma", "params": {"period": 2}}, prices, cache)
    with pytest.raises(ValueError, match="read-only"):
        values[0] = 1.0
    operand_values(close_(), prices, cache)
    prices["close"][0] = 7.0  # still the caller's own, writeable array


def test_prices_must_be_columns_of_equal_length():
    with pytest.raises(ValueError, match="same length"):
        evaluate_rules(rule(close_(), ">", 1), {"close": [1, 2], "open": [1]})
    with pytest.raises(TypeError, match="DataFrame or a non-empty mapping"):
        evaluate_rules(rule(close_(), ">", 1), [1, 2, 3])


# --------------------------------------------------------------------------------------------
# warm-up


def test_max_warmup_counts_lookback_offset_and_the_bar_before_a_cross():
    rsi14 = {"indicator": "rsi", "params": {"period": 14}}
    assert max_warmup({"all": [rule(rsi14, "<", 30)]}) == 14  # first RSI at index 14
    high20 = {"indicator": "rolling_high", "params": {"period": 20}, "offset": 1}
    assert max_warmup(rule(close_(), ">", high20)) == 20  # 19 + 1 bar ago
    fast, slow = {"indicator": "sma", "params": {"period": 5}}, {"indicator": "ema"}
    assert max_warmup(rule(fast, "crosses_above", slow)) == 20  # ema(20) from 19, plus t - 1
    assert max_warmup(rule({"indicator": "macd", "output": "signal"}, ">", 0)) == 33
    assert max_warmup(rule({"indicator": "macd"}, ">", 0)) == 25
    assert max_warmup(rule(close_(3), ">", 1)) == 3
    assert max_warmup(rule(1, "<", 2)) == 0
    assert max_warmup({"any": []}) == 0
    nested = {"any": [rule(rsi14, "<", 30), {"all": [rule(close_(), ">", high20)]}]}
    assert max_warmup(nested) == 20


def test_max_warmup_bars_of_history_make_the_first_window_bar_evaluable():
    rng = np.random.default_rng(3)
    prices = bars_from_close(100 + np.cumsum(rng.normal(0, 1, 200)))
    fast = {"indicator": "ema", "params": {"period": 12}}
    slow = {"indicator": "stoch", "params": {"k_period": 9, "d_period": 4}, "output": "d"}
    tree = rule(fast, "crosses_above", slow)
    start = max_warmup(tree)
    for operand in (fast, slow):
        values = operand_values(operand, prices)
        assert np.isfinite(values[start - 1 :]).all()  # valid at t - 1 as a cross needs
        assert np.isnan(values[start - 2])  # and not a bar earlier: the count is tight


# --------------------------------------------------------------------------------------------
# properties over random rule trees built from the registry


def assert_nan_equal(actual, expected):
    np.testing.assert_array_equal(np.asarray(actual), np.asarray(expected, dtype=float))


def random_bars(seed, n):
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    open_ = close * np.exp(rng.normal(0, 0.01, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.01, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.01, n)))
    volume = rng.uniform(1e3, 1e6, n)
    return {"open": open_, "high": high, "low": low, "close": close, "volume": volume}


@st.composite
def indicator_operands(draw):
    name = draw(st.sampled_from(sorted(INDICATORS)))
    info = INDICATORS[name]
    params = {}
    for param, spec in info.params.items():
        if spec.type is int:
            params[param] = draw(st.integers(spec.min, spec.min + 12))
        else:
            params[param] = draw(st.sampled_from([0.5, 1.0, 2.0, 2.5]))
    operand = {"indicator": name, "params": params}
    if draw(st.booleans()):
        operand["output"] = draw(st.sampled_from(info.outputs))
    if info.inputs == "source" and draw(st.booleans()):
        operand["source"] = draw(st.sampled_from(PRICE_FIELDS))
    if draw(st.booleans()):
        operand["offset"] = draw(st.integers(0, 3))
    return operand


field_operands = st.builds(
    lambda field, offset: {"field": field, "offset": offset},
    st.sampled_from(PRICE_FIELDS),
    st.integers(0, 3),
)
operands = st.one_of(
    st.floats(0, 150, allow_nan=False), field_operands, indicator_operands(), indicator_operands()
)
rules = st.builds(rule, operands, st.sampled_from(OPERATORS), operands)
rule_trees = st.recursive(
    rules,
    lambda children: st.one_of(
        st.builds(lambda items: {"all": items}, st.lists(children, max_size=3)),
        st.builds(lambda items: {"any": items}, st.lists(children, max_size=3)),
    ),
    max_leaves=6,
)


def operands_of(tree):
    if "all" in tree or "any" in tree:
        for item in tree.get("all", tree.get("any")):
            yield from operands_of(item)
    else:
        yield tree["left"]
        yield tree["right"]


N_BARS = 60


@settings(max_examples=150, deadline=None)
@given(
    tree=rule_trees,
    seed=st.integers(0, 2**32 - 1),
    t=st.integers(0, N_BARS - 1),
    future_has_gaps=st.booleans(),
)
def test_changing_bars_after_t_never_changes_signals_up_to_t(tree, seed, t, future_has_gaps):
    prices = random_bars(seed, N_BARS)
    other = random_bars(seed + 1, N_BARS)
    changed = {}
    for column, values in prices.items():
        future = other[column] * 1.7
        if future_has_gaps:
            future[::3] = nan
        changed[column] = np.concatenate([values[: t + 1], future[t + 1 :]])
    before = evaluate_rules(tree, prices)
    after = evaluate_rules(tree, changed)
    assert before[: t + 1].tolist() == after[: t + 1].tolist()
    for operand in operands_of(tree):
        assert_nan_equal(operand_values(operand, changed)[: t + 1],
                         operand_values(operand, prices)[: t + 1])  # fmt: skip


@settings(max_examples=100, deadline=None)
@given(operand=st.one_of(indicator_operands(), field_operands), seed=st.integers(0, 2**32 - 1))
def test_max_warmup_is_exactly_the_leading_nan_count_of_an_operand(operand, seed):
    prices = random_bars(seed, 120)
    values = operand_values(operand, prices)
    warmup = max_warmup(rule(operand, ">", 0))
    assert np.isnan(values[:warmup]).all()
    assert np.isfinite(values[warmup:]).all()


def test_rolling_high_operand_equals_the_indicator_function():
    prices = random_bars(0, 50)
    operand = {"indicator": "rolling_high", "params": {"period": 7}, "source": "high"}
    assert_nan_equal(operand_values(operand, prices), rolling_high(prices["high"], 7))
