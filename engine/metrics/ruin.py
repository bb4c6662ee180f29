"""Ruin: the bar on which an account's equity reaches 0 (conventions: the docstring of
:mod:`engine.metrics`).

The simulator liquidates an account whose equity reaches 0 and keeps it at 0 from then on
(:mod:`engine.simulate`, "Ruin"), so an equity curve never goes below 0 and a ruined one ends at
0. After that bar every period return is 0 by convention, which says nothing about the
strategy: the risk statistics (volatility, VaR, CVaR, beta) are computed on the bars up to and
including the ruin bar, and the reward-to-risk ratios (Sharpe, Sortino, alpha) are not reported
(``engine.metrics.compute.RUINED_NULL_REASON``).
"""

from __future__ import annotations

import numpy as np


def ruin_index(equity: np.ndarray) -> int | None:
    """The first bar whose equity is 0, ``None`` if the equity stays positive.

    Parameters
    ----------
    equity : numpy.ndarray of float64, shape (n,)
        Account value at the end of each bar (checked finite).

    Raises
    ------
    ValueError
        When an equity value is negative: an account is ruined when its equity reaches 0 and
        cannot lose more (the simulator liquidates it there); a negative equity would flip the
        sign of every later return ``e_t / e_{t-1} - 1``.
    """
    if equity.size == 0 or equity.min() > 0.0:
        return None
    negative = np.flatnonzero(equity < 0.0)
    if negative.size:
        first = int(negative[0])
        raise ValueError(
            f"equity must be >= 0: element {first} is {equity[first]!r}; an account is ruined "
            "when its equity reaches 0 (engine.simulate liquidates it there and keeps it at 0)"
        )
    return int(np.argmax(equity <= 0.0))
