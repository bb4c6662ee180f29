"""Live PnL over a replayed range equals a batch backtest of the same spec on the same bars.

The live session is warmed up on history, then fed one completed bar at a time exactly as the
feed delivers them (floats that went through JSON). After the last bar its state must equal,
bit for bit, ``run_backtest`` over warm-up + live bars with ``start`` = the first live bar:
positions, fill prices, realized PnL and final equity.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.live.pnl import LivePnL
from data.bundled import load_bundled
from engine.backtest import run_backtest
from engine.prices import price_arrays
from engine.spec import load_example

WARMUP = 400
LIVE = 500


def _bars(symbol: str):
    frame = price_arrays(load_bundled(symbol)).frame()  # adjusted, as the replay feed sends it
    return frame.iloc[-(WARMUP + LIVE):]


def _spec(example: str, **changes) -> dict:
    spec = load_example(example).to_dict()
    spec.update(changes)
    return spec


SPECS = {
    "rsi_with_stop": _spec(
        "rsi_mean_reversion", stop_loss_pct=2.0,
        entry={"all": [{"left": {"indicator": "rsi", "params": {"period": 14}}, "op": "<",
                        "right": 45}]},
        exit={"any": [{"left": {"indicator": "rsi", "params": {"period": 14}}, "op": ">",
                       "right": 60}]}),
    "sma_cross_with_trailing_stop": _spec("sma_crossover", trailing_stop_pct=4.0, fees_bps=5,
                                          slippage_bps=2),
    "bbands_both_directions_with_target": _spec("bollinger_breakout", direction="both",
                                                take_profit_pct=6.0, stop_loss_pct=5.0),
}


def _replay(spec: dict, bars) -> tuple[LivePnL, list]:
    session = LivePnL(spec, bars.iloc[:WARMUP])
    states = []
    for date, row in bars.iloc[WARMUP:].iterrows():
        event = json.loads(json.dumps({"ts": date.strftime("%Y-%m-%d"), **row.to_dict()}))
        states.append(session.on_bar(event["ts"], event["open"], event["high"], event["low"],
                                     event["close"], event["volume"]))
    return session, states


@pytest.mark.parametrize("name", list(SPECS))
def test_live_pnl_equals_batch_backtest_exactly(name: str) -> None:
    spec = SPECS[name]
    bars = _bars(spec["symbol"])
    session, states = _replay(spec, bars)
    first_live = bars.index[WARMUP].strftime("%Y-%m-%d")
    batch = run_backtest({**spec, "start": first_live, "end": None}, bars)

    live = session.last_result
    assert len(batch.trades) >= 4, "the range must exercise several trades"
    np.testing.assert_array_equal(live.position, batch.position)
    np.testing.assert_array_equal(live.equity, batch.equity_curve)
    batch_closed = [t for t in batch.trades if t["exit_reason"] != "end_of_data"]
    assert [(t["entry_price"], t["exit_price"], t["units"], t["pnl"], t["exit_reason"])
            for t in batch_closed] == [
        (t["entry_price"], t["exit_price"], t["units"], t["pnl"], _reason(t["exit_reason"]))
        for t in states[-1].trades]
    assert states[-1].realized_pnl == sum(t["pnl"] for t in batch_closed)
    assert states[-1].equity == batch.metrics["final_equity"] == batch.equity_curve[-1]


@pytest.mark.parametrize("name", list(SPECS))
def test_every_intermediate_state_is_a_backtest_ending_that_day(name: str) -> None:
    """Position and equity streamed after each bar are those of a backtest whose data ends on
    that bar (checked on a sample of days)."""
    spec = SPECS[name]
    bars = _bars(spec["symbol"])
    _, states = _replay(spec, bars)
    first_live = bars.index[WARMUP].strftime("%Y-%m-%d")
    for k in (0, 37, 150, LIVE - 1):
        batch = run_backtest({**spec, "start": first_live, "end": None},
                             bars.iloc[:WARMUP + k + 1])
        assert states[k].position == batch.position[-1]
        assert states[k].equity == batch.equity_curve[-1]
        open_trade = [t for t in batch.trades if t["exit_reason"] == "end_of_data"]
        expected_entry = open_trade[0]["entry_price"] if open_trade else None
        assert states[k].entry_price == expected_entry


def test_stops_and_trailing_stops_actually_fire_in_the_checked_ranges() -> None:
    reasons = {}
    for name, spec in SPECS.items():
        final = _replay(spec, _bars(spec["symbol"]))[1][-1]
        reasons[name] = {_reason(t["exit_reason"]) for t in final.trades}
    assert "stop_loss" in reasons["rsi_with_stop"]
    assert "trailing_stop" in reasons["sma_cross_with_trailing_stop"]


def test_a_bar_that_is_not_after_the_last_one_is_refused() -> None:
    bars = _bars("SPY")
    session = LivePnL(SPECS["rsi_with_stop"], bars.iloc[:WARMUP])
    last = bars.index[WARMUP - 1].strftime("%Y-%m-%d")
    with pytest.raises(ValueError, match="not after the last bar"):
        session.on_bar(last, 1.0, 1.0, 1.0, 1.0, 0.0)


def _reason(code) -> str:
    from engine.simulate import EXIT_REASONS

    return EXIT_REASONS[code] if isinstance(code, int) else code
