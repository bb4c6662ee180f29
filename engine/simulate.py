"""Execution simulator: turns entry/exit signals and OHLC bars into fills, positions, cash,
equity and trades.

One compiled (numba) loop walks the bars in time order. It is path-dependent (a stop depends on
the entry price, sizing depends on the equity left by earlier trades), so it cannot be vectorised;
it is compiled instead. The rules below are the product's execution model (contract §8); every
number a user sees comes from them.

Inputs
------
``open_``, ``high``, ``low``, ``close``: float arrays of one length ``n >= 1``, finite, ``> 0``,
with ``low <= min(open, close)`` and ``high >= max(open, close)`` on every bar. ``entries``,
``exits``: boolean arrays of length ``n``. Anything else raises ``ValueError`` naming the array
and the first offending bar. Bars are assumed to be consecutive trading periods.

Timing: what happens inside bar ``t``, in this order
----------------------------------------------------
1. **Pending order** (``fill="next_open"`` only). A signal on bar ``t-1`` fills at ``open[t]``.
2. **Stops and targets** of the position held during bar ``t`` (see below). They are active from
   the bar on which the entry filled, after that bar's open: with ``next_open`` an entry filled
   at ``open[t]`` can be stopped out during bar ``t``; with ``fill="close"`` an entry filled at
   ``close[t]`` is protected from bar ``t+1`` on.
3. **Signals of bar t** (``entries[t]``, ``exits[t]``), known at bar ``t``'s close, create an order
   that fills at ``open[t+1]`` (``next_open``) or right away at ``close[t]`` (``close``).
4. **Mark to market**: ``equity[t] = cash[t] + position[t] * close[t]``.

No look-ahead: every fill uses a price that exists at the moment of the decision (an open after
the signal's close, the signal's own close, or a stop/target price reached inside a later bar),
and nothing at bar ``t`` depends on bars after ``t``.

Signals
-------
- ``direction="long"``: an entry opens a long when flat; an exit closes it.
- ``direction="short"``: an entry opens a short when flat; an exit closes it.
- ``direction="both"``: an entry opens a long (covering a short first) and an exit opens a short
  (selling a long first); both legs fill at the same price. A signal in the direction already
  held does nothing (no pyramiding).
- Entry and exit true on the same bar: a conflict, the bar's signals are ignored.
- Last bar: with ``next_open`` there is no next open, so its signals are ignored. With ``close``
  an order that closes a position still fills at the last close, but no position is opened on
  the last bar (with ``both`` a reversal on the last bar only closes).
- A position closed by a stop during bar ``t`` can be re-opened by bar ``t``'s signal.

Prices, slippage and fees
-------------------------
- Slippage ``s = slippage_bps / 1e4`` moves every fill against the trader: a buy fills at
  ``price * (1 + s)``, a sell at ``price * (1 - s)``. That includes stop and target fills; the
  end-of-data valuation is not a fill and has no slippage.
- Fee rate ``f = fees_bps / 1e4`` per side on traded notional: ``fee = units * fill_price * f``,
  paid from cash on every fill (entry and exit). ``total_fees`` adds them all up, including the
  entry fee of a position still open at the end.

Sizing (at the fill price ``p`` after slippage; positions are only opened when flat, so the
equity ``E`` at that moment is the cash)
-------------------------------------------------------------------------------------------------
- ``percent_equity`` ``v`` (0 < v <= 100): ``units = E * v/100 / (p * (1 + f))``. With
  ``v = 100`` the units and the fee together use all the cash and never make it negative
  (contract §8). Leverage (v > 100) is not modelled (no financing cost, no margin call) and is
  rejected.
- ``fixed_cash`` ``v``: ``units = v / (p * (1 + f))``.
- ``fixed_units`` ``v``: ``units = v``.
- A long never borrows: units are capped at ``cash / (p * (1 + f))`` and, when floating-point
  rounding would still overshoot, reduced by a few ulps (or one whole unit), so cash after the
  purchase is ``>= 0`` exactly.
- ``fractional=False`` rounds units down to whole units (a value within 1e-9 below an integer
  counts as that integer, to absorb floating-point error); zero units means no trade.
- Shorts use the same unit formula on ``E``; opening adds ``units * p - fee`` to cash, covering
  subtracts ``units * p + fee``. Short size is not capped. No position is opened when ``E <= 0``.

Stops, targets and trailing stops (percentages of the ENTRY FILL PRICE, i.e. after slippage)
--------------------------------------------------------------------------------------------
- Long: ``stop = entry * (1 - stop_loss_pct/100)``, ``target = entry * (1 + take_profit_pct/100)``.
  Trailing level on bar ``t``: ``max(entry, highest high of the bars since the entry strictly
  before t, open[t]) * (1 - trailing_stop_pct/100)``. The bar's own high is not used for its own
  level (we cannot know whether the high came before the low); it raises the level from the next
  bar on. For a ``close`` fill the entry bar's high is not "since the entry" and is not used.
- Short mirrors it: stop above, target below, trailing from the lowest low.
- The protective stop is the tighter of the fixed stop and the trailing level; the exit reason
  is ``trailing_stop`` when the trailing level is strictly tighter, else ``stop_loss``.
- Fill rule for a long (short mirrored): if ``open <= stop`` the stop fills at the open (gap
  through); else if ``open >= target`` the target fills at the open (favourable gap); else if
  ``low <= stop`` the stop fills at the stop price; else if ``high >= target`` the target fills at
  the target price. So when one bar's range holds both, the stop fills first, unless the bar
  opened beyond the target. A stop never fills at the close, and a long's stop never fills
  above its level. Slippage is applied to that price.
- The open rule also applies on the entry bar of a ``next_open`` entry: when slippage is larger
  than the stop distance, the stop lies beyond the entry bar's open and fills at that open (a
  price that traded), never at a stop level the bar may not have reached.

End of data
-----------
A position still open after the last bar is valued at the last close, with no exit fee and no
slippage, and reported as a trade with ``exit_reason = "end_of_data"``, ``exit_index = n-1`` and
``exit_price = close[n-1]``. Hence ``equity[-1] = initial_cash + sum(trades["pnl"])``.

Trades
------
``trades`` is a dict of equal-length arrays, one row per round trip, in the order they closed:
``side`` (+1 long, -1 short), ``entry_index``, ``entry_price`` (fill after slippage),
``exit_index``, ``exit_price`` (fill after slippage), ``units`` (> 0),
``pnl = units * (exit_price - entry_price) * side - fees`` (net of both fees),
``return = pnl / (units * entry_price)``, ``fees`` (entry + exit) and ``exit_reason`` (an index
into :data:`EXIT_REASONS`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numba
import numpy as np

__all__ = [
    "DIRECTIONS",
    "EXIT_REASONS",
    "FILLS",
    "SIZING_METHODS",
    "TRADE_COLUMNS",
    "SimConfig",
    "SimResult",
    "simulate",
    "simulate_final_equity_many",
    "warmup",
]

DIRECTIONS = ("long", "short", "both")
FILLS = ("next_open", "close")
SIZING_METHODS = ("percent_equity", "fixed_cash", "fixed_units")
EXIT_REASONS = ("signal", "stop_loss", "take_profit", "trailing_stop", "end_of_data")
TRADE_COLUMNS = (
    "side",
    "entry_index",
    "entry_price",
    "exit_index",
    "exit_price",
    "units",
    "pnl",
    "return",
    "fees",
    "exit_reason",
)
_INT_TRADE_COLUMNS = frozenset({"side", "entry_index", "exit_index", "exit_reason"})

# Codes shared by the Python wrapper and the compiled kernel (numba freezes module globals).
_LONG, _SHORT, _BOTH = 0, 1, 2
_PERCENT_EQUITY, _FIXED_CASH, _FIXED_UNITS = 0, 1, 2
_SIGNAL, _STOP_LOSS, _TAKE_PROFIT, _TRAILING_STOP, _END_OF_DATA = 0, 1, 2, 3, 4
_N_TRADE_COLUMNS = 10
# Whole-unit rounding: a value this close below an integer is that integer (floating-point error).
_WHOLE_UNIT_TOLERANCE = 1e-9
_DOUBLE_EPSILON = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class SimConfig:
    """Execution settings of one simulation (see the module docstring for their exact meaning).

    ``sizing_value`` is a percent of equity for ``percent_equity``, an amount of account currency
    for ``fixed_cash`` and a number of units for ``fixed_units``. ``fees_bps`` and
    ``slippage_bps`` are per side, in basis points. ``stop_loss_pct``, ``take_profit_pct`` and
    ``trailing_stop_pct`` are percentages of the entry fill price (5.0 = 5 %); ``None`` = off.
    Invalid values raise ``ValueError`` on construction.
    """

    initial_cash: float = 10_000.0
    direction: str = "long"
    fill: str = "next_open"
    sizing_method: str = "percent_equity"
    sizing_value: float = 100.0
    fractional: bool = True
    fees_bps: float = 0.0
    slippage_bps: float = 0.0
    stop_loss_pct: float | None = None
    take_profit_pct: float | None = None
    trailing_stop_pct: float | None = None

    def __post_init__(self) -> None:
        _require_choice("direction", self.direction, DIRECTIONS)
        _require_choice("fill", self.fill, FILLS)
        _require_choice("sizing_method", self.sizing_method, SIZING_METHODS)
        if not isinstance(self.fractional, bool | np.bool_):
            raise ValueError(f"fractional: must be true or false, got {self.fractional!r}")
        _require_number("initial_cash", self.initial_cash, minimum=0.0, inclusive=False)
        _require_number("sizing_value", self.sizing_value, minimum=0.0, inclusive=False)
        if self.sizing_method == "percent_equity" and self.sizing_value > 100.0:
            raise ValueError(
                f"sizing_value: must be at most 100 for percent_equity (100 = all of the equity; "
                f"leverage is not modelled), got {self.sizing_value!r}"
            )
        _require_number("fees_bps", self.fees_bps, minimum=0.0, inclusive=True)
        _require_number("slippage_bps", self.slippage_bps, minimum=0.0, inclusive=True)
        if self.slippage_bps >= 10_000.0:
            raise ValueError(
                f"slippage_bps: must be below 10000 (100 %), got {self.slippage_bps!r}; "
                "a sell would fill at a price <= 0"
            )
        for name in ("stop_loss_pct", "take_profit_pct", "trailing_stop_pct"):
            value = getattr(self, name)
            if value is not None:
                _require_number(name, value, minimum=0.0, inclusive=False)


@dataclass(frozen=True)
class SimResult:
    """Output of :func:`simulate`.

    ``equity``, ``position`` (signed units, short < 0) and ``cash`` are sampled at every close;
    ``equity = cash + position * close``. ``trades`` holds the columns of :data:`TRADE_COLUMNS`.
    ``total_fees`` is the sum of every fee paid (currency). ``total_slippage`` is what slippage
    cost in currency (sum over fills of ``units * |fill_price - market_price|``) and
    ``turnover`` the traded notional (sum over fills of ``units * fill_price``); both let users
    reconcile results across cost settings. Neither counts the end-of-data valuation.
    """

    equity: np.ndarray
    position: np.ndarray
    cash: np.ndarray
    trades: dict[str, np.ndarray]
    total_fees: float
    total_slippage: float = 0.0
    turnover: float = 0.0


# --------------------------------------------------------------------------------------------
# Compiled kernel
# --------------------------------------------------------------------------------------------


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
    if sizing == _PERCENT_EQUITY:
        units = cash * (sizing_value / 100.0) / unit_cost
    elif sizing == _FIXED_CASH:
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
def _protective_exit(side, entry_price, extreme, bar_open, bar_high, bar_low,
                     stop_frac, target_frac, trail_frac):
    """Stop/target check of one bar. Returns (hit, market price of the fill, exit reason code).

    ``extreme`` is the entry price combined with the highest high (long) / lowest low (short) of
    the bars since the entry, strictly before this one.
    """
    if side > 0:
        stop = -np.inf
        stop_reason = _STOP_LOSS
        if stop_frac > 0.0:
            stop = entry_price * (1.0 - stop_frac)
        if trail_frac > 0.0:
            trail = max(extreme, bar_open) * (1.0 - trail_frac)
            if trail > stop:
                stop = trail
                stop_reason = _TRAILING_STOP
        target = np.inf
        if target_frac > 0.0:
            target = entry_price * (1.0 + target_frac)
        if bar_open <= stop:
            return True, bar_open, stop_reason
        if bar_open >= target:
            return True, bar_open, _TAKE_PROFIT
        if bar_low <= stop:
            return True, stop, stop_reason
        if bar_high >= target:
            return True, target, _TAKE_PROFIT
        return False, 0.0, _SIGNAL
    stop = np.inf
    stop_reason = _STOP_LOSS
    if stop_frac > 0.0:
        stop = entry_price * (1.0 + stop_frac)
    if trail_frac > 0.0:
        trail = min(extreme, bar_open) * (1.0 + trail_frac)
        if trail < stop:
            stop = trail
            stop_reason = _TRAILING_STOP
    target = -np.inf
    if target_frac > 0.0:
        target = entry_price * (1.0 - target_frac)
    if bar_open >= stop:
        return True, bar_open, stop_reason
    if bar_open <= target:
        return True, bar_open, _TAKE_PROFIT
    if bar_high >= stop:
        return True, stop, stop_reason
    if bar_low <= target:
        return True, target, _TAKE_PROFIT
    return False, 0.0, _SIGNAL


@numba.njit(cache=True)
def _orders_for_signal(direction, side, entry, exit_):
    """What a non-conflicting signal does given the current side: (close it?, side to open)."""
    if direction == _LONG:
        if entry and side == 0:
            return False, 1
        if exit_ and side > 0:
            return True, 0
        return False, 0
    if direction == _SHORT:
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
def _simulate_kernel(open_, high, low, close, entries, exits, column,
                     direction, fill_at_close, sizing, sizing_value, fractional,
                     fee_rate, slip, stop_frac, target_frac, trail_frac, initial_cash,
                     record, equity_out, position_out, cash_out, trade_log):
    """Run the bars. ``entries``/``exits`` are (n_columns, n_bars); ``column`` selects one.

    With ``record`` the per-bar arrays and ``trade_log`` (n_bars, 10) are filled; without it
    they are ignored (parameter sweeps). Returns (final equity, number of trades, total fees,
    total slippage, turnover).
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

    for t in range(n):
        for phase in range(3):
            # phase 0: pending order at the open; 1: stops/targets; 2: signals at the close.
            close_position = False
            open_side = 0
            market_price = 0.0
            reason = _SIGNAL
            if phase == 0:
                if pending_entry or pending_exit:
                    close_position, open_side = _orders_for_signal(
                        direction, side, pending_entry, pending_exit
                    )
                    market_price = open_[t]
                    pending_entry = False
                    pending_exit = False
            elif phase == 1:
                if side != 0 and has_protection:
                    hit, market_price, reason = _protective_exit(
                        side, entry_price, extreme, open_[t], high[t], low[t],
                        stop_frac, target_frac, trail_frac,
                    )
                    if hit:
                        close_position = True
                    elif side > 0:
                        extreme = max(extreme, high[t])
                    else:
                        extreme = min(extreme, low[t])
            else:
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

            if close_position:
                price = market_price * (1.0 - side * slip)  # selling a long, buying a short
                notional = units * price
                exit_fee = notional * fee_rate
                if side > 0:
                    cash += notional - exit_fee
                else:
                    cash -= notional + exit_fee
                total_fees += exit_fee
                total_slippage += units * abs(price - market_price)
                turnover += notional
                if record:
                    _write_trade(trade_log, n_trades, side, entry_index, entry_price, t, price,
                                 units, entry_fee, exit_fee, reason)
                n_trades += 1
                side = 0
                units = 0.0

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
        if record:
            equity_out[t] = equity
            position_out[t] = side * units
            cash_out[t] = cash

    if side != 0 and record:
        _write_trade(trade_log, n_trades, side, entry_index, entry_price, n - 1, close[n - 1],
                     units, entry_fee, 0.0, _END_OF_DATA)
    if side != 0:
        n_trades += 1
    return equity, n_trades, total_fees, total_slippage, turnover


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
def _final_equity_many_kernel(open_, high, low, close, entries, exits,
                              direction, fill_at_close, sizing, sizing_value, fractional,
                              fee_rate, slip, stop_frac, target_frac, trail_frac, initial_cash):
    n_columns = entries.shape[0]
    out = np.empty(n_columns)
    no_bars = np.empty(0)
    no_trades = np.empty((0, _N_TRADE_COLUMNS))
    for j in numba.prange(n_columns):
        out[j] = _simulate_kernel(
            open_, high, low, close, entries, exits, j,
            direction, fill_at_close, sizing, sizing_value, fractional,
            fee_rate, slip, stop_frac, target_frac, trail_frac, initial_cash,
            False, no_bars, no_bars, no_bars, no_trades,
        )[0]
    return out


