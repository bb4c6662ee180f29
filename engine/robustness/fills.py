"""Fill sensitivity: the same spec under other fill assumptions (docs/results.md#robustness-result
``fills``).

Assumptions (each keeps every other setting of the spec, costs included):

``next_open``
    a signal on bar t's close fills at bar t+1's open (the product's default).
``close``
    a signal fills at bar t's own close (optimistic: the close is known only once it prints).
``next_open_delay1``
    one bar late: a signal on bar t fills at bar t+2's open (the signals moved one bar later,
    then ``next_open``), for an order that misses the next open.
``target_first``
    the spec's fill, but when one bar's range holds both the protective stop (fixed or
    trailing) and the take-profit target, the target is assumed to fill first instead of the
    stop (the engine's conservative default, docs/spec.md#execution-model). Without both a stop and
    a target
    it equals the spec's own row.

``target_first`` is built from the engine's simulator without changing it: simulate; find the
first trade stopped out on a bar whose range also reached the target (a stop that gapped
through the open stays a stop); replace that exit by the target fill (the target price with
slippage and the exit fee, the exact arithmetic of the simulator); restart the simulator flat
on that same bar with the cash the target exit leaves (the bar's own signals still act, as
they would after a stop); repeat until no such trade is left. A restart on the exit bar is
exact because the account is flat after the exit and the simulator's state is then only its
cash.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from engine.robustness.prepared import Prepared
from engine.simulate import EXIT_REASONS, SimConfig, SimResult, simulate

FILL_ASSUMPTIONS = ("next_open", "close", "next_open_delay1", "target_first")
FILL_LABELS = {
    "next_open": "next open",
    "close": "same-bar close",
    "next_open_delay1": "one bar late (open of t+2)",
    "target_first": "target before stop",
}
#: Metrics whose best-to-worst spread across assumptions is reported.
SPREAD_METRICS = ("total_return", "cagr", "sharpe", "max_drawdown")

_STOPS = (EXIT_REASONS.index("stop_loss"), EXIT_REASONS.index("trailing_stop"))
_TAKE_PROFIT = EXIT_REASONS.index("take_profit")


def fill_rows(prepared: Prepared) -> list[dict[str, Any]]:
    """One row per assumption of :data:`FILL_ASSUMPTIONS`: ``{"assumption", "label",
    "is_spec", "metrics"}``; ``is_spec`` marks the row that is the spec's own backtest."""
    base = prepared.config
    rows = []
    for assumption in FILL_ASSUMPTIONS:
        if assumption == "target_first":
            config = base
            result = target_first_result(prepared, config)
        elif assumption == "next_open_delay1":
            config = replace(base, fill="next_open")
            result = prepared.simulate(config, late=True)
        else:
            config = replace(base, fill=assumption)
            result = prepared.simulate(config)
        rows.append({"assumption": assumption, "label": FILL_LABELS[assumption],
                     "is_spec": assumption == base.fill,
                     "metrics": prepared.metrics(result, config)})
    return rows


