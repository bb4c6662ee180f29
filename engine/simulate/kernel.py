"""The compiled (numba) bar loop of the simulator: one strategy on one column of signals.

Everything here runs inside numba; the rules it implements are the execution model in the
docstring of :mod:`engine.simulate`. The Python entry points (validation, result arrays) are in
:mod:`engine.simulate.run`.
"""

from __future__ import annotations

import math

import numba
import numpy as np

# Codes shared by the Python wrapper and the compiled kernel (numba freezes module globals).
LONG, SHORT, BOTH = 0, 1, 2
PERCENT_EQUITY, FIXED_CASH, FIXED_UNITS = 0, 1, 2
SIGNAL, STOP_LOSS, TAKE_PROFIT, TRAILING_STOP, END_OF_DATA, RUIN = 0, 1, 2, 3, 4, 5
N_TRADE_COLUMNS = 10  # len(TRADE_COLUMNS): the columns of a trade log row
NOT_RUINED = -1  # the ruin bar the kernels return when the account survives
# Whole-unit rounding: a value this close below an integer is that integer (floating-point error).
_WHOLE_UNIT_TOLERANCE = 1e-9
_DOUBLE_EPSILON = float(np.finfo(np.float64).eps)


@numba.njit(cache=True)
def _purchase_cost(units, price, fee_rate):
    """Cash a buy of ``units`` at ``price`` consumes, computed exactly as the kernel books it."""
    notional = units * price
    return notional + notional * fee_rate


@numba.njit(cache=True)
def _units_to_open(side, price, cash, sizing, sizing_value, fractional, fee_rate):
    """Units (>= 0) for a new position of ``side`` at fill ``price``; the account is flat."""
    if cash <= 0.0:  # flat, so cash is the equity: nothing left to trade with
        return 0.0
    unit_cost = price * (1.0 + fee_rate)
    if sizing == PERCENT_EQUITY:
        units = cash * (sizing_value / 100.0) / unit_cost
    elif sizing == FIXED_CASH:
        units = sizing_value / unit_cost
    else:
        units = sizing_value
    if side > 0 and units > cash / unit_cost:  # a long never borrows
        units = cash / unit_cost
    if not fractional:
        whole = math.floor(units)
        if units - whole > 1.0 - _WHOLE_UNIT_TOLERANCE:
            whole += 1.0
        units = whole
    if side > 0:
        # units * price * (1 + f) can round a few ulps above the cash, and a long must never
        # borrow: step units down (one share, or ~one ulp) until the purchase fits. The step
        # doubles each time, so the loop ends quickly whatever the overshoot.
        step = 1.0 if not fractional else units * _DOUBLE_EPSILON
        while units > 0.0 and _purchase_cost(units, price, fee_rate) > cash:
            units = max(units - step, 0.0)
            step *= 2.0
    return units


@numba.njit(cache=True)
def _ruin_price(side, units, cash, fee_rate, slip):
    """Market price at which closing the position (slippage and exit fee included) leaves the
    account with exactly nothing: ``cash - units * p * (1 + s) * (1 + f) = 0`` for a short, so
    ``p* = cash / (units * (1 + s) * (1 + f))``. A long never borrows (cash >= 0), so its
    equity stays positive at every price > 0: +inf (never reached)."""
    if side > 0:
        return np.inf
    if cash <= 0.0:
        return 0.0  # already nothing left: any price ruins
    return cash / (units * (1.0 + slip) * (1.0 + fee_rate))


