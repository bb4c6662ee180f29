"""Tail risk: historical value at risk and conditional value at risk (expected shortfall) of the
period returns (conventions: the docstring of :mod:`engine.metrics`).

CVaR is an order statistic: the mean of the worst ``k = ceil((1 - level) * n)`` returns. It does
not compare returns with the VaR, so it cannot depend on whether returns that tie with the VaR
land a rounding error above or below it (a 1-ulp change of any return moves it by about one
ulp, never by a whole return).
"""

from __future__ import annotations

import numba
import numpy as np

from engine.metrics.conventions import VAR_LEVEL, tail_count, var_quantile
from engine.metrics.inputs import Values, as_float_array
from engine.metrics.numpy_compiled import (
    mean_of_smallest_into,
    percentile_by_partition,
    percentile_linear,
)

# Above this many returns NumPy's introselect (``np.partition``) finds the VaR order statistics
# faster than numba's: the compiled metrics kernel leaves VaR and CVaR to :func:`tail_risk`.
SELECT_IN_KERNEL_MAX = 50_000


@numba.njit(cache=True, nogil=True)
def var_cvar_compiled(returns, quantile, count, work):  # pragma: no cover - compiled
    """``(np.percentile(r, 100 * quantile), mean of the count smallest r)`` for at least one
    return, ``count = tail_count(len(r), quantile)``; ``work``: scratch of >= len(r) values."""
    n = returns.shape[0]
    var = percentile_linear(returns, n, quantile, work)
    return var, mean_of_smallest_into(returns, count, work)


def tail_risk(returns: np.ndarray, quantile: float) -> tuple[float | None, float | None]:
    """``(VaR, CVaR)`` of float64 returns at a lower-tail ``quantile`` (0.05 for 95 %).

    ``VaR = np.percentile(r, 100 * quantile)`` (linear interpolation) and ``CVaR`` the mean of the
    ``tail_count(n, quantile)`` smallest returns (``ceil(quantile * n)``), both as returns
    (negative for a loss); ``(None, None)`` without returns.
    """
    if returns.size == 0:
        return None, None
    count = tail_count(returns.size, quantile)
    if returns.size > SELECT_IN_KERNEL_MAX:
        var = percentile_by_partition(returns, quantile)
        worst = np.sort(np.partition(returns, count - 1)[:count])
        return var + 0.0, float(np.add.reduce(worst)) / count + 0.0
    var, cvar = var_cvar_compiled(returns, quantile, count, np.empty(returns.size))
    return var + 0.0, cvar + 0.0


def value_at_risk(returns: Values, level: float = VAR_LEVEL) -> float | None:
    """Historical value at risk: the ``1 - level`` quantile of the period returns.

    Parameters
    ----------
    returns : array_like
        Simple period returns (fractions).
    level : float
        Confidence level (0.95 gives the 5th percentile).

    Returns
    -------
    float or None
        ``np.percentile(r, 100 * (1 - level))`` with linear interpolation, as a return (negative
        for a loss: -0.02 means a 2 % loss in one period). ``None`` without returns.
    """
    return tail_risk(as_float_array(returns, "returns"), var_quantile(level))[0]


def conditional_value_at_risk(returns: Values, level: float = VAR_LEVEL) -> float | None:
    """Historical conditional VaR (expected shortfall): the mean of the worst returns.

    Parameters
    ----------
    returns : array_like
        Simple period returns (fractions).
    level : float
        Confidence level (0.95 averages the worst 5 %).

    Returns
    -------
    float or None
        ``mean(sort(r)[:k])`` with ``k = ceil((1 - level) * n)`` (at least 1): for 95 % and 2,000
        returns the worst 100, for 2,001 returns the worst 101. As a return (negative for a
        loss; <= VaR whenever ``k`` reaches the VaR's order statistic). Returns tied with the
        VaR are counted exactly as many times as ``k`` requires, whatever their last bits, so
        the value is stable under 1-ulp changes (a comparison ``r <= VaR`` is not). This is
        empyrical's ``conditional_value_at_risk`` (the ``int((n - 1) * 0.05) + 1`` smallest,
        the same ``k``). ``None`` without returns.
    """
    return tail_risk(as_float_array(returns, "returns"), var_quantile(level))[1]
