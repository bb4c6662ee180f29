"""Hand-checked cases of the execution simulator (engine/simulate/).

Every expected number is derived in a comment from the bars of the test, so a failure can be
checked with a pencil. Bars are written as (open, high, low, close) rows.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.simulate import (
    EXIT_REASONS,
    TRADE_COLUMNS,
    SimConfig,
    simulate,
    simulate_final_equity_many,
    simulate_many,
)

SIGNAL, STOP_LOSS, TAKE_PROFIT, TRAILING_STOP, END_OF_DATA = range(5)

# Five rising bars: open 10..14, close = open + 0.5, range +-0.5 around them.
RISING = [
    (10.0, 11.0, 9.5, 10.5),
    (11.0, 12.0, 10.5, 11.5),
    (12.0, 13.0, 11.5, 12.5),
    (13.0, 14.0, 12.5, 13.5),
    (14.0, 15.0, 13.5, 14.5),
]


def flags(n: int, *indices: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[list(indices)] = True
    return out


def run(rows, entries=(), exits=(), **settings):
    bars = np.asarray(rows, dtype=float)
    n = len(bars)
    return simulate(
        bars[:, 0], bars[:, 1], bars[:, 2], bars[:, 3],
        flags(n, *entries), flags(n, *exits), SimConfig(**settings),
    )


def only_trade(result) -> dict[str, float]:
    assert len(result.trades["side"]) == 1, result.trades
    return {name: result.trades[name][0] for name in TRADE_COLUMNS}


# ---------------------------------------------------------------------------------------------
# Fill timing
# ---------------------------------------------------------------------------------------------


def test_entry_and_exit_signals_fill_at_the_next_open():
    # Entry signal on bar 1 -> buy at open[2] = 12: units = 10000 / 12 = 833.33.
    # Exit signal on bar 3 -> sell at open[4] = 14: cash = 833.33 * 14 = 11666.67.
    result = run(RISING, entries=[1], exits=[3])
    units = 10_000.0 / 12.0
    trade = only_trade(result)
    assert trade["entry_index"] == 2 and trade["entry_price"] == 12.0
    assert trade["exit_index"] == 4 and trade["exit_price"] == 14.0
    assert trade["side"] == 1 and trade["exit_reason"] == SIGNAL
    assert trade["units"] == pytest.approx(units)
    assert trade["pnl"] == pytest.approx(units * 2.0)
    assert trade["return"] == pytest.approx(2.0 / 12.0)
    # Flat until bar 2's open; marked at closes 12.5 and 13.5 while held; cash afterwards.
    np.testing.assert_allclose(result.position, [0, 0, units, units, 0])
    np.testing.assert_allclose(
        result.equity, [10_000, 10_000, units * 12.5, units * 13.5, units * 14.0]
    )
    np.testing.assert_allclose(result.cash, [10_000, 10_000, 0, 0, units * 14.0], atol=1e-9)


def test_entry_and_exit_signals_fill_at_the_same_close_with_fill_close():
    # Entry on bar 1 -> buy at close[1] = 11.5; exit on bar 3 -> sell at close[3] = 13.5.
    result = run(RISING, entries=[1], exits=[3], fill="close")
    trade = only_trade(result)
    assert (trade["entry_index"], trade["entry_price"]) == (1, 11.5)
    assert (trade["exit_index"], trade["exit_price"]) == (3, 13.5)
    units = 10_000.0 / 11.5
    np.testing.assert_allclose(result.position, [0, units, units, 0, 0])
    assert result.equity[-1] == pytest.approx(units * 13.5)


def test_signal_on_the_last_bar_is_ignored_with_next_open():
    # There is no open after bar 4: the entry cannot fill anywhere.
    result = run(RISING, entries=[4])
    assert len(result.trades["side"]) == 0
    np.testing.assert_array_equal(result.equity, 10_000.0)


def test_exit_signal_on_the_last_bar_is_ignored_with_next_open():
    # Held from open[2]; the exit on bar 4 has no next open: the trade ends as end_of_data.
    result = run(RISING, entries=[1], exits=[4], fees_bps=10)
    assert only_trade(result)["exit_reason"] == END_OF_DATA


def test_fill_close_opens_nothing_on_the_last_bar():
    result = run(RISING, entries=[4], fill="close")
    assert len(result.trades["side"]) == 0
    assert result.total_fees == 0.0


def test_fill_close_still_exits_on_the_last_bar_at_its_close():
    # Buy at close[1] = 11.5; the exit on the last bar sells at close[4] = 14.5 as a real fill:
    # reason "signal" and an exit fee of units * 14.5 * 0.001.
    result = run(RISING, entries=[1], exits=[4], fill="close", fees_bps=10)
    trade = only_trade(result)
    units = 10_000.0 / (11.5 * 1.001)
    assert (trade["exit_index"], trade["exit_price"], trade["exit_reason"]) == (4, 14.5, SIGNAL)
    assert trade["fees"] == pytest.approx(units * 11.5 * 0.001 + units * 14.5 * 0.001)
    assert result.position[-1] == 0.0


def test_open_position_is_reported_as_end_of_data_trade_at_the_last_close_without_exit_fee():
    # Buy at open[2] = 12 with a 10 bps fee: units = 10000 / (12 * 1.001); entry fee = units*12*f.
    # End: valued at close[4] = 14.5, no exit fee, so pnl = units * 2.5 - entry fee.
    result = run(RISING, entries=[1], fees_bps=10)
    units = 10_000.0 / (12.0 * 1.001)
    entry_fee = units * 12.0 * 0.001
    trade = only_trade(result)
    assert trade["exit_reason"] == END_OF_DATA and EXIT_REASONS[END_OF_DATA] == "end_of_data"
    assert (trade["exit_index"], trade["exit_price"]) == (4, 14.5)
    assert trade["fees"] == pytest.approx(entry_fee)
    assert trade["pnl"] == pytest.approx(units * 2.5 - entry_fee)
    assert result.total_fees == pytest.approx(entry_fee)
    assert result.position[-1] == pytest.approx(units)  # still held at the last close
    assert result.equity[-1] == pytest.approx(10_000.0 + trade["pnl"])


def test_final_equity_is_cash_plus_units_times_last_close():
    result = run(RISING, entries=[0], fees_bps=7, slippage_bps=3)
    assert result.equity[-1] == result.cash[-1] + result.position[-1] * 14.5
    np.testing.assert_array_equal(
        result.equity, result.cash + result.position * np.asarray(RISING)[:, 3]
    )


def test_final_equity_is_initial_cash_plus_the_sum_of_trade_pnls():
    result = run(RISING, entries=[0, 3], exits=[2], fees_bps=20, slippage_bps=10)
    assert len(result.trades["pnl"]) == 2
    assert result.equity[-1] == pytest.approx(10_000.0 + result.trades["pnl"].sum())
    assert result.total_fees == pytest.approx(result.trades["fees"].sum())


# ---------------------------------------------------------------------------------------------
# Costs and sizing
# ---------------------------------------------------------------------------------------------


def test_fees_are_exactly_fees_bps_of_each_fills_notional():
    # f = 0.0025. Buy at 12: units = 10000 / (12 * 1.0025) = 831.255; fee = units * 12 * f.
    # Sell at 14: fee = units * 14 * f; cash = units * 14 - that fee.
    result = run(RISING, entries=[1], exits=[3], fees_bps=25)
    f = 0.0025
    units = 10_000.0 / (12.0 * (1 + f))
    trade = only_trade(result)
    assert trade["units"] == pytest.approx(units, rel=1e-12)
    assert result.cash[2] == pytest.approx(10_000.0 - units * 12 - units * 12 * f, abs=1e-9)
    assert result.cash[4] == pytest.approx(units * 14 * (1 - f), rel=1e-12)
    assert trade["fees"] == pytest.approx(units * 12 * f + units * 14 * f, rel=1e-12)
    assert result.total_fees == pytest.approx(trade["fees"], rel=1e-12)
    assert trade["pnl"] == pytest.approx(units * 2 - trade["fees"], rel=1e-12)


def test_all_in_sizing_with_fees_leaves_cash_non_negative_and_about_zero():
    result = run(RISING, entries=[1], fees_bps=30, fractional=True)
    assert result.cash[2] >= 0.0
    assert result.cash[2] == pytest.approx(0.0, abs=1e-9)
    # Without the (1 + f) in the sizing, cash would be -10000 * f = -30 here.


def test_slippage_moves_long_fills_against_the_trader():
    # s = 0.005: the buy at open 12 fills at 12.06, the sell at open 14 at 13.93.
    result = run(RISING, entries=[1], exits=[3], slippage_bps=50)
    trade = only_trade(result)
    assert trade["entry_price"] == pytest.approx(12.06)
    assert trade["exit_price"] == pytest.approx(13.93)
    units = 10_000.0 / 12.06
    assert trade["units"] == pytest.approx(units)
    assert result.equity[-1] == pytest.approx(units * 13.93)
    # Slippage paid: units * (0.06 + 0.07); turnover: units * (12.06 + 13.93).
    assert result.total_slippage == pytest.approx(units * 0.13)
    assert result.turnover == pytest.approx(units * (12.06 + 13.93))


def test_slippage_moves_short_fills_against_the_trader():
    # Short sale at open 12 fills at 11.94 (a sell); cover at open 14 fills at 14.07 (a buy).
    result = run(RISING, entries=[1], exits=[3], slippage_bps=50, direction="short")
    trade = only_trade(result)
    assert trade["side"] == -1
    assert trade["entry_price"] == pytest.approx(11.94)
    assert trade["exit_price"] == pytest.approx(14.07)
    units = 10_000.0 / 11.94
    assert trade["pnl"] == pytest.approx(units * (11.94 - 14.07))


def test_fractional_false_floors_units_to_whole_shares():
    # Buy at open[1] = 30: 10000 / 30 = 333.33 -> 333 shares, 10 left in cash.
    rows = [(30.0, 30.0, 30.0, 30.0)] * 3
    result = run(rows, entries=[0], fractional=False)
    assert only_trade(result)["units"] == 333.0
    assert result.cash[1] == pytest.approx(10.0)


def test_fractional_false_floors_short_units_too():
    # Short at open[1] = 15: 10000 / 15 = 666.67 -> 666 units (rounding would give 667).
    rows = [(15.0, 15.0, 15.0, 15.0)] * 3
    result = run(rows, entries=[0], fractional=False, direction="short")
    assert result.position[1] == -666.0


def test_fractional_units_buy_part_of_an_expensive_asset():
    # One unit costs 50000 and the account holds 10000: all-in buys 0.2 units; fixed_units 0.1
    # buys 0.1 (not "10 % of equity"); whole units cannot buy any.
    rows = [(50_000.0, 50_000.0, 50_000.0, 50_000.0)] * 3
    assert only_trade(run(rows, entries=[0]))["units"] == pytest.approx(0.2)
    fixed = run(rows, entries=[0], sizing_method="fixed_units", sizing_value=0.1)
    assert only_trade(fixed)["units"] == pytest.approx(0.1)
    assert len(run(rows, entries=[0], fractional=False).trades["side"]) == 0


def test_fractional_false_with_too_little_cash_for_one_share_does_not_trade():
    rows = [(30.0, 30.0, 30.0, 30.0)] * 3
    result = run(rows, entries=[0], fractional=False, initial_cash=29.0)
    assert len(result.trades["side"]) == 0
    np.testing.assert_array_equal(result.equity, 29.0)


def test_fixed_cash_buys_that_amount_including_the_fee():
    # 1000 / (12 * 1.001) units at open[2] = 12; cash left 9000.
    result = run(RISING, entries=[1], sizing_method="fixed_cash", sizing_value=1000, fees_bps=10)
    assert only_trade(result)["units"] == pytest.approx(1000 / (12 * 1.001))
    assert result.cash[2] == pytest.approx(9000.0)


def test_fixed_cash_larger_than_cash_is_capped_for_longs():
    result = run(RISING, entries=[1], sizing_method="fixed_cash", sizing_value=50_000)
    assert only_trade(result)["units"] == pytest.approx(10_000 / 12)
    assert result.cash[2] >= 0.0


def test_fixed_units_buys_that_many_units():
    # 100 units at 12 = 1200 -> cash 8800.
    result = run(RISING, entries=[1], sizing_method="fixed_units", sizing_value=100)
    assert only_trade(result)["units"] == 100.0
    assert result.cash[2] == pytest.approx(8800.0)


def test_fixed_units_beyond_cash_are_capped_for_longs_but_not_for_shorts():
    long_run = run(RISING, entries=[1], sizing_method="fixed_units", sizing_value=5000)
    assert only_trade(long_run)["units"] == pytest.approx(10_000 / 12)
    short_run = run(RISING, entries=[1], sizing_method="fixed_units", sizing_value=5000,
                    direction="short")
    assert short_run.position[2] == -5000.0
    assert short_run.cash[2] == pytest.approx(10_000 + 5000 * 12)


def test_percent_equity_invests_that_share_of_equity():
    # 25 % of 10000 at 12: 208.33 units, 7500 stays in cash.
    result = run(RISING, entries=[1], sizing_value=25)
    assert only_trade(result)["units"] == pytest.approx(2500 / 12)
    assert result.cash[2] == pytest.approx(7500.0)


def test_percent_equity_compounds_on_the_equity_left_by_earlier_trades():
    # Trade 1: 10000/12 units, sold at 13 -> equity 10833.33. Trade 2 buys at 14 with it all.
    result = run(RISING, entries=[1, 3], exits=[2])
    assert result.trades["units"][1] == pytest.approx(10_000 / 12 * 13 / 14)


# ---------------------------------------------------------------------------------------------
# Stops and targets (long entry at open[1] = 100 on a signal at bar 0)
# ---------------------------------------------------------------------------------------------

FIRST = (100.0, 101.0, 99.0, 100.0)  # signal bar
HOLD = (100.0, 102.0, 98.0, 101.0)  # entry bar: fills at 100, range stays inside 95..110


def test_stop_loss_fills_at_the_stop_price_not_at_the_close():
    # 5 % stop on the entry price 100 -> 95. Bar 2's low 94 touches it: sell at 95, not at the
    # close 100. 100 units -> equity 9500 from bar 2 on.
    result = run([FIRST, HOLD, (101.0, 101.5, 94.0, 100.0), (100.0, 100.0, 100.0, 100.0)],
                 entries=[0], stop_loss_pct=5)
    trade = only_trade(result)
    assert (trade["exit_index"], trade["exit_reason"]) == (2, STOP_LOSS)
    assert trade["exit_price"] == pytest.approx(95.0)
    np.testing.assert_allclose(result.equity, [10_000, 10_100, 9_500, 9_500])


def test_stop_loss_gapped_through_fills_at_the_open():
    # Bar 2 opens at 93, below the 95 stop: the first price available is 93.
    result = run([FIRST, HOLD, (93.0, 96.0, 92.0, 95.0)], entries=[0], stop_loss_pct=5)
    trade = only_trade(result)
    assert (trade["exit_index"], trade["exit_price"], trade["exit_reason"]) == (2, 93.0, STOP_LOSS)


def test_take_profit_fills_at_the_target_price():
    # 10 % target -> 110; bar 2's high 111 reaches it: sell at 110, not at the close 106.
    result = run([FIRST, HOLD, (105.0, 111.0, 104.0, 106.0)], entries=[0], take_profit_pct=10)
    trade = only_trade(result)
    assert (trade["exit_index"], trade["exit_reason"]) == (2, TAKE_PROFIT)
    assert trade["exit_price"] == pytest.approx(110.0)


def test_take_profit_gapped_beyond_fills_at_the_better_open():
    result = run([FIRST, HOLD, (112.0, 113.0, 111.0, 112.0)], entries=[0], take_profit_pct=10)
    trade = only_trade(result)
    assert (trade["exit_price"], trade["exit_reason"]) == (112.0, TAKE_PROFIT)


def test_stop_and_target_in_the_same_bar_fill_the_stop_first():
    # Bar 2 spans 94..111: both 95 and 110 are inside; the conservative assumption is the stop.
    result = run([FIRST, HOLD, (100.0, 111.0, 94.0, 105.0)], entries=[0],
                 stop_loss_pct=5, take_profit_pct=10)
    trade = only_trade(result)
    assert trade["exit_reason"] == STOP_LOSS
    assert trade["exit_price"] == pytest.approx(95.0)


def test_bar_opening_beyond_the_target_fills_the_target_at_the_open_even_if_it_later_hits_stop():
    result = run([FIRST, HOLD, (112.0, 113.0, 90.0, 91.0)], entries=[0],
                 stop_loss_pct=5, take_profit_pct=10)
    trade = only_trade(result)
    assert (trade["exit_price"], trade["exit_reason"]) == (112.0, TAKE_PROFIT)


def test_stop_is_active_on_the_entry_bar_after_its_open():
    # Entry fills at open[1] = 100; bar 1's low 94 goes through the 95 stop: out on bar 1 at 95.
    result = run([FIRST, (100.0, 101.0, 94.0, 97.0), (97.0, 98.0, 96.0, 97.0)],
                 entries=[0], stop_loss_pct=5)
    trade = only_trade(result)
    assert trade["entry_index"] == trade["exit_index"] == 1
    assert trade["exit_price"] == pytest.approx(95.0)
    assert result.equity[1] == pytest.approx(9_500.0)


def test_target_is_active_on_the_entry_bar_after_its_open():
    result = run([FIRST, (100.0, 111.0, 99.0, 105.0), (105.0, 106.0, 104.0, 105.0)],
                 entries=[0], take_profit_pct=10)
    trade = only_trade(result)
    assert trade["entry_index"] == trade["exit_index"] == 1
    assert trade["exit_price"] == pytest.approx(110.0)


def test_stop_inside_the_entry_bars_open_because_of_slippage_fills_at_that_open():
    # Buy at 100 * 1.01 = 101; a 0.5 % stop is 100.495, above the bar's open 100, which is
    # the first price after the entry: the stop fills there, 100 * 0.99 = 99 after slippage.
    result = run([FIRST, (100.0, 100.2, 99.8, 100.0), (100.0, 100.0, 100.0, 100.0)],
                 entries=[0], stop_loss_pct=0.5, slippage_bps=100)
    trade = only_trade(result)
    assert trade["entry_index"] == trade["exit_index"] == 1
    assert trade["entry_price"] == pytest.approx(101.0)
    assert trade["exit_price"] == pytest.approx(99.0)


def test_with_fill_close_stops_start_on_the_bar_after_the_entry():
    # Buy at close[0] = 100. Bar 0's low 90 came before the entry and must not stop it.
    # Bar 1's low 94 hits the 95 stop.
    result = run([(100.0, 101.0, 90.0, 100.0), (100.0, 101.0, 94.0, 97.0),
                  (97.0, 98.0, 96.0, 97.0)], entries=[0], stop_loss_pct=5, fill="close")
    trade = only_trade(result)
    assert (trade["entry_index"], trade["exit_index"]) == (0, 1)
    assert trade["exit_price"] == pytest.approx(95.0)


def test_stop_price_uses_the_entry_fill_price_after_slippage():
    # Buy at 100 * 1.01 = 101 -> 5 % stop at 95.95; bar 2 low 95.5 hits it; sell 95.95 * 0.99.
    result = run([FIRST, HOLD, (99.0, 99.0, 95.5, 96.0)], entries=[0], stop_loss_pct=5,
                 slippage_bps=100)
    trade = only_trade(result)
    assert trade["exit_price"] == pytest.approx(101 * 0.95 * 0.99)


def test_position_stopped_out_can_reopen_on_the_same_bars_signal():
    # Stopped at 95 on bar 2; bar 2's entry signal buys again at open[3] = 96.
    result = run([FIRST, HOLD, (99.0, 99.0, 94.0, 96.0), (96.0, 97.0, 95.5, 96.0),
                  (96.0, 96.0, 96.0, 96.0)], entries=[0, 2], stop_loss_pct=5)
    assert list(result.trades["exit_reason"]) == [STOP_LOSS, END_OF_DATA]
    assert list(result.trades["entry_index"]) == [1, 3]
    assert result.trades["units"][1] == pytest.approx(9500 / 96)


def test_stop_fills_only_on_the_first_bar_that_reaches_it():
    # Bars 2 and 3 both reach the 95 stop; the exit is on bar 2.
    result = run([FIRST, HOLD, (99.0, 99.0, 94.5, 96.0), (96.0, 96.0, 80.0, 81.0)],
                 entries=[0], stop_loss_pct=5)
    assert only_trade(result)["exit_index"] == 2


# ---------------------------------------------------------------------------------------------
# Trailing stops
# ---------------------------------------------------------------------------------------------


def test_trailing_stop_level_uses_previous_bars_highs_not_the_current_bars_high():
    # 10 % trail, entry at open[1] = 100.
    # bar 1: level = max(100, open 100) * 0.9 = 90; low 99 > 90. High-water mark -> 105.
    # bar 2: level = max(100, 105, open 104) * 0.9 = 94.5; low 100 holds. (Using bar 2's own
    #        high 120 would give 108 and a stop: that is look-ahead inside the bar.) Mark -> 120.
    # bar 3: level = max(120, open 118) * 0.9 = 108; low 107 hits: sell at 108.
    rows = [FIRST, (100.0, 105.0, 99.0, 104.0), (104.0, 120.0, 100.0, 118.0),
            (118.0, 119.0, 107.0, 110.0), (110.0, 111.0, 109.0, 110.0)]
    result = run(rows, entries=[0], trailing_stop_pct=10)
    trade = only_trade(result)
    assert (trade["exit_index"], trade["exit_reason"]) == (3, TRAILING_STOP)
    assert trade["exit_price"] == pytest.approx(108.0)


def test_trailing_stop_level_includes_the_current_open():
    # bar 3 opens at 125, above every earlier high (120): level = 125 * 0.9 = 112.5;
    # low 111 hits it.
    rows = [FIRST, (100.0, 105.0, 99.0, 104.0), (104.0, 120.0, 100.0, 118.0),
            (125.0, 126.0, 111.0, 115.0)]
    result = run(rows, entries=[0], trailing_stop_pct=10)
    assert only_trade(result)["exit_price"] == pytest.approx(112.5)


def test_trailing_stop_gapped_through_fills_at_the_open():
    # Level on bar 3 = 120 * 0.9 = 108; the bar opens at 100: sell at 100.
    rows = [FIRST, (100.0, 105.0, 99.0, 104.0), (104.0, 120.0, 100.0, 118.0),
            (100.0, 101.0, 95.0, 96.0)]
    result = run(rows, entries=[0], trailing_stop_pct=10)
    trade = only_trade(result)
    assert (trade["exit_price"], trade["exit_reason"]) == (100.0, TRAILING_STOP)


def test_tighter_of_fixed_and_trailing_stop_binds_and_a_tie_reports_stop_loss():
    # Fixed 5 % stop = 95. Trailing 5 %: bar 1 level = 100 * 0.95 = 95 (tie -> stop_loss).
    tie = run([FIRST, (100.0, 100.0, 94.0, 96.0)], entries=[0], stop_loss_pct=5,
              trailing_stop_pct=5)
    assert only_trade(tie)["exit_reason"] == STOP_LOSS
    # After a high of 110, the trailing level 104.5 is above the fixed 95 and binds.
    rows = [FIRST, (100.0, 110.0, 99.0, 109.0), (109.0, 109.0, 104.0, 105.0)]
    trailing = run(rows, entries=[0], stop_loss_pct=5, trailing_stop_pct=5)
    trade = only_trade(trailing)
    assert trade["exit_reason"] == TRAILING_STOP
    assert trade["exit_price"] == pytest.approx(104.5)


def test_trailing_stop_with_fill_close_ignores_the_entry_bars_high():
    # Buy at close[0] = 100; bar 0's high 130 came before the entry. Bar 1 level =
    # max(100, open 100) * 0.9 = 90, so its low 95 does not stop (130 * 0.9 = 117 would).
    rows = [(100.0, 130.0, 99.0, 100.0), (100.0, 101.0, 95.0, 100.0), (100.0, 100.0, 100.0, 100.0)]
    result = run(rows, entries=[0], trailing_stop_pct=10, fill="close")
    assert only_trade(result)["exit_reason"] == END_OF_DATA


# ---------------------------------------------------------------------------------------------
# Shorts, both directions, conflicts
# ---------------------------------------------------------------------------------------------


def test_short_position_accounting():
    # Short 100 units at open[1] = 100: cash 20000, position -100.
    # Bar 1 close 101 -> equity 20000 - 10100 = 9900. Exit on bar 1 -> cover at open[2] = 97:
    # cash 20000 - 9700 = 10300.
    rows = [FIRST, HOLD, (97.0, 98.0, 96.0, 97.0)]
    result = run(rows, entries=[0], exits=[1], direction="short")
    np.testing.assert_allclose(result.position, [0, -100, 0])
    np.testing.assert_allclose(result.cash, [10_000, 20_000, 10_300])
    np.testing.assert_allclose(result.equity, [10_000, 9_900, 10_300])
    trade = only_trade(result)
    assert trade["side"] == -1 and trade["pnl"] == pytest.approx(300.0)
    assert trade["return"] == pytest.approx(0.03)


def test_short_stop_loss_fills_at_the_stop_price_above_entry():
    # Short at 100; 5 % stop = 105; bar 2's high 106 hits it: cover at 105, not the close 104.
    rows = [FIRST, HOLD, (101.0, 106.0, 100.0, 104.0)]
    trade = only_trade(run(rows, entries=[0], stop_loss_pct=5, direction="short"))
    assert (trade["exit_reason"], trade["exit_index"]) == (STOP_LOSS, 2)
    assert trade["exit_price"] == pytest.approx(105.0)
    assert trade["pnl"] == pytest.approx(-500.0)


def test_short_stop_gapped_through_fills_at_the_open():
    rows = [FIRST, HOLD, (108.0, 110.0, 107.0, 109.0)]
    trade = only_trade(run(rows, entries=[0], stop_loss_pct=5, direction="short"))
    assert (trade["exit_price"], trade["exit_reason"]) == (108.0, STOP_LOSS)


def test_short_take_profit_and_favourable_gap():
    # Target 10 % below 100 = 90: bar 2 low 89 -> cover at 90; a bar opening at 88 -> at 88.
    hit = run([FIRST, HOLD, (95.0, 96.0, 89.0, 92.0)], entries=[0], take_profit_pct=10,
              direction="short")
    assert only_trade(hit)["exit_price"] == pytest.approx(90.0)
    gap = run([FIRST, HOLD, (88.0, 89.0, 87.0, 88.0)], entries=[0], take_profit_pct=10,
              direction="short")
    assert (only_trade(gap)["exit_price"], only_trade(gap)["exit_reason"]) == (88.0, TAKE_PROFIT)


def test_short_stop_first_when_both_in_one_bar():
    rows = [FIRST, HOLD, (100.0, 106.0, 89.0, 95.0)]
    trade = only_trade(run(rows, entries=[0], stop_loss_pct=5, take_profit_pct=10,
                           direction="short"))
    assert trade["exit_reason"] == STOP_LOSS


def test_short_trailing_stop_follows_previous_bars_lows():
    # Short at 100, 10 % trail. bar 1: level = min(100, open 100) * 1.1 = 110; high 101 holds.
    # Low-water mark -> 95. bar 2: level = min(95, open 96) * 1.1 = 104.5; its own low 80 is
    # not used (80 * 1.1 = 88 would stop it); high 100 holds. Mark -> 80.
    # bar 3: level = min(80, open 85) * 1.1 = 88; high 90 hits: cover at 88.
    rows = [FIRST, (100.0, 101.0, 95.0, 96.0), (96.0, 100.0, 80.0, 85.0),
            (85.0, 90.0, 84.0, 89.0)]
    trade = only_trade(run(rows, entries=[0], trailing_stop_pct=10, direction="short"))
    assert (trade["exit_index"], trade["exit_reason"]) == (3, TRAILING_STOP)
    assert trade["exit_price"] == pytest.approx(88.0)


def test_direction_both_reverses_at_the_same_fill_price():
    # entry@0 -> long 100 units at open[1] = 100.
    # exit@2  -> at open[3] = 110: sell the long (cash 11000) and short 11000/110 = 100 units.
    # entry@4 -> at open[5] = 105: cover (cash 22000 - 10500 = 11500), buy 11500/105 units.
    rows = [FIRST, (100.0, 101.0, 99.0, 100.0), (100.0, 110.0, 100.0, 110.0),
            (110.0, 111.0, 109.0, 110.0), (110.0, 111.0, 104.0, 105.0),
            (105.0, 106.0, 104.0, 105.0)]
    result = run(rows, entries=[0, 4], exits=[2], direction="both")
    t = result.trades
    assert list(t["side"]) == [1, -1, 1]
    assert list(t["entry_index"]) == [1, 3, 5] and list(t["exit_index"]) == [3, 5, 5]
    assert list(t["exit_reason"]) == [SIGNAL, SIGNAL, END_OF_DATA]
    assert t["exit_price"][0] == t["entry_price"][1] == 110.0
    assert t["exit_price"][1] == t["entry_price"][2] == 105.0
    np.testing.assert_allclose(t["units"], [100, 100, 11_500 / 105])
    np.testing.assert_allclose(result.position, [0, 100, 100, -100, -100, 11_500 / 105])
    assert result.equity[-1] == pytest.approx(11_500.0)


def test_direction_both_signal_in_the_held_direction_does_nothing():
    result = run(RISING, entries=[0, 1, 2], direction="both")
    assert len(result.trades["side"]) == 1 and result.trades["entry_index"][0] == 1


def test_direction_both_reversal_on_the_last_bar_with_fill_close_only_closes():
    result = run(RISING, entries=[1], exits=[4], direction="both", fill="close")
    assert list(result.trades["exit_reason"]) == [SIGNAL]
    assert result.position[-1] == 0.0


def test_direction_short_ignores_long_entries_and_direction_long_never_shorts():
    result = run(RISING, exits=[0, 1], direction="long")
    assert len(result.trades["side"]) == 0
    result = run(RISING, exits=[0, 1], direction="short")
    assert len(result.trades["side"]) == 0


def test_conflicting_entry_and_exit_on_one_bar_are_ignored():
    # Bar 1 has both signals: no entry. Bar 2 enters alone; bar 3 has both: no exit.
    result = run(RISING, entries=[1, 2, 3], exits=[1, 3])
    trade = only_trade(result)
    assert trade["entry_index"] == 3 and trade["exit_reason"] == END_OF_DATA


@pytest.mark.parametrize(
    "sizing", [("percent_equity", 100), ("fixed_cash", 10_000), ("fixed_units", 100)]
)
def test_no_new_position_after_the_account_is_ruined(sizing):
    # Short 100 at 100 (cash 20000): the ruin price is 20000 / 100 = 200. Bar 2 opens at 250,
    # through it: covered at the open, cash 20000 - 25000 = -5000, so the account is ruined
    # with a deficit of 5000 and closed at 0. The entry on bar 3 must not open anything,
    # whatever the sizing method.
    rows = [FIRST, HOLD, (250.0, 250.0, 250.0, 250.0), (250.0, 250.0, 250.0, 250.0),
            (250.0, 250.0, 250.0, 250.0)]
    result = run(rows, entries=[0, 3], exits=[1], direction="short",
                 sizing_method=sizing[0], sizing_value=sizing[1])
    trade = only_trade(result)
    assert EXIT_REASONS[int(trade["exit_reason"])] == "ruin" and trade["exit_index"] == 2
    assert result.ruin_index == 2 and result.ruin_deficit == pytest.approx(5_000.0)
    np.testing.assert_array_equal(result.equity[2:], 0.0)
    np.testing.assert_array_equal(result.position[2:], 0.0)


# ---------------------------------------------------------------------------------------------
# Sweeps and validation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"fill": "close", "fees_bps": 10, "slippage_bps": 5},
        {"direction": "both", "stop_loss_pct": 3, "take_profit_pct": 6},
        {"direction": "short", "trailing_stop_pct": 4, "sizing_method": "fixed_units",
         "sizing_value": 20},
        {"fractional": False, "sizing_method": "fixed_cash", "sizing_value": 3000},
    ],
)
def test_final_equity_many_equals_simulate_column_by_column(settings):
    rng = np.random.default_rng(7)
    n, k = 300, 12
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    open_ = np.r_[100.0, close[:-1]] * np.exp(rng.normal(0, 0.005, n))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.02, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.02, n))
    entries = rng.random((n, k)) < 0.05
    exits = rng.random((n, k)) < 0.05
    config = SimConfig(**settings)
    many = simulate_final_equity_many(open_, high, low, close, entries, exits, config)
    one_by_one = [
        simulate(open_, high, low, close, entries[:, j], exits[:, j], config).equity[-1]
        for j in range(k)
    ]
    np.testing.assert_array_equal(many, one_by_one)


def random_bars(rng: np.random.Generator, n: int, k: int | None = None) -> tuple[np.ndarray, ...]:
    """Valid OHLC bars: shape (n,), or (n, k) with one independent column of bars per combo."""
    shape = (n,) if k is None else (n, k)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, shape), axis=0))
    first = np.full((1,) + shape[1:], 100.0)
    open_ = np.concatenate((first, close[:-1])) * np.exp(rng.normal(0, 0.005, shape))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.02, shape))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.02, shape))
    return open_, high, low, close


@pytest.mark.parametrize("per_column_bars", [False, True])
@pytest.mark.parametrize(
    "settings",
    [{}, {"direction": "both", "stop_loss_pct": 3, "fees_bps": 10, "slippage_bps": 5},
     {"fill": "close", "trailing_stop_pct": 4, "fractional": False}],
)
def test_simulate_many_records_what_simulate_gives_column_by_column(settings, per_column_bars):
    rng = np.random.default_rng(11)
    n, k = 250, 9
    bars = random_bars(rng, n, k if per_column_bars else None)
    entries = rng.random((n, k)) < 0.05
    exits = rng.random((n, k)) < 0.05
    config = SimConfig(**settings)
    many = simulate_many(*bars, entries, exits, config)
    assert many.equity.shape == many.position.shape == (n, k)
    assert many.num_trades.sum() > k  # the comparison means something only with trades
    for j in range(k):
        column = [b[:, j] for b in bars] if per_column_bars else bars
        one = simulate(*column, entries[:, j], exits[:, j], config)
        count = many.num_trades[j]
        np.testing.assert_array_equal(many.equity[:, j], one.equity)
        np.testing.assert_array_equal(many.position[:, j], one.position)
        np.testing.assert_array_equal(many.trade_pnl[:count, j], one.trades["pnl"])
        np.testing.assert_array_equal(many.trade_returns[:count, j], one.trades["return"])
        assert many.total_fees[j] == one.total_fees


def test_simulate_many_rejects_bars_with_other_columns_than_the_signals():
    rng = np.random.default_rng(2)
    bars = random_bars(rng, 20, 3)
    signals = np.zeros((20, 4), dtype=bool)
    with pytest.raises(ValueError, match="open: has 3 columns of bars but the signals have 4"):
        simulate_many(*bars, signals, signals, SimConfig())


def test_simulate_many_names_the_bar_and_column_of_a_bad_price():
    open_, high, low, close = random_bars(np.random.default_rng(4), 20, 3)
    low[7, 2] = -1.0
    signals = np.zeros((20, 3), dtype=bool)
    with pytest.raises(ValueError, match="low: every price must be finite and > 0; bar 7 of "
                                         "column 2"):
        simulate_many(open_, high, low, close, signals, signals, SimConfig())


def test_results_do_not_depend_on_input_array_layout():
    rows = np.asarray(RISING * 4)
    entries = flags(len(rows), 1, 9)
    exits = flags(len(rows), 5)
    strided = np.asfortranarray(rows)
    a = simulate(*rows.T.copy(), entries, exits, SimConfig(stop_loss_pct=2))
    b = simulate(strided[:, 0], strided[:, 1], strided[:, 2], strided[:, 3],
                 list(entries), list(exits), SimConfig(stop_loss_pct=2))
    np.testing.assert_array_equal(a.equity, b.equity)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b.__setitem__("close", b["close"][:-1]), "close: has 4 bars"),
        (lambda b: b["open"].__setitem__(2, np.nan), "open: every price must be finite"),
        (lambda b: b["low"].__setitem__(2, 0.0), "low: every price must be finite and > 0"),
        (lambda b: b["high"].__setitem__(2, 12.1), "bar 2: inconsistent OHLC"),
        (lambda b: b.__setitem__("entries", np.zeros(5)), "entries: must be booleans"),
        (lambda b: b.__setitem__("exits", np.zeros(4, dtype=bool)), "exits: must have shape"),
    ],
)
def test_invalid_inputs_raise_clear_value_errors(mutate, message):
    bars = np.asarray(RISING)
    inputs = {"open": bars[:, 0].copy(), "high": bars[:, 1].copy(), "low": bars[:, 2].copy(),
              "close": bars[:, 3].copy(), "entries": flags(5, 1), "exits": flags(5, 3)}
    mutate(inputs)
    with pytest.raises(ValueError, match=message):
        simulate(*inputs.values(), SimConfig())


def test_empty_bars_raise():
    empty = np.array([])
    with pytest.raises(ValueError, match="no bars"):
        simulate(empty, empty, empty, empty, empty.astype(bool), empty.astype(bool), SimConfig())


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"direction": "sideways"}, "direction: must be one of long, short, both"),
        ({"fill": "open"}, "fill: must be one of next_open, close"),
        ({"sizing_method": "kelly"}, "sizing_method: must be one of"),
        ({"sizing_value": 0}, "sizing_value: must be > 0"),
        ({"sizing_value": 150}, "sizing_value: must be at most 100 for percent_equity"),
        ({"initial_cash": -1}, "initial_cash: must be > 0"),
        ({"fees_bps": -1}, "fees_bps: must be >= 0"),
        ({"slippage_bps": float("nan")}, "slippage_bps: must be finite"),
        ({"slippage_bps": 10_000}, "slippage_bps: must be below 10000"),
        ({"stop_loss_pct": 0}, "stop_loss_pct: must be > 0"),
        ({"trailing_stop_pct": "5"}, "trailing_stop_pct: must be a number"),
        ({"fractional": "yes"}, "fractional: must be true or false"),
    ],
)
def test_invalid_config_raises_clear_value_errors(settings, message):
    with pytest.raises(ValueError, match=message):
        SimConfig(**settings)