@numba.njit(cache=True)
def _protective_exit(side, entry_price, extreme, bar_open, bar_high, bar_low,
                     stop_frac, target_frac, trail_frac):
    """Stop/target check of one bar. Returns (hit, market price of the fill, exit reason code).

    ``extreme`` is the entry price combined with the highest high (long) / lowest low (short) of
    the bars since the entry, strictly before this one.
    """
    if side > 0:
        stop = -np.inf
        stop_reason = STOP_LOSS
        if stop_frac > 0.0:
            stop = entry_price * (1.0 - stop_frac)
        if trail_frac > 0.0:
            trail = max(extreme, bar_open) * (1.0 - trail_frac)
            if trail > stop:
                stop = trail
                stop_reason = TRAILING_STOP
        target = np.inf
        if target_frac > 0.0:
            target = entry_price * (1.0 + target_frac)
        if bar_open <= stop:
            return True, bar_open, stop_reason
        if bar_open >= target:
            return True, bar_open, TAKE_PROFIT
        if bar_low <= stop:
            return True, stop, stop_reason
        if bar_high >= target:
            return True, target, TAKE_PROFIT
        return False, 0.0, SIGNAL
    stop = np.inf
    stop_reason = STOP_LOSS
    if stop_frac > 0.0:
        stop = entry_price * (1.0 + stop_frac)
    if trail_frac > 0.0:
        trail = min(extreme, bar_open) * (1.0 + trail_frac)
        if trail < stop:
            stop = trail
            stop_reason = TRAILING_STOP
    target = -np.inf
    if target_frac > 0.0:
        target = entry_price * (1.0 - target_frac)
    if bar_open >= stop:
        return True, bar_open, stop_reason
    if bar_open <= target:
        return True, bar_open, TAKE_PROFIT
    if bar_high >= stop:
        return True, stop, stop_reason
    if bar_low <= target:
        return True, target, TAKE_PROFIT
    return False, 0.0, SIGNAL


@numba.njit(cache=True)
def _orders_for_signal(direction, side, entry, exit_):
    """What a non-conflicting signal does given the current side: (close it?, side to open)."""
    if direction == LONG:
        if entry and side == 0:
            return False, 1
        if exit_ and side > 0:
            return True, 0
        return False, 0
    if direction == SHORT:
        if entry and side == 0:
            return False, -1
        if exit_ and side < 0:
            return True, 0
        return False, 0
    if entry and side <= 0:
        return side < 0, 1
    if exit_ and side >= 0:
        return side > 0, -1
    return False, 0


@numba.njit(cache=True)
def _exit_fill(side, units, market_price, slip, fee_rate):
    """Closing ``units`` of ``side`` at ``market_price``: the fill price (slippage against the
    trader: selling a long lower, buying a short back higher), the notional, the exit fee and
    the change in cash (proceeds of a long, minus the cost of covering a short)."""
    price = market_price * (1.0 - side * slip)
    notional = units * price
    exit_fee = notional * fee_rate
    proceeds = notional - exit_fee if side > 0 else -(notional + exit_fee)
    return price, notional, exit_fee, proceeds


