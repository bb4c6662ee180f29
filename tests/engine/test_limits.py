"""Every spec the validator accepts runs in bounded time and memory: the upper limits of the
spec (engine/spec/limits.py) and the size check of a run (engine/cost.py)."""

from __future__ import annotations

import copy
import tracemalloc
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.bundled import load_bundled
from engine.backtest import run_backtest
from engine.cost import MAX_SWEEP_BAR_SIMULATIONS, check_run_size, estimated_bars
from engine.errors import EngineError
from engine.options import OptionsError, SweepOptions
from engine.spec import SpecError, load_example, parse_spec
from engine.spec.limits import MAX_LOOKBACK_BARS, MAX_MONEY, MAX_RULES

EXAMPLE = load_example("rsi_mean_reversion").to_dict()


def changed(change) -> dict:
    spec = copy.deepcopy(EXAMPLE)
    change(spec)
    return spec


def rejection(spec: dict) -> dict[str, str]:
    with pytest.raises(SpecError) as caught:
        parse_spec(spec)
    return caught.value.errors


@pytest.mark.parametrize("period", [MAX_LOOKBACK_BARS + 1, 100_000, 10**9, 10**19])
def test_an_indicator_period_beyond_the_look_back_limit_is_refused_at_its_path(period):
    spec = changed(lambda s: s["entry"]["all"][0]["left"]["params"].update(period=period))
    assert rejection(spec) == {"entry.all[0].left.params.period":
                               f"must be at most {MAX_LOOKBACK_BARS}"}


def test_an_offset_beyond_the_look_back_limit_is_refused_at_its_path():
    spec = changed(lambda s: s["entry"]["all"][0]["left"].update(offset=10**19))
    assert rejection(spec) == {"entry.all[0].left.offset": f"must be at most {MAX_LOOKBACK_BARS}"}


@pytest.mark.parametrize(("field", "value"), [("initial_cash", 1e308),
                                              ("initial_cash", MAX_MONEY * 2)])
def test_money_beyond_a_trillion_is_refused(field, value):
    assert list(rejection(changed(lambda s: s.update({field: value})))) == [field]


def test_a_fixed_cash_sizing_beyond_a_trillion_is_refused():
    spec = changed(lambda s: s.update(sizing={"method": "fixed_cash", "value": 1e20}))
    assert list(rejection(spec)) == ["sizing.value"]


@pytest.mark.parametrize(("field", "day"), [("end", "2262-04-11"), ("end", "2263-01-01"),
                                            ("start", "1600-01-01"), ("start", "0199-06-06")])
def test_dates_pandas_cannot_hold_are_refused_with_the_allowed_range(field, day):
    assert rejection(changed(lambda s: s.update({field: day}))) == {
        field: "must be from 1900-01-01 to 2200-12-31"}


def test_more_rules_than_the_limit_are_refused():
    rule = EXAMPLE["entry"]["all"][0]
    spec = changed(lambda s: s["entry"].update({"all": [rule] * MAX_RULES}))
    assert rejection(spec) == {"exit": f"entry and exit hold {MAX_RULES + 1} rules together; "
                                       f"at most {MAX_RULES}"}


def test_estimated_bars_count_trading_days_and_the_warm_up():
    spec = parse_spec(changed(lambda s: s.update(start="2020-01-01", end="2021-01-01")))
    # 366 calendar days x 252 / 365.25 = 252.5 -> 253, plus RSI(14)'s warm-up of 14 bars
    assert estimated_bars(spec) == 253 + 14


def test_a_sweep_too_large_for_its_date_range_is_refused_naming_the_grid():
    spec = parse_spec(changed(lambda s: s.update(start="1950-01-01", end="2020-01-01")))
    bars = estimated_bars(spec)
    fits = MAX_SWEEP_BAR_SIMULATIONS // bars
    grid = SweepOptions(grid={"entry.all[0].right": list(range(fits + 1))})
    with pytest.raises(OptionsError) as caught:
        check_run_size(spec, grid)
    assert f"use at most {fits:,} combinations" in caught.value.errors["grid"]
    check_run_size(spec, SweepOptions(grid={"entry.all[0].right": list(range(fits))}))


SPY = load_bundled("SPY")
look_backs = st.integers(min_value=1, max_value=MAX_LOOKBACK_BARS)


@st.composite
def extreme_specs(draw) -> dict:
    """Valid specs pushed towards every upper limit."""
    spec = copy.deepcopy(EXAMPLE)
    spec["entry"]["all"][0]["left"]["params"]["period"] = draw(look_backs)
    spec["entry"]["all"][0]["left"]["offset"] = draw(st.integers(0, MAX_LOOKBACK_BARS))
    spec["exit"]["any"][0]["left"]["params"]["period"] = draw(look_backs)
    spec["initial_cash"] = draw(st.sampled_from([1e-6, 1.0, 1e6, MAX_MONEY]))
    spec["start"] = draw(st.sampled_from([None, "1900-01-01", "2024-12-01"]))
    spec["end"] = draw(st.sampled_from([None, "2200-12-31", "2024-12-31"]))
    if spec["start"] and spec["end"] and spec["end"] <= spec["start"]:
        spec["end"] = None
    spec["sizing"] = draw(st.sampled_from([{"method": "percent_equity", "value": 100},
                                           {"method": "fixed_units", "value": MAX_MONEY},
                                           {"method": "fixed_cash", "value": MAX_MONEY}]))
    spec["direction"] = draw(st.sampled_from(["long", "short", "both"]))
    return spec


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extreme_specs())
def test_any_accepted_spec_runs_or_raises_a_domain_error_in_bounded_memory(spec):
    parsed = parse_spec(spec)  # accepted by the validator
    tracemalloc.start()
    try:
        run_backtest(parsed, SPY)
    except EngineError:
        pass  # a clear domain error (e.g. no bars left after the warm-up) is fine
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < 300 * 2**20, f"{peak / 2**20:.0f} MB"


def test_the_latest_allowed_end_date_does_not_say_no_bars_wrongly():
    spec = parse_spec(changed(lambda s: s.update(start="2020-01-01", end="2200-12-31")))
    result = run_backtest(spec, SPY)
    assert result.meta["last_date"] == str(SPY.index[-1].date())
    assert date.fromisoformat(result.meta["first_date"]) >= date(2020, 1, 1)