def fill_spread(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """For each of :data:`SPREAD_METRICS`: the best and worst assumption and ``spread = best -
    worst`` (a larger number is better for all four; None when a value is undefined)."""
    spread = {}
    for key in SPREAD_METRICS:
        values = [(row["metrics"][key], row["assumption"]) for row in rows]
        if any(value is None for value, _ in values):
            spread[key] = {"best": None, "worst": None, "spread": None}
            continue
        best, worst = max(values), min(values)
        spread[key] = {"best": best[1], "worst": worst[1], "spread": best[0] - worst[0]}
    return spread


def target_first_result(prepared: Prepared, config: SimConfig) -> SimResult:
    """The simulation with the target assumed before the stop when one bar holds both (see
    the module docstring); equal to the plain simulation when no such bar occurs."""
    if config.stop_loss_pct is None and config.trailing_stop_pct is None:
        return prepared.simulate(config)
    if config.take_profit_pct is None:
        return prepared.simulate(config)
    bars = (prepared.open, prepared.high, prepared.low, prepared.close)
    signals = (prepared.entries, prepared.exits)
    start, cash = 0, config.initial_cash
    pieces: list[tuple[int, SimResult, int]] = []  # (first bar, result, trades kept)
    replaced: list[dict[str, float]] = []
    while True:
        part = simulate(*(b[start:] for b in bars), *(s[start:] for s in signals),
                        replace(config, initial_cash=cash))
        row = _first_conflict(part, start, bars, config)
        if row is None:
            pieces.append((start, part, len(part.trades["pnl"])))
            break
        trades = part.trades
        exit_bar = start + int(trades["exit_index"][row])
        target_trade = _target_exit(trades, row, config, exit_bar)
        pieces.append((start, part, row))
        replaced.append(target_trade)
        cash = (cash + float(np.sum(trades["pnl"][:row]))) + target_trade["pnl"]
        start = exit_bar
    return _stitched(pieces, replaced, len(prepared.close))


def _first_conflict(part: SimResult, offset: int, bars: tuple[np.ndarray, ...],
                    config: SimConfig) -> int | None:
    """The first trade of ``part`` stopped out on a bar whose range also reached the target
    and whose open did not gap through the stop; None if there is none."""
    open_, high, low, _ = bars
    trades = part.trades
    slip = config.slippage_bps / 1e4
    target_frac = float(config.take_profit_pct) / 100.0
    for row in np.flatnonzero(np.isin(trades["exit_reason"], _STOPS)):
        side = int(trades["side"][row])
        bar = offset + int(trades["exit_index"][row])
        gapped = trades["exit_price"][row] == open_[bar] * (1.0 - side * slip)
        if gapped:
            continue
        entry = trades["entry_price"][row]
        if side > 0 and high[bar] >= entry * (1.0 + target_frac):
            return int(row)
        if side < 0 and low[bar] <= entry * (1.0 - target_frac):
            return int(row)
    return None


def _target_exit(trades: dict[str, np.ndarray], row: int, config: SimConfig,
                 exit_bar: int) -> dict[str, float]:
    """Trade ``row`` closed at its target instead (the simulator's arithmetic)."""
    side = int(trades["side"][row])
    entry, units = float(trades["entry_price"][row]), float(trades["units"][row])
    fee_rate, slip = config.fees_bps / 1e4, config.slippage_bps / 1e4
    target = entry * (1.0 + side * float(config.take_profit_pct) / 100.0)
    price = target * (1.0 - side * slip)
    fees = units * entry * fee_rate + units * price * fee_rate
    pnl = units * (price - entry) * side - fees
    return {"side": side, "exit_price": price, "fees": fees, "pnl": pnl,
            "return": pnl / (units * entry), "exit_index": exit_bar}


def _stitched(pieces: list[tuple[int, SimResult, int]], replaced: list[dict[str, float]],
              n: int) -> SimResult:
    """One :class:`SimResult` from the restarted pieces: each piece's bars up to the next
    piece's first bar, its trades before the replaced one, then the target-exit trade.

    ``total_fees`` is the sum of the trades' fees (which include the entry fee of a position
    open at the end, as the simulator counts them); slippage and turnover are not tracked
    across restarts and are reported as 0 (no metric uses them).
    """
    equity, position, cash = np.empty(n), np.empty(n), np.empty(n)
    columns: dict[str, list[np.ndarray]] = {name: [] for name in pieces[0][1].trades}
    for number, (start, part, kept) in enumerate(pieces):
        stop = pieces[number + 1][0] if number + 1 < len(pieces) else n
        equity[start:stop] = part.equity[:stop - start]
        position[start:stop] = part.position[:stop - start]
        cash[start:stop] = part.cash[:stop - start]
        for name, values in part.trades.items():
            kept_values = values[:kept].copy()
            if name in ("entry_index", "exit_index"):
                kept_values = kept_values + start
            columns[name].append(kept_values)
        if number < len(replaced):
            swap = replaced[number]
            row = {name: values[kept] for name, values in part.trades.items()}
            row["entry_index"] = row["entry_index"] + start
            row.update(exit_index=swap["exit_index"], exit_price=swap["exit_price"],
                       pnl=swap["pnl"], fees=swap["fees"], exit_reason=_TAKE_PROFIT)
            row["return"] = swap["return"]
            for name, value in row.items():
                columns[name].append(np.array([value], dtype=part.trades[name].dtype))
    trades = {name: np.concatenate(values) for name, values in columns.items()}
    return SimResult(equity, position, cash, trades, float(np.sum(trades["fees"])))
