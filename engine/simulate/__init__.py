"""Execution simulator: turns entry/exit signals and OHLC bars into fills, positions, cash,
equity and trades.

One compiled (numba) loop walks the bars in time order. It is path-dependent (a stop depends on
the entry price, sizing depends on the equity left by earlier trades), so it cannot be vectorised;
it is compiled instead. The rules below are the product's execution model
(docs/spec.md#execution-model); every
number a user sees comes from them.

Inputs
------
``open_``, ``high``, ``low``, ``close``: float arrays of one length ``n >= 1``, finite, ``> 0``,
with ``low <= min(open, close)`` and ``high >= max(open, close)`` on every bar. ``entries``,
``exits``: boolean arrays of length ``n``. Anything else raises ``ValueError`` naming the array
and the first offending bar. Bars are assumed to be consecutive trading periods.

Timing: what happens inside bar ``t``, in this order
----------------------------------------------------
1. **Pending order** (``fill="next_open"`` only). A signal on bar ``t-1`` fills at ``open[t]``,
   unless the bar opened at or beyond the ruin price of the position held (see Ruin).
2. **Stops, targets and ruin** of the position held during bar ``t`` (see below). They are
   active from the bar on which the entry filled, after that bar's open: with ``next_open`` an
   entry filled at ``open[t]`` can be stopped out during bar ``t``; with ``fill="close"`` an entry
   filled at ``close[t]`` is protected from bar ``t+1`` on.
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
  (docs/spec.md#execution-model). Leverage (v > 100) is not modelled (no financing cost, no margin
  call) and is
  rejected.
- ``fixed_cash`` ``v``: ``units = v / (p * (1 + f))``.
- ``fixed_units`` ``v``: ``units = v``.
- A long never borrows: units are capped at ``cash / (p * (1 + f))`` and, when floating-point
  rounding would still overshoot, reduced by a few ulps (or one whole unit), so cash after the
  purchase is ``>= 0`` exactly.
- ``fractional=False`` rounds units down to whole units (a value within 1e-9 below an integer
  counts as that integer, to absorb floating-point error); zero units means no trade.
- Shorts use the same unit formula on ``E``; opening adds ``units * p - fee`` to cash, covering
  subtracts ``units * p + fee``. Short size is not capped (``fixed_units`` and ``fixed_cash``
  can lever a short); the account is liquidated when its equity reaches 0 (see Ruin). No
  position is opened when ``E <= 0``.

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

Ruin (equity reaching 0)
------------------------
A long never borrows, so its equity stays positive. A short (or a levered short) loses without
bound as the price rises: with cash ``C`` and ``u`` units short, covering at market price ``p``
(slippage and exit fee included) leaves ``C - u * p * (1 + s) * (1 + f)``, which is 0 at the
**ruin price** ``p* = C / (u * (1 + s) * (1 + f))``. The account is ruined, path-dependently,
on the first bar that reaches ``p*`` while the position is held:

- at the open, if the bar opens at or beyond ``p*`` (a gap through it): the position is covered
  at the open; what that loses beyond the account is ``ruin_deficit`` (currency);
- inside the bar, if its high reaches ``p*``: covered at ``p*``, leaving exactly 0. Reaching
  ``p*`` is an adverse move like a stop: it comes before a target in the same bar, and after a
  stop only when the stop lies below ``p*`` (the price passes the stop first);
- at the close, for a position opened at that close (``fill="close"``) whose costs already
  exceed the equity.

The liquidation is a trade with ``exit_reason = "ruin"``. From the ruin bar on the account is
closed: no more orders, ``cash``, ``position`` and ``equity`` are 0 (a deficit is not carried as
negative equity), so every return after it is 0 and the equity never goes below 0.

Exposure
--------
``exposed[t]`` is True when a position was held at some time during bar ``t``: still held after
the bar's opening fills (an order or a gap-through stop filled at the open leaves no time in
the bar), or held at its close. A position opened at the open and stopped out inside the same
bar counts; one carried to the open and closed there does not.

End of data
-----------
A position still open after the last bar is valued at the last close, with no exit fee and no
slippage, and reported as a trade with ``exit_reason = "end_of_data"``, ``exit_index = n-1`` and
``exit_price = close[n-1]``. Hence ``equity[-1] = initial_cash + sum(trades["pnl"])``, except
after a ruin with a gap, where ``sum(trades["pnl"]) = -(initial_cash + ruin_deficit)``.

Trades
------
``trades`` is a dict of equal-length arrays, one row per round trip, in the order they closed:
``side`` (+1 long, -1 short), ``entry_index``, ``entry_price`` (fill after slippage),
``exit_index``, ``exit_price`` (fill after slippage), ``units`` (> 0),
``pnl = units * (exit_price - entry_price) * side - fees`` (net of both fees),
``return = pnl / (units * entry_price)``, ``fees`` (entry + exit) and ``exit_reason`` (an index
into :data:`EXIT_REASONS`: signal, stop_loss, take_profit, trailing_stop, end_of_data, ruin).
"""

from engine.simulate.config import (
    DIRECTIONS,
    EXIT_REASONS,
    FILLS,
    SIZING_METHODS,
    TRADE_COLUMNS,
    SimConfig,
    SimResult,
)
from engine.simulate.run import (
    SimManyResult,
    simulate,
    simulate_final_equity_many,
    simulate_many,
    warmup,
)

__all__ = [
    "DIRECTIONS",
    "EXIT_REASONS",
    "FILLS",
    "SIZING_METHODS",
    "TRADE_COLUMNS",
    "SimConfig",
    "SimManyResult",
    "SimResult",
    "simulate",
    "simulate_final_equity_many",
    "simulate_many",
    "warmup",
]
