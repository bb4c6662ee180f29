"""Tail risk: historical value at risk and conditional value at risk (expected shortfall) of the
period returns (conventions: the docstring of :mod:`engine.metrics`)."""

from __future__ import annotations

import numba
import numpy as np

from engine.metrics.conventions import VAR_LEVEL, var_quantile
from engine.metrics.inputs import Values, as_float_array
from engine.metrics.numpy_compiled import (
    mean_at_or_below,
    mean_at_or_below_into,
    percentile_by_partition,
    percentile_linear,
)

# Above this many returns NumPy's introselect (``np.partition``) finds the VaR order statistics
# faster than numba's: the compiled metrics kernel leaves VaR and CVaR to :func:`tail_risk`.
SELECT_IN_KERNEL_MAX = 50_000


@numba.njit(cache=True, nogil=True)
def var_cvar_compiled(returns, quantile, work):  # pragma: no cover - compiled
    """``(np.percentile(r, 100 * quantile), mean(r[r <= VaR]))`` for at least one return;
    ``work``: scratch of >= len(returns) values."""
    n = returns.shape[0]
    var = percentile_linear(returns, n, quantile, work)
    return var, mean_at_or_below_into(returns, var, work)


def tail_risk(returns: np.ndarray, quantile: float) -> tuple[float | None, float | None]:
    """``(VaR, CVaR)`` of float64 returns at a lower-tail ``quantile`` (0.05 for 95 %).

    ``VaR = np.percentile(r, 100 * quantile)`` (linear interpolation) and ``CVaR`` the mean of the
    returns ``<= VaR``, both as returns (negative for a loss); ``(None, None)`` without returns.
    """
    if returns.size == 0:
        return None, None
    if returns.size > SELECT_IN_KERNEL_MAX:
        var = percentile_by_partition(returns, quantile)
        return var + 0.0, float(mean_at_or_below(returns, var)) + 0.0
    var, cvar = var_cvar_compiled(returns, quantile, np.empty(returns.size))
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
    """Historical conditional VaR (expected shortfall): mean of the returns ``<= VaR``.

    Parameters
    ----------
    returns : array_like
        Simple period returns (fractions).
    level : float
        Confidence level of the VaR threshold (see ``value_at_risk``).

    Returns
    -------
    float or None
        ``mean(r[r <= value_at_risk(r, level)])``, as a return (<= VaR). ``None`` without returns.
    """
    return tail_risk(as_float_array(returns, "returns"), var_quantile(level))[1]