@numba.njit(cache=True)
def simulate_kernel(open_, high, low, close, entries, exits, column,
                     direction, fill_at_close, sizing, sizing_value, fractional,
                     fee_rate, slip, stop_frac, target_frac, trail_frac, initial_cash,
                     record, equity_out, position_out, cash_out, exposed_out, trade_log):
    """Run the bars. ``entries``/``exits`` are (n_columns, n_bars); ``column`` selects one.

    With ``record`` the per-bar arrays and ``trade_log`` (n_bars, 10) are filled; without it
    they are ignored (parameter sweeps). Returns (final equity, number of trades, total fees,
    total slippage, turnover, ruin bar (``NOT_RUINED`` if the account survives), ruin deficit).
    """
    n = close.shape[0]
    cash = initial_cash
    side = 0  # +1 long, -1 short, 0 flat
    units = 0.0  # absolute size of the open position
    entry_price = 0.0
    entry_index = -1
    entry_fee = 0.0
    extreme = 0.0  # entry price, then highest high (long) / lowest low (short) of finished bars
    has_protection = stop_frac > 0.0 or target_frac > 0.0 or trail_frac > 0.0
    pending_entry = False
    pending_exit = False
    n_trades = 0
    total_fees = 0.0
    total_slippage = 0.0
    turnover = 0.0
    equity = initial_cash
    ruin_bar = NOT_RUINED
    deficit = 0.0  # what a gap through the ruin price lost beyond the account

    for t in range(n):
        if ruin_bar != NOT_RUINED:  # a ruined account is closed: no more trades, equity 0
            if record:
                equity_out[t] = 0.0
                position_out[t] = 0.0
                cash_out[t] = 0.0
                exposed_out[t] = False
            continue
        exposed = False
        for phase in range(4):
            # phase 0: pending order at the open; 1: stops/targets and ruin inside the bar;
            # 2: signals at the close; 3: ruin at the close (a position opened at the close).
            close_position = False
            open_side = 0
            market_price = 0.0
            reason = SIGNAL
            ruin = np.inf
            if side != 0:
                ruin = _ruin_price(side, units, cash, fee_rate, slip)
            if phase == 0:
                if side != 0 and open_[t] >= ruin:  # gapped through the ruin price
                    close_position = True
                    market_price = open_[t]
                    reason = RUIN
                elif pending_entry or pending_exit:
                    close_position, open_side = _orders_for_signal(
                        direction, side, pending_entry, pending_exit
                    )
                    market_price = open_[t]
                pending_entry = False
                pending_exit = False
            elif phase == 1:
                if side != 0:
                    hit = False
                    if has_protection:
                        hit, market_price, reason = _protective_exit(
                            side, entry_price, extreme, open_[t], high[t], low[t],
                            stop_frac, target_frac, trail_frac,
                        )
                    at_open = hit and market_price == open_[t]
                    # Reaching the ruin price is adverse, like a stop: it comes first unless
                    # the bar's exit filled at the open or at a stop short of the ruin price.
                    stopped_first = hit and (at_open or (reason != TAKE_PROFIT
                                                          and market_price < ruin))
                    if high[t] >= ruin and not stopped_first:
                        hit = True
                        at_open = False
                        market_price = ruin
                        reason = RUIN
                    exposed = not at_open  # held after the open, for part of the bar
                    if hit:
                        close_position = True
                    elif side > 0:
                        extreme = max(extreme, high[t])
                    else:
                        extreme = min(extreme, low[t])
            elif phase == 2:
                entry = entries[column, t]
                exit_ = exits[column, t]
                if entry != exit_:  # neither, or a conflict: nothing to do
                    if fill_at_close:
                        close_position, open_side = _orders_for_signal(
                            direction, side, entry, exit_
                        )
                        market_price = close[t]
                        if t == n - 1:
                            open_side = 0  # nothing is opened on the last bar
                    elif t < n - 1:
                        pending_entry = entry
                        pending_exit = exit_
            elif side != 0 and close[t] >= ruin:
                close_position = True
                market_price = close[t]
                reason = RUIN

            if close_position:
                price, notional, exit_fee, proceeds = _exit_fill(side, units, market_price,
                                                                 slip, fee_rate)
                cash += proceeds
                total_fees += exit_fee
                total_slippage += units * abs(price - market_price)
                turnover += notional
                if record:
                    _write_trade(trade_log, n_trades, side, entry_index, entry_price, t, price,
                                 units, entry_fee, exit_fee, reason)
                n_trades += 1
                side = 0
                units = 0.0
                if reason == RUIN:
                    # At the ruin price itself what is left is rounding noise; beyond it (a gap)
                    # the loss exceeded the account by -cash.
                    if cash < 0.0 and market_price > ruin:
                        deficit = -cash
                    cash = 0.0
                    ruin_bar = t
                    pending_entry = False
                    pending_exit = False
                    break

            if open_side != 0:
                price = market_price * (1.0 + open_side * slip)
                new_units = _units_to_open(open_side, price, cash, sizing, sizing_value,
                                           fractional, fee_rate)
                if new_units > 0.0:
                    notional = new_units * price
                    fee = notional * fee_rate
                    if open_side > 0:
                        cash -= notional + fee
                    else:
                        cash += notional - fee
                    total_fees += fee
                    total_slippage += new_units * abs(price - market_price)
                    turnover += notional
                    side = open_side
                    units = new_units
                    entry_price = price
                    entry_index = t
                    entry_fee = fee
                    extreme = price

        equity = cash + side * units * close[t]
        if equity < 0.0 and ruin_bar == NOT_RUINED:
            # Borrowed money (fixed_units / fixed_cash sizing beyond the equity) or a round
            # trip's costs took the account below zero where no ruin price was watched (a
            # levered long): liquidate at this close and close the account, as a ruin.
            if side != 0:
                price, notional, exit_fee, proceeds = _exit_fill(side, units, close[t], slip,
                                                                 fee_rate)
                cash += proceeds
                total_fees += exit_fee
                total_slippage += units * abs(price - close[t])
                turnover += notional
                if record:
                    _write_trade(trade_log, n_trades, side, entry_index, entry_price, t, price,
                                 units, entry_fee, exit_fee, RUIN)
                n_trades += 1
                side = 0
                units = 0.0
            elif record and n_trades > 0 and trade_log[n_trades - 1, 3] == t:
                trade_log[n_trades - 1, 9] = RUIN  # the exit that emptied the account
            deficit = -cash if cash < 0.0 else 0.0
            cash = 0.0
            equity = 0.0
            ruin_bar = t
            pending_entry = False
            pending_exit = False
        if record:
            equity_out[t] = equity
            position_out[t] = side * units
            cash_out[t] = cash
            exposed_out[t] = exposed or side != 0

    if side != 0 and record:
        _write_trade(trade_log, n_trades, side, entry_index, entry_price, n - 1, close[n - 1],
                     units, entry_fee, 0.0, END_OF_DATA)
    if side != 0:
        n_trades += 1
    return equity, n_trades, total_fees, total_slippage, turnover, ruin_bar, deficit


