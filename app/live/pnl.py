"""Live PnL of a saved strategy, computed by the engine's own batch functions.

A :class:`LivePnL` holds the bars it has seen: the warm-up history (bars strictly before the
first live bar, so the indicators are valid on the first live bar) followed by every completed
live bar. On each new bar it runs the same pipeline as :func:`engine.backtest.run_backtest`
with the spec's ``start`` at the first live bar:

1. ``engine.signals.evaluate_rules`` on all held bars (entry and exit trees, one shared
   indicator cache), sliced to the live bars;
2. ``engine.simulate.simulate`` over the live bars with ``engine.backtest.sim_config(spec)``.

There is no second implementation of indicators, signals, fills or stops: the state after bar
``t`` is exactly that of a backtest whose data ends at ``t`` (``tests/live/test_pnl_exact.py``
proves equality with ``run_backtest``). Each bar costs one vectorised pass over the held bars
plus one compiled simulation of the live bars (about a millisecond for a few thousand bars).
The warm-up is bounded by ``LIVE_WARMUP_BARS`` (raised to 3 × the rules' longest look-back, so
recursive indicators such as EMA and Wilder's RSI have converged).

The reported values (docs/api.md#live-websocket ``pnl``), in the account currency unless stated:

- ``position``: signed units held after the bar's close (short < 0);
- ``entry_price``: fill price (after slippage) of the open position, else None;
- ``realized_pnl``: sum of the net PnL of closed trades (both fees deducted), added in the
  order they closed;
- ``unrealized_pnl = equity - initial_cash - realized_pnl``: the open position marked at the
  close, net of its entry fee (no exit fee yet), 0 when flat;
- ``equity = cash + position × close``;
- ``signal``: ``"entry"`` or ``"exit"`` when that rule tree fired on this bar (it fills at the
  next bar's open with ``fill = next_open``), ``None`` otherwise or when both fired (a
  conflict, ignored by the simulator).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine.backtest import SIDES, sim_config
from engine.prices import price_arrays
from engine.signals import IndicatorCache, evaluate_rules, max_warmup
from engine.simulate import EXIT_REASONS, SimResult, simulate
from engine.spec import parse_spec

END_OF_DATA = EXIT_REASONS.index("end_of_data")
WARMUP_FACTOR = 3


def warmup_bars(spec: dict[str, Any], minimum: int) -> int:
    """Bars of history to load before the first live bar: ``max(minimum, 3 × look-back)``."""
    lookback = max(max_warmup(spec["entry"]), max_warmup(spec["exit"]))
    return max(minimum, WARMUP_FACTOR * lookback)


@dataclass(frozen=True)
class PnLState:
    """The strategy's state after one bar (see the module docstring for each value)."""

    ts: str
    position: float
    entry_price: float | None
    unrealized_pnl: float
    realized_pnl: float
    equity: float
    signal: str | None
    trades: list[dict[str, Any]]

    def message(self, strategy_id: int) -> dict[str, Any]:
        """docs/api.md#live-websocket ``pnl`` message (plus ``side`` of the open position)."""
        side = None if self.position == 0 else SIDES[1 if self.position > 0 else -1]
        return {"type": "pnl", "strategy_id": strategy_id, "ts": self.ts,
                "position": self.position, "entry_price": self.entry_price,
                "unrealized_pnl": self.unrealized_pnl, "realized_pnl": self.realized_pnl,
                "equity": self.equity, "signal": self.signal, "side": side,
                "closed_trades": len(self.trades)}


class LivePnL:
    """One followed strategy: warm-up bars, then :meth:`on_bar` per completed live bar.

    Parameters
    ----------
    spec : the saved (normalised) spec; ``start``/``end`` are ignored (live starts now).
    history : docs/prices.md bars strictly before the first live bar (``adj_close`` is applied
        the way a backtest applies it).
    """

    def __init__(self, spec: dict[str, Any], history: pd.DataFrame) -> None:
        self.spec = parse_spec(spec).to_dict()
        self.config = sim_config(self.spec)
        arrays = price_arrays(history, adjust=True, what=f"warm-up of {self.spec['symbol']}")
        self._columns = {name: list(values) for name, values in arrays.columns().items()}
        self._dates = list(arrays.dates)
        self.first_live = len(self._dates)
        self.last_result: SimResult | None = None

    def accepts(self, date: str) -> bool:
        """True when a bar dated ``date`` (ISO) comes after every bar held."""
        return not self._dates or _day(date) > self._dates[-1]

    @property
    def live_bars(self) -> int:
        return len(self._dates) - self.first_live

    def on_bar(self, date: str, open_: float, high: float, low: float, close: float,
               volume: float) -> PnLState:
        """Add one completed bar (dated ``date``, ISO) and return the state after it.

        Raises ValueError for a bar not after the last one held (the caller restarts the
        session when a replay starts over).
        """
        day = _day(date)
        if not self.accepts(date):
            raise ValueError(f"bar {date} is not after the last bar held "
                             f"({np.datetime_as_string(self._dates[-1], unit='D')})")
        for name, value in (("open", open_), ("high", high), ("low", low), ("close", close),
                            ("volume", volume)):
            self._columns[name].append(float(value))
        self._dates.append(day)
        columns = {name: np.asarray(values, dtype="float64")
                   for name, values in self._columns.items()}
        cache = IndicatorCache()
        live = slice(self.first_live, None)
        entries = evaluate_rules(self.spec["entry"], columns, cache)[live]
        exits = evaluate_rules(self.spec["exit"], columns, cache)[live]
        result = simulate(columns["open"][live], columns["high"][live], columns["low"][live],
                          columns["close"][live], entries, exits, self.config)
        self.last_result = result
        return _state(date, result, bool(entries[-1]), bool(exits[-1]), self.config.initial_cash)


def _day(date: str) -> np.datetime64:
    return np.datetime64(pd.Timestamp(date).tz_localize(None), "ns")


def _state(date: str, result: SimResult, entry: bool, exit_: bool, initial_cash: float
           ) -> PnLState:
    trades = result.trades
    reasons = np.asarray(trades["exit_reason"])
    closed = reasons != END_OF_DATA
    realized = float(sum(np.asarray(trades["pnl"])[closed].tolist()))  # in closing order
    open_trades = np.flatnonzero(~closed)
    entry_price = float(trades["entry_price"][open_trades[-1]]) if open_trades.size else None
    equity = float(result.equity[-1])
    signal = "entry" if entry and not exit_ else "exit" if exit_ and not entry else None
    closed_list = [{name: trades[name][i].item() for name in trades}
                   for i in np.flatnonzero(closed)]
    return PnLState(ts=date, position=float(result.position[-1]), entry_price=entry_price,
                    unrealized_pnl=equity - initial_cash - realized, realized_pnl=realized,
                    equity=equity, signal=signal, trades=closed_list)