# --------------------------------------------------------------------------------------------
# Python boundary
# --------------------------------------------------------------------------------------------


def simulate(open_, high, low, close, entries, exits, config: SimConfig) -> SimResult:
    """Simulate one strategy on one instrument (model and conventions: module docstring).

    Parameters
    ----------
    open_, high, low, close : array-like of float, shape (n,)
        Bar prices: finite, > 0, with ``low <= min(open, close)`` and ``high >= max(open, close)``.
    entries, exits : array-like of bool, shape (n,)
        Signals known at each bar's close.
    config : SimConfig

    Returns
    -------
    SimResult
    """
    prices = _validated_prices(open_, high, low, close)
    n = prices[0].shape[0]
    entry_rows = _validated_signals("entries", entries, n, ndim=1).reshape(1, n)
    exit_rows = _validated_signals("exits", exits, n, ndim=1).reshape(1, n)
    equity = np.empty(n)
    position = np.empty(n)
    cash = np.empty(n)
    trade_log = np.empty((n, _N_TRADE_COLUMNS))
    _, n_trades, total_fees, total_slippage, turnover = _simulate_kernel(
        *prices, entry_rows, exit_rows, 0, *_kernel_settings(config),
        True, equity, position, cash, trade_log,
    )
    trades = {}
    for j, name in enumerate(TRADE_COLUMNS):
        values = trade_log[:n_trades, j]
        trades[name] = values.astype(np.int64) if name in _INT_TRADE_COLUMNS else values.copy()
    return SimResult(
        equity=equity,
        position=position,
        cash=cash,
        trades=trades,
        total_fees=float(total_fees),
        total_slippage=float(total_slippage),
        turnover=float(turnover),
    )


