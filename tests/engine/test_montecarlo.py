"""Monte Carlo: the stationary block bootstrap, synthetic bars, parametric shocks, and the strategy
run on every path exactly as it would run on that path alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data.bundled import load_bundled
from engine.backtest import prepare_prices, sim_config
from engine.montecarlo import (
    apply_shocks,
    bars_from_relative,
    check_monte_carlo_options,
    path_signals,
    relative_bars,
    run_monte_carlo,
    simulate_paths,
    stationary_bootstrap_indices,
)
from engine.scenarios import StressInputError
from engine.signals import evaluate_rules
from engine.simulate import SimConfig, simulate
from engine.spec import load_example

RSI = {"all": [{"left": {"indicator": "rsi", "params": {"period": 14}}, "op": "<",
                "right": 30}]}
RSI_EXIT = {"any": [{"left": {"indicator": "rsi", "params": {"period": 14}}, "op": ">",
                     "right": 70}]}
# One rule of every kind that looks back: recursive (ema, macd, atr, rsi), rolling (bbands,
# stoch, donchian), roc, an offset and crossings.
LOOKBACK_ENTRY = {"any": [
    {"left": {"indicator": "ema", "params": {"period": 10}}, "op": "crosses_above",
     "right": {"indicator": "sma", "params": {"period": 30}}},
    {"left": {"indicator": "macd", "output": "hist"}, "op": ">", "right": 0.3},
    {"left": {"indicator": "roc", "params": {"period": 12}}, "op": "<", "right": -4},
    {"left": {"field": "close"}, "op": ">",
     "right": {"indicator": "rolling_high", "params": {"period": 20}, "offset": 1}},
]}
LOOKBACK_EXIT = {"any": [
    {"left": {"indicator": "bbands", "output": "percent_b"}, "op": ">", "right": 1.0},
    {"left": {"indicator": "stoch", "output": "d"}, "op": "crosses_below", "right": 20},
    {"left": {"indicator": "atr", "params": {"period": 14}}, "op": ">",
     "right": {"indicator": "atr", "params": {"period": 50}, "offset": 3}},
    {"left": {"field": "low"}, "op": "<",
     "right": {"indicator": "donchian", "output": "lower", "offset": 1}},
]}


@pytest.fixture(scope="module")
def spy() -> pd.DataFrame:
    return prepare_prices(load_bundled("SPY"))


def draw(n_source=500, paths=200, horizon=252, block_length=20.0, seed=7):
    return stationary_bootstrap_indices(n_source, paths, horizon, block_length,
                                        np.random.default_rng(seed))


# --- the bootstrap -------------------------------------------------------------------------


def test_same_seed_same_paths_and_another_seed_other_paths():
    assert np.array_equal(draw(seed=7), draw(seed=7))
    assert not np.array_equal(draw(seed=7), draw(seed=8))


def test_blocks_continue_with_the_next_bar_and_wrap_around():
    picks = draw(n_source=50, block_length=30)
    steps = (np.diff(picks, axis=1)) % 50
    assert np.mean(steps == 1) > 0.9  # inside a block the next source bar follows
    wrapped = (picks[:, :-1] == 49) & (picks[:, 1:] == 0)
    assert wrapped.any()  # the last bar is followed by the first, not dropped


def test_block_lengths_are_geometric_with_the_given_mean():
    picks = draw(n_source=100_000, paths=400, horizon=1000, block_length=20.0)
    continued = np.diff(picks, axis=1) == 1  # a new block almost never lands on bar + 1
    restarts = np.count_nonzero(~continued)
    mean_length = (picks.size - picks.shape[0]) / restarts
    assert mean_length == pytest.approx(20.0, rel=0.05)
    assert draw(n_source=10_000, block_length=1.0).shape == (200, 252)
    iid = np.diff(draw(n_source=10_000, block_length=1.0), axis=1) == 1
    assert iid.mean() < 0.01  # block length 1: every day is a fresh draw


def test_every_source_bar_is_equally_likely():
    counts = np.bincount(draw(n_source=40, paths=2000, horizon=100).ravel(), minlength=40)
    expected = 2000 * 100 / 40
    assert np.all(np.abs(counts - expected) < 0.1 * expected)


def test_pooled_bootstrap_returns_keep_the_source_mean_and_volatility(spy):
    rel, _ = relative_bars(spy.loc["2010":"2024"])
    source = rel[:, 3] - 1.0
    pooled = source[draw(n_source=len(source), paths=1000, horizon=252, seed=1)]
    assert pooled.mean() == pytest.approx(source.mean(), abs=3e-4)
    assert pooled.std() == pytest.approx(source.std(), rel=0.05)


def lag1_autocorrelation(returns: np.ndarray) -> float:
    centred = returns - returns.mean()
    return float((centred[:, 1:] * centred[:, :-1]).mean() / centred.var())


def test_blocks_keep_the_lag1_autocorrelation_and_iid_draws_lose_it():
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 0.01, 20_000)
    ar = np.empty_like(noise)
    ar[0] = noise[0]
    for t in range(1, len(ar)):  # an AR(1) source with phi = 0.8
        ar[t] = 0.8 * ar[t - 1] + noise[t]
    blocks = ar[draw(n_source=len(ar), paths=300, horizon=252, block_length=20.0)]
    single = ar[draw(n_source=len(ar), paths=300, horizon=252, block_length=1.0)]
    assert lag1_autocorrelation(blocks) == pytest.approx(0.8 * (1 - 1 / 20), abs=0.05)
    assert abs(lag1_autocorrelation(single)) < 0.03


# --- bars and shocks -----------------------------------------------------------------------


def test_relative_bars_rebuild_the_real_bars_exactly(spy):
    window = spy.loc["2020-01-02":"2020-06-30"]
    rel, volume = relative_bars(window)
    rebuilt = bars_from_relative(window["close"].iloc[0], rel[None])
    for column in ("open", "high", "low", "close"):
        np.testing.assert_allclose(rebuilt[column][0], window[column].to_numpy()[1:],
                                   rtol=1e-12)
    assert np.array_equal(volume, window["volume"].to_numpy()[1:])


def test_a_gap_moves_the_whole_bar_of_its_day_only(spy):
    rel, _ = relative_bars(spy.loc["2019"])
    paths = rel[draw(n_source=len(rel), paths=5, horizon=30)]
    shocked = apply_shocks(paths, mean_log_return=0.0, gap_pct=-12, gap_day=10)
    np.testing.assert_array_equal(shocked[:, 9], paths[:, 9] * 0.88)
    np.testing.assert_array_equal(np.delete(shocked, 9, axis=1), np.delete(paths, 9, axis=1))
    bars = bars_from_relative(100.0, shocked)
    previous_close = bars["close"][:, 8]
    assert np.allclose(bars["open"][:, 9] / previous_close, paths[:, 9, 0] * 0.88)
    assert paths[:, 9, 0].min() > 0.95  # so the shocked day opens at least 7 % lower


def test_a_volatility_multiplier_scales_dispersion_and_keeps_the_drift(spy):
    rel, _ = relative_bars(spy.loc["2010":"2024"])
    mu = float(np.log(rel[:, 3]).mean())
    paths = rel[draw(n_source=len(rel), paths=300, horizon=252)]
    doubled = apply_shocks(paths, mean_log_return=mu, vol_multiplier=2.0)
    log_close, log_doubled = np.log(paths[..., 3]), np.log(doubled[..., 3])
    np.testing.assert_allclose(log_doubled - mu, 2.0 * (log_close - mu), atol=1e-12)
    assert log_doubled.std() == pytest.approx(2.0 * log_close.std(), rel=1e-9)
    bars = bars_from_relative(100.0, doubled)
    assert np.all(bars["high"] >= np.maximum(bars["open"], bars["close"]))
    assert np.all(bars["low"] <= np.minimum(bars["open"], bars["close"]))
    assert np.all(bars["low"] > 0)


# --- the strategy on every path ------------------------------------------------------------


def synthetic_paths(spy, paths=6, horizon=120, seed=5):
    history = spy.loc["2018":"2019"]
    rel, volume = relative_bars(spy.loc["2010":"2019"])
    picks = draw(n_source=len(rel), paths=paths, horizon=horizon, seed=seed)
    bars = bars_from_relative(history["close"].iloc[-1], rel[picks])
    bars["volume"] = volume[picks]
    return history, bars


@pytest.mark.parametrize(("entry", "exit_"), [(RSI, RSI_EXIT), (LOOKBACK_ENTRY, LOOKBACK_EXIT)])
def test_signals_of_all_paths_at_once_equal_each_path_evaluated_alone(spy, entry, exit_):
    history, bars = synthetic_paths(spy)
    entries, exits = path_signals(entry, exit_, history, bars)
    assert entries.shape == (6, len(history) + 120)
    fired = 0
    for j in range(6):
        alone = pd.concat([history[["open", "high", "low", "close", "volume"]], pd.DataFrame(
            {c: bars[c][j] for c in ("open", "high", "low", "close", "volume")})])
        alone = alone.reset_index(drop=True)
        assert np.array_equal(entries[j], evaluate_rules(entry, alone)), j
        assert np.array_equal(exits[j], evaluate_rules(exit_, alone)), j
        fired += entries[j, len(history):].sum() + exits[j, len(history):].sum()
    assert fired > 0  # the comparison covered signals on synthetic bars


def test_every_path_is_simulated_like_a_single_backtest(spy):
    history, bars = synthetic_paths(spy, paths=8, horizon=200)
    entries, exits = path_signals(LOOKBACK_ENTRY, LOOKBACK_EXIT, history, bars)
    entries, exits = entries[:, len(history):], exits[:, len(history):]
    config = SimConfig(fees_bps=10, slippage_bps=5, stop_loss_pct=3, take_profit_pct=8)
    equity, position, trades = simulate_paths(bars, entries, exits, config)
    for j in range(8):
        alone = simulate(bars["open"][j], bars["high"][j], bars["low"][j], bars["close"][j],
                         entries[j], exits[j], config)
        assert np.array_equal(equity[j], alone.equity)
        assert np.array_equal(position[j], alone.position)
        assert trades[j] == len(alone.trades["pnl"])
    assert trades.sum() > 0


def monte_carlo(spy, spec=None, **options):
    spec = spec or load_example("rsi_mean_reversion").to_dict()
    window = spy.loc[spec["start"]:spec["end"]]
    defaults = {"paths": 300, "horizon_days": 126, "seed": 0}
    return run_monte_carlo(spec, window, spy.loc[:spec["end"]], sim_config(spec),
                           **(defaults | options))


def test_a_seeded_monte_carlo_is_reproducible(spy):
    first, again = monte_carlo(spy), monte_carlo(spy)
    assert first == again
    assert monte_carlo(spy, seed=1)["final_return"] != first["final_return"]


def test_the_result_has_the_contract_fields_and_ordered_percentiles(spy):
    result = monte_carlo(spy, paths=400, horizon_days=63, loss_thresholds=(0.05, 0.1, 0.2))
    assert {"paths", "horizon_days", "block_length", "seed", "final_return", "max_drawdown",
            "sharpe", "prob_loss_worse_than", "fan"} <= set(result)
    assert (result["paths"], result["horizon_days"], result["seed"]) == (400, 63, 0)
    for key in ("final_return", "max_drawdown", "sharpe"):
        values = [result[key][f"p{q}"] for q in (5, 25, 50, 75, 95)]
        assert values == sorted(values), key
    assert result["max_drawdown"]["p95"] <= 0
    probabilities = list(result["prob_loss_worse_than"].values())
    assert list(result["prob_loss_worse_than"]) == ["0.05", "0.1", "0.2"]
    assert probabilities == sorted(probabilities, reverse=True)
    fan = result["fan"]
    assert [row["day"] for row in fan] == list(range(64))
    assert fan[0] == {"day": 0, "p5": 100.0, "p25": 100.0, "p50": 100.0, "p75": 100.0,
                      "p95": 100.0}
    assert all(row["p5"] <= row["p50"] <= row["p95"] for row in fan)
    assert fan[-1]["p50"] == pytest.approx(100 * (1 + result["final_return"]["p50"]))
    histogram = result["histogram"]
    assert sum(histogram["strategy"]) == sum(histogram["buy_and_hold"]) == 400
    assert len(histogram["edges"]) == len(histogram["strategy"]) + 1


def test_a_strategy_that_never_trades_keeps_its_cash_on_every_path(spy):
    spec = load_example("rsi_mean_reversion").to_dict()
    spec["entry"] = {"all": [{"left": {"indicator": "rsi"}, "op": "<", "right": 0}]}
    result = monte_carlo(spy, spec)
    assert all(v == 0.0 for v in result["final_return"].values())
    assert all(v is None for v in result["sharpe"].values())
    assert result["sharpe_defined_paths"] == 0
    assert set(result["prob_loss_worse_than"].values()) == {0.0}
    assert all(row["p5"] == row["p95"] == 100.0 for row in result["fan"])
    assert result["buy_and_hold"]["final_return"]["p5"] < 0 < \
        result["buy_and_hold"]["final_return"]["p95"]


def test_a_crash_on_day_one_shows_in_the_buy_and_hold_outcomes(spy):
    calm, crashed = monte_carlo(spy), monte_carlo(spy, gap_pct=-30, gap_day=1)
    assert crashed["buy_and_hold"]["prob_loss_worse_than"]["0.2"] > \
        calm["buy_and_hold"]["prob_loss_worse_than"]["0.2"] + 0.3
    wild = monte_carlo(spy, vol_multiplier=2.5)
    assert wild["buy_and_hold"]["max_drawdown"]["p50"] < calm["buy_and_hold"]["max_drawdown"][
        "p50"]


@pytest.mark.parametrize(("options", "problem"), [
    ({"paths": 10_001}, "paths"), ({"paths": -1}, "paths"), ({"paths": 1.5}, "paths"),
    ({"horizon_days": 0}, "horizon_days"), ({"paths": 5000, "horizon_days": 2000}, "at most"),
    ({"block_length": 0.5}, "block_length"), ({"vol_multiplier": 0}, "vol_multiplier"),
    ({"gap_pct": -100}, "gap_pct"), ({"gap_pct": -10, "gap_day": 300}, "gap_day"),
])
def test_options_out_of_range_are_rejected_by_name(options, problem):
    arguments = {"paths": 1000, "horizon_days": 252, "block_length": 20} | options
    with pytest.raises(StressInputError, match=problem):
        check_monte_carlo_options(**arguments)
