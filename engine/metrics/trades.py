"""Statistics of closed trades and the exposure (conventions: the docstring of
:mod:`engine.metrics`)."""

from __future__ import annotations

import numba
import numpy as np

from engine.metrics.inputs import EMPTY, Values, as_float_array, finite_or_none
from engine.metrics.numpy_compiled import pairwise_sum


@numba.njit(cache=True, nogil=True)
def trade_sums(pnl, trade_returns, work):  # pragma: no cover - compiled
    """``(wins, sum of gains, sum of losses, mean trade return)``: the count of pnl > 0, the sums
    of the positive and of the negative pnl (NaN without trades), the mean of the returns (NaN
    without returns). ``work``: scratch of >= len(pnl) values."""
    k = pnl.shape[0]
    wins = 0
    gains = np.nan
    losses = np.nan
    if k > 0:
        for i in range(k):
            if pnl[i] > 0:
                work[wins] = pnl[i]
                wins += 1
        gains = pairwise_sum(work, wins)
        losers = 0
        for i in range(k):
            if pnl[i] < 0:
                work[losers] = pnl[i]
                losers += 1
        losses = pairwise_sum(work, losers)
    t = trade_returns.shape[0]
    mean_return = pairwise_sum(trade_returns, t) / t if t > 0 else np.nan
    return wins, gains, losses, mean_return


@numba.njit(cache=True, nogil=True)
def count_nonzero(values):  # pragma: no cover - compiled
    """Number of non-zero values."""
    count = 0
    for i in range(values.shape[0]):
        if values[i] != 0:
            count += 1
    return count


def checked_trades(pnl: Values | None, trade_returns: Values | None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Trade pnl and returns as float64 arrays (empty when ``None``), the same length when both
    are given."""
    pnl_values = as_float_array(pnl if pnl is not None else EMPTY, "trade pnl")
    return_values = as_float_array(
        trade_returns if trade_returns is not None else EMPTY, "trade returns"
    )
    if pnl is not None and trade_returns is not None and pnl_values.size != return_values.size:
        raise ValueError(
            f"trade pnl and trade returns describe the same trades but have {pnl_values.size} "
            f"and {return_values.size} elements"
        )
    return pnl_values, return_values


def trade_stats_of_sums(num_pnl: int, num_returns: int, wins: int, gains: float, losses: float,
                        mean_return: float) -> dict[str, int | float | None]:
    """The ``trade_stats`` dictionary from :func:`trade_sums`."""
    win_rate = profit_factor = avg_return = None
    if num_pnl:
        win_rate = wins / num_pnl
        profit_factor = finite_or_none(gains / -losses) if losses < 0 else None
    if num_returns:
        avg_return = finite_or_none(mean_return)
    return {
        "num_trades": int(max(num_pnl, num_returns)),
        "win_rate": win_rate,
        "profit_factor": profit_factor,
        "avg_trade_return": avg_return,
    }


def trade_stats(pnl: Values | None, trade_returns: Values | None) -> dict[str, int | float | None]:
    """Statistics of closed trades.

    Parameters
    ----------
    pnl : array_like or None
        Profit and loss of each trade, in account currency (after costs).
    trade_returns : array_like or None
        Return of each trade as a fraction, same trades in the same order.

    Returns
    -------
    dict
        ``num_trades``: number of trades (int).
        ``win_rate``: share of trades with pnl > 0 (break-even trades are not wins).
        ``profit_factor``: sum of positive pnl / |sum of negative pnl|; ``None`` without a
        losing trade (0.0 when there are losses but no gains).
        ``avg_trade_return``: mean of the trade returns.
        Each ratio is ``None`` without trades.
    """
    pnl_values, return_values = checked_trades(pnl, trade_returns)
    sums = trade_sums(pnl_values, return_values, np.empty(pnl_values.size))
    return trade_stats_of_sums(pnl_values.size, return_values.size, *sums)


def exposure(positions: Values) -> float | None:
    """Fraction of bars with a non-zero position (long or short units); ``None`` without bars."""
    values = as_float_array(positions, "positions")
    if values.size == 0:
        return None
    return count_nonzero(values) / values.size
