"""The simulator's Python entry points: one strategy (:func:`simulate`), many signal
combinations recorded (:func:`simulate_many`) or final equities only
(:func:`simulate_final_equity_many`). The execution model is in :mod:`engine.simulate`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from engine.simulate.config import (
    INTEGER_TRADE_COLUMNS,
    TRADE_COLUMNS,
    SimConfig,
    SimResult,
    kernel_settings,
)
from engine.simulate.inputs import validated_prices, validated_signals
from engine.simulate.kernel import (
    N_TRADE_COLUMNS,
    NOT_RUINED,
    final_equity_many_kernel,
    record_many_kernel,
    simulate_kernel,
)


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
    prices = validated_prices(open_, high, low, close)
    n = prices[0].shape[0]
    entry_rows, exit_rows = (
        np.ascontiguousarray(validated_signals(name, values, n, ndim=1)).reshape(1, n)
        for name, values in (("entries", entries), ("exits", exits))
    )
    equity = np.empty(n)
    position = np.empty(n)
    cash = np.empty(n)
    exposed = np.empty(n, dtype=np.bool_)
    trade_log = np.empty((n, N_TRADE_COLUMNS))
    _, n_trades, total_fees, total_slippage, turnover, ruin_bar, deficit = simulate_kernel(
        *prices, entry_rows, exit_rows, 0, *kernel_settings(config),
        True, equity, position, cash, exposed, trade_log,
    )
    trades = {}
    for j, name in enumerate(TRADE_COLUMNS):
        values = trade_log[:n_trades, j]
        trades[name] = values.astype(np.int64) if name in INTEGER_TRADE_COLUMNS else values.copy()
    return SimResult(
        equity=equity,
        position=position,
        cash=cash,
        trades=trades,
        total_fees=float(total_fees),
        total_slippage=float(total_slippage),
        turnover=float(turnover),
        exposed=exposed,
        ruin_index=None if ruin_bar == NOT_RUINED else int(ruin_bar),
        ruin_deficit=float(deficit),
    )


@dataclass(frozen=True)
class SimManyResult:
    """Output of :func:`simulate_many`: one column per combination.

    ``equity`` and ``position`` (signed units) are (n_bars, n_combos), sampled at every close.
    ``trade_pnl`` and ``trade_returns`` are (n_bars, n_combos): column ``j`` holds the pnl
    (currency, net of fees) and return (fraction) of combination ``j``'s trades, in the order
    they closed, in its first ``num_trades[j]`` rows (the rest is undefined). ``num_trades``
    (int64) and ``total_fees`` (currency) are (n_combos,). ``exposed`` (bool, (n_bars,
    n_combos)), ``ruin_index`` (int64 (n_combos,), -1 where the account survived) and
    ``ruin_deficit`` (n_combos,) are those of :class:`SimResult`. Each column equals what
    :func:`simulate` gives for that combination (``equity``, ``position``, ``trades["pnl"]``,
    ``trades["return"]``, ``total_fees``). The arrays are transposed views of row-major
    storage, so ``equity[:, j]`` is contiguous.
    """

    equity: np.ndarray
    position: np.ndarray
    trade_pnl: np.ndarray
    trade_returns: np.ndarray
    num_trades: np.ndarray
    total_fees: np.ndarray
    exposed: np.ndarray
    ruin_index: np.ndarray
    ruin_deficit: np.ndarray


def simulate_many(open_, high, low, close, entries_2d, exits_2d,
                  config: SimConfig) -> SimManyResult:
    """Simulate many signal combinations, recording each one's equity, position and trades.

    Parameters
    ----------
    open_, high, low, close : array-like of float, shape (n_bars,) or (n_bars, n_combos)
        The bars, shared by every combination (1-D: parameter sweeps) or one column of bars per
        combination (2-D: Monte Carlo paths). Same checks as :func:`simulate`.
    entries_2d, exits_2d : array-like of bool, shape (n_bars, n_combos)
        Signals of each combination, known at each bar's close.
    config : SimConfig
        The execution settings, the same for every combination.

    Returns
    -------
    SimManyResult
        Column ``j`` is ``simulate`` of column ``j`` of the inputs: the same compiled kernel
        runs each column, in parallel threads (numba ``prange``).
    """
    prices = validated_prices(open_, high, low, close, allow_columns=True)
    n = prices[0].shape[0]
    entries = validated_signals("entries_2d", entries_2d, n, ndim=2)
    exits = validated_signals("exits_2d", exits_2d, n, ndim=2)
    if entries.shape != exits.shape:
        raise ValueError(
            f"entries_2d and exits_2d must have the same shape, got {entries.shape} "
            f"and {exits.shape}"
        )
    k = entries.shape[1]
    if prices[0].ndim == 2 and prices[0].shape[1] != k:
        raise ValueError(
            f"open: has {prices[0].shape[1]} columns of bars but the signals have {k} "
            "combinations; give one column of bars per combination, or 1-D bars shared by all"
        )
    # Rows: each thread walks one combination's bars and signals sequentially.
    price_rows = [np.ascontiguousarray(p.T) if p.ndim == 2 else p.reshape(1, n) for p in prices]
    equity, position, pnl, returns = (np.empty((k, n)) for _ in range(4))
    exposed = np.empty((k, n), dtype=np.bool_)
    counts, fees = np.empty(k, dtype=np.int64), np.empty(k)
    ruin_bars, deficits = np.empty(k, dtype=np.int64), np.empty(k)
    record_many_kernel(*price_rows, np.ascontiguousarray(entries.T),
                       np.ascontiguousarray(exits.T), *kernel_settings(config),
                       equity, position, exposed, pnl, returns, counts, fees, ruin_bars, deficits)
    return SimManyResult(equity.T, position.T, pnl.T, returns.T, counts, fees, exposed.T,
                         ruin_bars, deficits)


def simulate_final_equity_many(
    open_, high, low, close, entries_2d, exits_2d, config: SimConfig
) -> np.ndarray:
    """Final equity of many signal combinations on the same bars, for parameter sweeps.

    ``entries_2d``/``exits_2d`` have shape (n_bars, n_combos). Returns a float64 array
    (n_combos,) equal to ``simulate(..., entries_2d[:, j], exits_2d[:, j], config).equity[-1]``
    for every ``j``: the same compiled kernel runs each column, in parallel threads.
    """
    prices = validated_prices(open_, high, low, close)
    n = prices[0].shape[0]
    entries = validated_signals("entries_2d", entries_2d, n, ndim=2)
    exits = validated_signals("exits_2d", exits_2d, n, ndim=2)
    if entries.shape != exits.shape:
        raise ValueError(
            f"entries_2d and exits_2d must have the same shape, got {entries.shape} "
            f"and {exits.shape}"
        )
    # One contiguous row per combination, so each thread walks its signals sequentially.
    entry_rows = np.ascontiguousarray(entries.T)
    exit_rows = np.ascontiguousarray(exits.T)
    return final_equity_many_kernel(*prices, entry_rows, exit_rows, *kernel_settings(config))


def warmup() -> float:
    """Compile (or load from numba's cache) the kernels on 10 bars; returns the seconds taken."""
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
    simulate_many(close, close + 1.0, close - 1.0, close, entries[:, None], exits[:, None], config)
    return time.perf_counter() - started