@numba.njit(cache=True)
def _write_trade(trade_log, row, side, entry_index, entry_price, exit_index, exit_price,
                 units, entry_fee, exit_fee, reason):
    fees = entry_fee + exit_fee
    pnl = units * (exit_price - entry_price) * side - fees
    trade_log[row, 0] = side
    trade_log[row, 1] = entry_index
    trade_log[row, 2] = entry_price
    trade_log[row, 3] = exit_index
    trade_log[row, 4] = exit_price
    trade_log[row, 5] = units
    trade_log[row, 6] = pnl
    trade_log[row, 7] = pnl / (units * entry_price)
    trade_log[row, 8] = fees
    trade_log[row, 9] = reason


@numba.njit(cache=True, parallel=True)
def final_equity_many_kernel(open_, high, low, close, entries, exits,
                              direction, fill_at_close, sizing, sizing_value, fractional,
                              fee_rate, slip, stop_frac, target_frac, trail_frac, initial_cash):
    n_columns = entries.shape[0]
    out = np.empty(n_columns)
    no_bars = np.empty(0)
    no_flags = np.empty(0, dtype=np.bool_)
    no_trades = np.empty((0, N_TRADE_COLUMNS))
    for j in numba.prange(n_columns):
        out[j] = simulate_kernel(
            open_, high, low, close, entries, exits, j,
            direction, fill_at_close, sizing, sizing_value, fractional,
            fee_rate, slip, stop_frac, target_frac, trail_frac, initial_cash,
            False, no_bars, no_bars, no_bars, no_flags, no_trades,
        )[0]
    return out


@numba.njit(cache=True, parallel=True)
def record_many_kernel(open_, high, low, close, entries, exits,
                       direction, fill_at_close, sizing, sizing_value, fractional,
                       fee_rate, slip, stop_frac, target_frac, trail_frac, initial_cash,
                       equity, position, exposed, pnl, returns, counts, fees, ruin_bars,
                       deficits):
    """Every column recorded, in parallel threads (numba ``prange``).

    Prices are (1, n_bars) rows shared by every column or (n_columns, n_bars), one row per
    column; ``entries``/``exits`` and the outputs ``equity``, ``position``, ``exposed`` (bool),
    ``pnl``, ``returns`` are (n_columns, n_bars) rows; ``counts``, ``fees``, ``ruin_bars`` and
    ``deficits`` (n_columns,). Row ``j`` of ``pnl`` and ``returns`` holds column ``j``'s trades
    in its first ``counts[j]`` values.
    """
    n = close.shape[1]
    price_rows = close.shape[0]  # 1 (shared) or one per column
    pnl_column = 6  # TRADE_COLUMNS.index("pnl")
    return_column = 7  # TRADE_COLUMNS.index("return")
    for j in numba.prange(entries.shape[0]):
        row = j % price_rows  # (a conditional would not type-unify with the prange index)
        cash = np.empty(n)
        trade_log = np.empty((n, N_TRADE_COLUMNS))
        _, count, total_fees, _, _, ruin_bar, deficit = simulate_kernel(
            open_[row], high[row], low[row], close[row], entries, exits, j,
            direction, fill_at_close, sizing, sizing_value, fractional,
            fee_rate, slip, stop_frac, target_frac, trail_frac, initial_cash,
            True, equity[j], position[j], cash, exposed[j], trade_log,
        )
        counts[j] = count
        fees[j] = total_fees
        ruin_bars[j] = ruin_bar
        deficits[j] = deficit
        pnl[j, :count] = trade_log[:count, pnl_column]
        returns[j, :count] = trade_log[:count, return_column]
