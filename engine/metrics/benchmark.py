"""Beta and Jensen's alpha of a strategy against a benchmark (conventions: the docstring of
:mod:`engine.metrics`)."""

from __future__ import annotations

import math

import numba
import numpy as np
import pandas as pd

from engine.metrics.conventions import (
    NOISE_RELATIVE_TO_MEAN,
    PERIODS_PER_YEAR,
    per_period_risk_free,
)
from engine.metrics.inputs import Values, finite_or_none
from engine.metrics.numpy_compiled import pairwise_sum


@numba.njit(cache=True, nogil=True)
def finite_pairs(returns, benchmark):  # pragma: no cover - compiled
    """The aligned pairs where both returns are finite, for the regression.

    Returns ``(strategy, centred, mean_benchmark, mean_strategy, pairs)``: the strategy returns
    of the pairs (``returns`` itself when every pair is finite), the benchmark returns minus
    their mean, and the two means (NaN with fewer than 2 pairs).
    """
    n = returns.shape[0]
    m = 0
    for i in range(n):
        if math.isfinite(returns[i]) and math.isfinite(benchmark[i]):
            m += 1
    strategy = returns
    centred = np.empty(m)
    if m == n:  # every pair observed (the usual case): no gathering
        for i in range(n):
            centred[i] = benchmark[i]
    else:
        strategy = np.empty(m)
        j = 0
        for i in range(n):
            if math.isfinite(returns[i]) and math.isfinite(benchmark[i]):
                strategy[j] = returns[i]
                centred[j] = benchmark[i]
                j += 1
    mean_benchmark = np.nan
    mean_strategy = np.nan
    if m >= 2:
        mean_benchmark = pairwise_sum(centred, m) / m
        for i in range(m):
            centred[i] -= mean_benchmark
        mean_strategy = pairwise_sum(strategy, m) / m
    return strategy, centred, mean_benchmark, mean_strategy, m


def beta_alpha_of_pairs(strategy: np.ndarray, centred: np.ndarray, mean_benchmark: float,
                        mean_strategy: float, pairs: int, per_period_rf: float,
                        periods_per_year: float) -> tuple[float | None, float | None]:
    """``(beta, alpha)`` from :func:`finite_pairs`; both ``None`` with fewer than 2 pairs or a
    constant benchmark. ``cov / var`` with the same ddof on both: the ``(n - 1)`` cancels, and
    the centred benchmark sums to ~0, so dotting it with the uncentred strategy returns gives
    the covariance sum. The dot products are NumPy's (BLAS)."""
    if pairs < 2:
        return None, None
    benchmark_sum_squares = float(np.dot(centred, centred))
    if benchmark_sum_squares <= (NOISE_RELATIVE_TO_MEAN * mean_benchmark) ** 2 * pairs:
        return None, None  # a constant benchmark has no variance to regress on
    beta = float(np.dot(centred, strategy)) / benchmark_sum_squares
    alpha = ((mean_strategy - per_period_rf) - beta * (mean_benchmark - per_period_rf)) * (
        periods_per_year
    )
    return finite_or_none(beta), finite_or_none(alpha)


def _aligned(returns: Values, benchmark_returns: Values) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(returns, pd.Series) and isinstance(benchmark_returns, pd.Series):
        paired = pd.concat([returns, benchmark_returns], axis=1, join="inner")
        strategy = paired.iloc[:, 0].to_numpy(dtype=np.float64)
        benchmark = paired.iloc[:, 1].to_numpy(dtype=np.float64)
    else:
        strategy = np.asarray(returns, dtype=np.float64)
        benchmark = np.asarray(benchmark_returns, dtype=np.float64)
        if strategy.shape != benchmark.shape or strategy.ndim != 1:
            raise ValueError(
                "returns and benchmark_returns must be aligned one-dimensional arrays of the same "
                f"length, got shapes {strategy.shape} and {benchmark.shape}"
            )
    return np.ascontiguousarray(strategy), np.ascontiguousarray(benchmark)


def beta_alpha(
    returns: Values,
    benchmark_returns: Values,
    risk_free: float = 0.0,
    periods_per_year: float = PERIODS_PER_YEAR,
) -> tuple[float | None, float | None]:
    """Beta and annualised Jensen's alpha of a strategy against a benchmark.

    Parameters
    ----------
    returns, benchmark_returns : array_like or pandas.Series
        Simple period returns of the strategy and of the benchmark. Arrays must be aligned
        (same length, same periods); two Series are aligned on their index. Pairs where either
        value is missing (NaN) are dropped.
    risk_free : float
        ANNUAL risk-free rate, converted per period as ``rf_p = (1 + rf) ** (1 / P) - 1``.
    periods_per_year : float
        ``P``, periods a year (252 for daily bars).

    Returns
    -------
    (beta, alpha) : tuple of float or None
        ``beta = cov(r, b, ddof=1) / var(b, ddof=1)``;
        ``alpha = (mean(r - rf_p) - beta * mean(b - rf_p)) * P``, arithmetic (not compounded),
        a fraction a year. Both ``None`` with fewer than 2 pairs or a constant benchmark.
    """
    strategy, benchmark = _aligned(returns, benchmark_returns)
    rf_p = per_period_risk_free(risk_free, periods_per_year)
    return beta_alpha_of_pairs(*finite_pairs(strategy, benchmark), rf_p, periods_per_year)