def simulate_final_equity_many(
    open_, high, low, close, entries_2d, exits_2d, config: SimConfig
) -> np.ndarray:
    """Final equity of many signal combinations on the same bars, for parameter sweeps.

    ``entries_2d``/``exits_2d`` have shape (n_bars, n_combos). Returns a float64 array
    (n_combos,) equal to ``simulate(..., entries_2d[:, j], exits_2d[:, j], config).equity[-1]``
    for every ``j``: the same compiled kernel runs each column, in parallel threads.
    """
    prices = _validated_prices(open_, high, low, close)
    n = prices[0].shape[0]
    entries = _validated_signals("entries_2d", entries_2d, n, ndim=2)
    exits = _validated_signals("exits_2d", exits_2d, n, ndim=2)
    if entries.shape != exits.shape:
        raise ValueError(
            f"entries_2d and exits_2d must have the same shape, got {entries.shape} "
            f"and {exits.shape}"
        )
    # One contiguous row per combination, so each thread walks its signals sequentially.
    entry_rows = np.ascontiguousarray(entries.T)
    exit_rows = np.ascontiguousarray(exits.T)
    return _final_equity_many_kernel(*prices, entry_rows, exit_rows, *_kernel_settings(config))


def warmup() -> float:
    """Compile (or load from numba's cache) both kernels on 10 bars; returns the seconds taken."""
    started = time.perf_counter()
    close = np.linspace(100.0, 109.0, 10)
    entries = np.zeros(10, dtype=bool)
    exits = np.zeros(10, dtype=bool)
    entries[1] = True
    exits[5] = True
    config = SimConfig(stop_loss_pct=5.0)
    simulate(close, close + 1.0, close - 1.0, close, entries, exits, config)
    simulate_final_equity_many(
        close, close + 1.0, close - 1.0, close, entries[:, None], exits[:, None], config
    )
    return time.perf_counter() - started


