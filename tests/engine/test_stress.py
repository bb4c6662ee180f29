"""Stress tests on the bundled data: replays reproduce the market's known moves, windows are warm
(no cold start) and measured from the close of start, transplants append exactly the scenario's
returns (x beta), and the result is docs/results.md#stress-result."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from data.bundled import load_bundled
from engine.backtest import prepare_prices, run_backtest
from engine.metrics import beta_alpha
from engine.replay import transplant_bars, window_stats
from engine.scenarios import LIBRARY, StressInputError, custom_scenario
from engine.stress import describe, run_stress

STATS_KEYS = {"return", "max_drawdown", "worst_day", "days_to_recover", "num_trades", "exposure"}
SCENARIO_KEYS = {"id", "name", "kind", "start", "end", "description", "source", "strategy",
                 "benchmark", "equity"}
MC_KEYS = {"paths", "horizon_days", "block_length", "seed", "final_return", "max_drawdown",
           "sharpe", "prob_loss_worse_than", "fan"}
NO_MONTE_CARLO = {"paths": 0, "transplants": []}


def spec(**changes) -> dict:
    base = {
        "version": 1, "name": "RSI 30/70", "symbol": "SPY", "start": "2010-01-01",
        "end": "2024-11-08", "initial_cash": 10000, "fees_bps": 10,
        "entry": {"all": [{"left": {"indicator": "rsi", "params": {"period": 14}}, "op": "<",
                           "right": 30}]},
        "exit": {"any": [{"left": {"indicator": "rsi", "params": {"period": 14}}, "op": ">",
                          "right": 70}]},
    }
    return base | changes


def sma_spec(**changes) -> dict:
    sma = {"left": {"indicator": "sma", "params": {"period": 50}},
           "right": {"indicator": "sma", "params": {"period": 200}}}
    return spec(name="SMA 50/200", entry={"all": [sma | {"op": ">"}]},
                exit={"all": [sma | {"op": "<"}]}, **changes)


@pytest.fixture(scope="module")
def spy() -> pd.DataFrame:
    return load_bundled("SPY")


@pytest.fixture(scope="module")
def raw_replay(spy) -> dict:
    return run_stress(spec(), spy, adjust=False, **NO_MONTE_CARLO).to_dict()


def by_id(document: dict) -> dict[str, dict]:
    return {s["id"]: s for s in document["scenarios"]}


# --- the benchmark reproduces the market ---------------------------------------------------


def test_covid_crash_is_minus_34_percent_on_unadjusted_spy_closes(spy, raw_replay):
    assert spy.loc["2020-02-19", "close"] == 338.34 and spy.loc["2020-03-23", "close"] == 222.95
    covid = by_id(raw_replay)["covid_crash_2020"]
    assert covid["benchmark"]["return"] == pytest.approx(222.95 / 338.34 - 1, abs=1e-12)
    assert covid["benchmark"]["return"] == pytest.approx(-0.34, abs=0.005)


def test_2022_bear_market_is_minus_25_percent_on_unadjusted_spy_closes(raw_replay):
    bear = by_id(raw_replay)["inflation_bear_2022"]
    assert bear["benchmark"]["return"] == pytest.approx(-0.25, abs=0.006)
    assert (bear["start"], bear["end"]) == ("2022-01-03", "2022-10-12")


@pytest.mark.parametrize("adjust", [False, True])
def test_every_window_s_benchmark_numbers_come_from_the_data(spy, adjust):
    document = run_stress(spec(), spy, adjust=adjust, **NO_MONTE_CARLO).to_dict()
    closes = prepare_prices(spy, adjust)["close"]
    assert [s["id"] for s in document["scenarios"]] == list(LIBRARY)
    for scenario in document["scenarios"]:
        window = closes.loc[scenario["start"]:scenario["end"]].to_numpy()
        drawdown = (window / np.maximum.accumulate(window)).min() - 1
        bench = scenario["benchmark"]
        assert bench["max_drawdown"] == pytest.approx(drawdown, abs=1e-12), scenario["id"]
        assert bench["return"] == pytest.approx(window[-1] / window[0] - 1, abs=1e-12)
        assert bench["worst_day"] == pytest.approx((window[1:] / window[:-1] - 1).min())
        assert (bench["num_trades"], bench["exposure"]) == (0, 1.0)
        assert [row["date"] for row in scenario["equity"]] == [
            d.strftime("%Y-%m-%d") for d in closes.loc[scenario["start"]:scenario["end"]].index]


def test_adjusted_replays_include_dividends(spy, raw_replay):
    adjusted = by_id(run_stress(spec(), spy, **NO_MONTE_CARLO).to_dict())
    raw = by_id(raw_replay)
    # SPY went ex-dividend on 2020-03-20: the adjusted fall is smaller.
    assert raw["covid_crash_2020"]["benchmark"]["return"] < \
        adjusted["covid_crash_2020"]["benchmark"]["return"] < -0.33


def test_days_to_recover_look_past_the_window_through_the_data(spy, raw_replay):
    covid = by_id(raw_replay)["covid_crash_2020"]
    closes = spy["close"]
    after = closes.loc["2020-03-24":]
    back = after.index[np.argmax(after.to_numpy() >= closes.loc["2020-02-19"])]
    trading_days = len(closes.loc["2020-03-23":back]) - 1
    assert covid["benchmark"]["days_to_recover"] == trading_days
    assert back == pd.Timestamp("2020-08-18")  # unadjusted SPY was back above 338.34 that day


# --- the strategy in a window -------------------------------------------------------------


@pytest.mark.parametrize("make_spec", [spec, sma_spec])
def test_a_replay_equals_a_full_history_backtest_of_the_same_dates(spy, make_spec):
    """No cold start: the window sees the indicators of the whole history."""
    document = run_stress(make_spec(), spy, **NO_MONTE_CARLO).to_dict()
    traded = 0
    for scenario in document["scenarios"]:
        dates = {"start": scenario["start"], "end": scenario["end"]}
        backtest = run_backtest(make_spec(**dates), spy)
        expected = backtest.equity["equity"].to_numpy() / 10000 * 100
        replayed = [row["strategy"] for row in scenario["equity"]]
        np.testing.assert_allclose(replayed, expected, rtol=1e-12, err_msg=scenario["id"])
        assert scenario["strategy"]["num_trades"] == backtest.metrics["num_trades"]
        traded += scenario["strategy"]["num_trades"]
    assert traded > 0


def test_a_cold_start_would_have_given_other_results(spy):
    """What the previous test protects against: the 200-day average needs history."""
    document = by_id(run_stress(sma_spec(), spy, scenarios=["covid_recovery_2020"],
                                **NO_MONTE_CARLO).to_dict())
    warm = document["covid_recovery_2020"]["strategy"]
    cold = run_backtest(sma_spec(start="2020-03-23", end="2020-08-18"),
                        spy.loc["2020-03-23":"2020-08-18"])
    assert cold.metrics["num_trades"] == 0  # SMA 200 never exists inside a 103-day window
    assert warm["num_trades"] >= 1 and warm["exposure"] > 0.1


def test_the_window_starts_flat_at_the_close_of_start(spy):
    always_in = spec(entry={"all": [{"left": {"field": "close"}, "op": ">", "right": 0}]},
                     exit={"all": [{"left": {"field": "close"}, "op": "<", "right": 0}]})
    for fill in ("next_open", "close"):
        covid = by_id(run_stress(always_in | {"fill": fill}, spy, adjust=False,
                                 scenarios=["covid_crash_2020"],
                                 **NO_MONTE_CARLO).to_dict())["covid_crash_2020"]
        assert covid["equity"][0] == {"date": "2020-02-19", "strategy": 100.0,
                                      "benchmark": 100.0}
        assert covid["strategy"]["num_trades"] == 1
    # next_open: bought at the open of 2020-02-20 with 10 bps of fees
    next_open = by_id(run_stress(always_in, spy, adjust=False, scenarios=["covid_crash_2020"],
                                 **NO_MONTE_CARLO).to_dict())["covid_crash_2020"]
    bought = 10000 / (spy.loc["2020-02-20", "open"] * 1.001)
    assert next_open["strategy"]["return"] == pytest.approx(bought * 222.95 / 10000 - 1)
    assert next_open["strategy"]["exposure"] == 1.0


def test_carry_enters_the_window_with_the_position_of_a_continuous_run(spy):
    continuous = run_backtest(sma_spec(start=None, end=None), spy).equity["equity"]
    carried = by_id(run_stress(sma_spec(), spy, entry="carry", scenarios=["gfc_2008"],
                               **NO_MONTE_CARLO).to_dict())["gfc_2008"]
    expected = continuous.loc["2007-10-09":"2009-03-09"]
    np.testing.assert_allclose([r["strategy"] for r in carried["equity"]],
                               expected / expected.iloc[0] * 100, rtol=1e-12)
    flat = by_id(run_stress(sma_spec(), spy, scenarios=["gfc_2008"],
                            **NO_MONTE_CARLO).to_dict())["gfc_2008"]
    assert carried["strategy"]["return"] != flat["strategy"]["return"]


def test_window_stats_on_a_hand_made_curve():
    # base 100; window of 5 closes, then two closes of continuation
    values = np.array([100.0, 90.0, 80.0, 95.0, 99.0, 99.5, 101.0])
    stats = window_stats(values, 5, positions=np.array([0, 1, 1, 0, 1.0]), num_trades=2)
    assert stats == {"return": pytest.approx(-0.01), "max_drawdown": pytest.approx(-0.2),
                     "worst_day": pytest.approx(80 / 90 - 1), "days_to_recover": 4,
                     "num_trades": 2, "exposure": 0.75}
    assert window_stats(values, 7)["days_to_recover"] == 4  # the trough is bar 2 either way
    assert window_stats(values[:6], 6)["days_to_recover"] is None  # never back to 100
    rising = window_stats(np.array([100.0, 100.0, 101.0]), 3)
    assert (rising["days_to_recover"], rising["max_drawdown"], rising["exposure"]) == (0, 0, 1.0)


def test_custom_windows_and_windows_the_data_cannot_cover(spy):
    tsla = load_bundled("TSLA")
    document = run_stress(spec(symbol="TSLA", benchmark="SPY", start="2015-01-01"), tsla, spy,
                          scenarios=["gfc_2008", "covid_crash_2020"],
                          custom_scenarios=[{"id": "dip_2021", "start": "2021-09-02",
                                             "end": "2021-10-04"},
                                            custom_scenario("future", "2030-01-02", "2030-02-01")],
                          transplants=["gfc_2008"], paths=0).to_dict()
    replayed = by_id(document)
    assert set(replayed) == {"covid_crash_2020", "dip_2021", "gfc_2008_transplant"}
    assert (replayed["dip_2021"]["kind"], replayed["dip_2021"]["custom"]) == ("historical", True)
    assert replayed["covid_crash_2020"]["custom"] is False
    skipped = {s["id"]: s["reason"] for s in document["skipped"]}
    assert "no bars on or before 2007-10-09" in skipped["gfc_2008"]
    assert "TSLA" in skipped["gfc_2008"] and "after the data" in skipped["future"]


def test_unknown_scenarios_and_bad_options_raise(spy):
    with pytest.raises(StressInputError, match="valid ids"):
        run_stress(spec(), spy, scenarios=["gfc_2009"])
    with pytest.raises(StressInputError, match="valid ids"):
        run_stress(spec(), spy, transplants=["nope"])
    with pytest.raises(StressInputError, match="entry"):
        run_stress(spec(), spy, entry="sideways")
    with pytest.raises(StressInputError, match="paths"):
        run_stress(spec(), spy, paths=20_000)


# --- shock transplant ---------------------------------------------------------------------


def test_a_transplanted_path_has_exactly_the_scenario_returns_times_beta(spy):
    bars = prepare_prices(spy)
    window = bars.loc["2020-02-19":"2020-03-23"]
    history = bars.loc[:"2024-11-08"]
    for beta in (1.0, 1.7, 0.4, -0.5):
        appended = transplant_bars(window, history, beta)
        closes = np.concatenate(([history["close"].iloc[-1]], appended["close"]))
        source = window["close"].to_numpy()
        np.testing.assert_allclose(closes[1:] / closes[:-1] - 1,
                                   beta * (source[1:] / source[:-1] - 1), rtol=1e-10, atol=1e-14)
        assert len(appended) == len(window) - 1
        assert (appended["high"] >= appended[["open", "close"]].max(axis=1)).all()
        assert (appended["low"] <= appended[["open", "close"]].min(axis=1)).all()
    gap = transplant_bars(window, history, 1.0)
    assert gap["open"].iloc[0] / history["close"].iloc[-1] == pytest.approx(
        window["open"].iloc[1] / window["close"].iloc[0])
    assert list(gap.index[:3]) == list(pd.to_datetime(["2024-11-11", "2024-11-12",
                                                       "2024-11-13"]))


def test_transplants_scale_the_benchmark_by_the_symbol_beta(spy):
    qqq = load_bundled("QQQ")
    document = run_stress(spec(symbol="QQQ", benchmark="SPY", start="2015-01-01"), qqq, spy,
                          scenarios=[], transplants=["covid_crash_2020"], paths=0).to_dict()
    [transplant] = document["scenarios"]
    returns = prepare_prices(qqq)["close"].pct_change().loc["2015-01-01":].iloc[1:]
    bench = prepare_prices(spy)["close"].pct_change().iloc[1:]
    beta, _ = beta_alpha(returns, bench)
    assert transplant["beta"] == pytest.approx(beta) and 1.0 < beta < 1.3
    assert (transplant["id"], transplant["kind"]) == ("covid_crash_2020_transplant",
                                                      "transplant")
    assert transplant["start"] == "2024-11-08" and transplant["path_source"] == "SPY"
    spy_move = prepare_prices(spy)["close"].loc["2020-02-19":"2020-03-23"]
    assert transplant["benchmark"]["return"] == pytest.approx(spy_move.iloc[-1] /
                                                              spy_move.iloc[0] - 1)
    assert len(transplant["equity"]) == len(spy_move)


def test_transplanting_the_symbol_itself_replays_its_own_moves(spy):
    document = run_stress(spec(), spy, scenarios=["covid_crash_2020"],
                          transplants=["covid_crash_2020"], transplant_source="symbol",
                          paths=0).to_dict()
    replay, transplant = document["scenarios"]
    np.testing.assert_allclose([r["benchmark"] for r in transplant["equity"]],
                               [r["benchmark"] for r in replay["equity"]], rtol=1e-12)
    assert transplant["beta"] == 1.0


# --- the document -------------------------------------------------------------------------


def test_the_result_is_contract_3b_and_strict_json(spy):
    seen = []
    result = run_stress(spec(), spy, scenarios=["covid_crash_2020", "bank_stress_2023"],
                        paths=100, horizon_days=21, progress=lambda f, s: seen.append((f, s)))
    document = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert document["spec"]["name"] == "RSI 30/70" and document["spec"]["benchmark"] == "SPY"
    assert [s["kind"] for s in document["scenarios"]] == ["historical"] * 2 + ["transplant"] * 3
    for scenario in document["scenarios"]:
        assert SCENARIO_KEYS <= set(scenario)
        assert set(scenario["strategy"]) == STATS_KEYS == set(scenario["benchmark"])
        assert scenario["equity"][0]["strategy"] == scenario["equity"][0]["benchmark"] == 100.0
        last = scenario["equity"][-1]
        assert last["strategy"] == pytest.approx(100 * (1 + scenario["strategy"]["return"]))
    assert MC_KEYS <= set(document["monte_carlo"])
    assert document["monte_carlo"]["paths"] == 100
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("covid_crash_2020" in stage for _, stage in seen)
    assert document["meta"]["price_basis"] == "adjusted"


def test_the_plain_words_summary_counts_crises_and_names_the_worst():
    def row(name, kind, strategy, benchmark, start="2020-01-02"):
        stats = {"return": strategy, "max_drawdown": min(strategy, 0) - 0.05}
        market = {"return": benchmark, "max_drawdown": min(benchmark, 0) - 0.05}
        return {"id": name, "name": name, "kind": kind, "start": start,
                "strategy": stats, "benchmark": market}

    document = {
        "spec": {"benchmark": "SPY"},
        "scenarios": [row("crash A", "historical", -0.10, -0.30),
                      row("crash B", "historical", -0.25, -0.20),
                      row("dip C", "custom", 0.01, -0.05),
                      row("rally D", "historical", 0.20, 0.40),
                      row("crash A, next", "transplant", -0.12, -0.30, "2024-11-08")],
        "monte_carlo": {"paths": 1000, "horizon_days": 252,
                        "final_return": {"p5": -0.18, "p50": 0.04},
                        "prob_loss_worse_than": {"0.1": 0.123, "0.2": 0.04}},
        "skipped": [{"name": "2008 global financial crisis"}],
    }
    assert describe(document) == [
        "In 2 of 3 crises your strategy lost less than buy-and-hold of SPY. Its worst was the "
        "crash B: −25.0 % (buy-and-hold −20.0 %).",
        "Its deepest drawdown in a crisis was −30.0 % (crash B; buy-and-hold −25.0 %).",
        "In the rally D it made +20.0 % against +40.0 % for buy-and-hold.",
        "If the crash A happened after 2024-11-08, your strategy would return −12.0 % "
        "(SPY −30.0 %).",
        "Over 252 simulated trading days (1,000 paths) the median return is +4.0 %, one path "
        "in 20 does worse than −18.0 %; 12.3 % of the paths lose more than 10 %.",
        "Not covered by the data: 2008 global financial crisis.",
    ]


# --- a benchmark that does not cover the window (issue 12, item 2) ---------------------------


def test_a_window_after_the_benchmark_s_data_has_no_benchmark_numbers(spy):
    aapl = load_bundled("AAPL")  # runs to 2025-10-08; SPY stops on 2024-11-08
    late = {"id": "late", "start": "2025-02-19", "end": "2025-04-08"}
    mine = spec(symbol="AAPL", benchmark="SPY", start="2024-01-02", end="2024-11-08")
    document = run_stress(mine, aapl, spy, scenarios=[], custom_scenarios=[late],
                          transplants=[], paths=0).to_dict()
    (window,) = document["scenarios"]
    assert window["benchmark"] is None  # not a flat line at SPY's last close
    assert all(row["benchmark"] is None for row in window["equity"])
    assert window["note"] == ("benchmark SPY has no prices after 2024-11-08, before the "
                              "window's end 2025-04-08")
    json.dumps(document, allow_nan=False)


def test_benchmark_holes_inside_a_window_are_carried_and_named(spy):
    gappy = spy.drop(index=pd.DatetimeIndex(["2020-03-09", "2020-03-16"]))
    document = run_stress(spec(symbol="QQQ", benchmark="SPY"), load_bundled("QQQ"), gappy,
                          scenarios=["covid_crash_2020"], transplants=[], paths=0).to_dict()
    (window,) = document["scenarios"]
    assert "no bars on 2 date(s): 2020-03-09, 2020-03-16" in window["note"]
    market = {row["date"]: row["benchmark"] for row in window["equity"]}
    assert market["2020-03-09"] == market["2020-03-06"]  # carried, and said so
    assert window["benchmark"]["return"] == pytest.approx(
        spy["adj_close"].loc["2020-03-23"] / spy["adj_close"].loc["2020-02-19"] - 1, rel=1e-12)


def test_data_warnings_on_the_prices_reach_the_stress_result(spy):
    prices = spy.copy()
    prices.attrs["warnings"] = [{"date": "2015-03-02", "kind": "unadjusted_split",
                                 "message": "like a 2:1 split"}]
    document = run_stress(spec(), prices, scenarios=[], transplants=[], paths=0).to_dict()
    assert document["warnings"] == [{"date": "2015-03-02", "kind": "unadjusted_split",
                                     "message": "like a 2:1 split", "symbol": "SPY"}]