def _kernel_settings(config: SimConfig) -> tuple:
    """SimConfig as the scalars the kernel takes (same order as its parameters)."""
    return (
        DIRECTIONS.index(config.direction),
        config.fill == "close",
        SIZING_METHODS.index(config.sizing_method),
        float(config.sizing_value),
        bool(config.fractional),
        float(config.fees_bps) / 1e4,
        float(config.slippage_bps) / 1e4,
        _fraction(config.stop_loss_pct),
        _fraction(config.take_profit_pct),
        _fraction(config.trailing_stop_pct),
        float(config.initial_cash),
    )


def _fraction(percent: float | None) -> float:
    """A percentage setting as a fraction; 0.0 tells the kernel the feature is off."""
    return 0.0 if percent is None else float(percent) / 100.0


def _require_choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name}: must be one of {', '.join(allowed)}, got {value!r}")


def _require_number(name: str, value: object, *, minimum: float, inclusive: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name}: must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name}: must be finite, got {value!r}")
    if value < minimum or (value == minimum and not inclusive):
        relation = ">=" if inclusive else ">"
        raise ValueError(f"{name}: must be {relation} {minimum:g}, got {value!r}")


def _validated_prices(open_, high, low, close) -> tuple[np.ndarray, ...]:
    arrays = []
    for name, values in (("open", open_), ("high", high), ("low", low), ("close", close)):
        try:
            array = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{name}: must be numeric prices ({error})") from None
        if array.ndim != 1:
            raise ValueError(f"{name}: must be 1-D (one value per bar), got shape {array.shape}")
        arrays.append(np.ascontiguousarray(array))
    n = arrays[0].shape[0]
    if n == 0:
        raise ValueError("open: no bars; the simulation needs at least one bar")
    for name, array in zip(("high", "low", "close"), arrays[1:], strict=True):
        if array.shape[0] != n:
            raise ValueError(f"{name}: has {array.shape[0]} bars but open has {n}")
    for name, array in zip(("open", "high", "low", "close"), arrays, strict=True):
        bad = ~np.isfinite(array) | (array <= 0.0)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"{name}: every price must be finite and > 0; bar {i} has {array[i]!r} "
                "(drop or fill missing bars before simulating)"
            )
    open_, high, low, close = arrays
    bad = (high < np.maximum(open_, close)) | (low > np.minimum(open_, close)) | (low > high)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"bar {i}: inconsistent OHLC (open={open_[i]!r}, high={high[i]!r}, low={low[i]!r}, "
            f"close={close[i]!r}); need low <= open, close <= high"
        )
    return open_, high, low, close


def _validated_signals(name: str, values, n: int, *, ndim: int) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype != np.bool_:
        raise ValueError(
            f"{name}: must be booleans, got dtype {array.dtype} (missing values are not allowed; "
            "fill them with False)"
        )
    if array.ndim != ndim or array.shape[0] != n:
        shape = "(n_bars,)" if ndim == 1 else "(n_bars, n_combos)"
        raise ValueError(f"{name}: must have shape {shape} with n_bars={n}, got {array.shape}")
    return np.ascontiguousarray(array)
