"""Compiled single-pass core of ``engine.metrics.compute_metrics``.

The kernel reproduces NumPy's own arithmetic so the metrics do not move: sums use NumPy's
pairwise summation (8 accumulators, blocks of 128, the split ``numpy`` uses for ``add.reduce``),
means are ``sum / n``, standard deviations ``sqrt(sum((x - mean) ** 2) / (n - 1))`` like
``np.std(x, ddof=1, mean=mean)`` and the percentile is NumPy's ``linear`` method. Only the dot
products (downside deviation, beta) are summed pairwise rather than by BLAS, which can differ
from ``np.dot`` in the last bits.

Scalar conventions (``None`` values, the 1e-12 noise rule, CAGR, Calmar) stay in
``engine.metrics``; the kernel returns the raw numbers they are computed from.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_BLOCK = 128
# Above this many returns NumPy's introselect (``np.partition``) finds the VaR order statistics
# faster than numba's; the caller then computes VaR and CVaR (stats 7 and 8 stay NaN).
SELECT_IN_KERNEL_MAX = 50_000


@numba.njit(cache=True, nogil=True)
def _pairwise_leaf(a, start, n):  # pragma: no cover - compiled
    """NumPy's pairwise-sum base case (``n <= 128``): 8 interleaved partial sums."""
    if n < 8:
        res = 0.0
        for i in range(start, start + n):
            res += a[i]
        return res
    b = a[start:start + n]
    r0 = b[0]
    r1 = b[1]
    r2 = b[2]
    r3 = b[3]
    r4 = b[4]
    r5 = b[5]
    r6 = b[6]
    r7 = b[7]
    stop = n - (n % 8)
    for i in range(8, stop, 8):
        r0 += b[i]
        r1 += b[i + 1]
        r2 += b[i + 2]
        r3 += b[i + 3]
        r4 += b[i + 4]
        r5 += b[i + 5]
        r6 += b[i + 6]
        r7 += b[i + 7]
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(stop, n):
        res += b[i]
    return res


@numba.njit(cache=True, nogil=True)
def _half(n):  # pragma: no cover - compiled
    n2 = n // 2
    return n2 - n2 % 8


@numba.njit(cache=True, nogil=True)
def _pairwise(a, start, n):  # pragma: no cover - compiled
    """``np.add.reduce(a[start:start + n])`` with NumPy's pairwise summation, bit for bit.

    NumPy recurses: ``sum(n) = sum(first n2) + sum(rest)`` with ``n2 = n // 2`` rounded down to
    a multiple of 8, down to blocks of at most 128. The recursion runs here on an explicit stack
    (recursive compiled functions do not load reliably from numba's cache).
    """
    if n <= _BLOCK:
        return _pairwise_leaf(a, start, n)
    starts = np.empty(64, dtype=np.int64)
    sizes = np.empty(64, dtype=np.int64)
    phases = np.zeros(64, dtype=np.int64)
    lefts = np.empty(64)
    sp = 0
    starts[0] = start
    sizes[0] = n
    phases[0] = 0
    while True:
        m = sizes[sp]
        if m > _BLOCK:  # descend into the left half
            phases[sp] = 0
            s = starts[sp]
            sp += 1
            starts[sp] = s
            sizes[sp] = _half(m)
            continue
        result = _pairwise_leaf(a, starts[sp], m)
        while True:  # return the result to the parents
            sp -= 1
            if sp < 0:
                return result
            if phases[sp] == 0:  # left half done: keep it, evaluate the right half
                lefts[sp] = result
                phases[sp] = 1
                n2 = _half(sizes[sp])
                starts[sp + 1] = starts[sp] + n2
                sizes[sp + 1] = sizes[sp] - n2
                sp += 1
                break
            result = lefts[sp] + result


@numba.njit(cache=True, nogil=True)
def _sum(a, n):  # pragma: no cover - compiled
    # np.add.reduce starts from the identity 0.0 (only visible for -0.0 sums).
    return 0.0 + _pairwise(a, 0, n)


@numba.njit(cache=True, nogil=True)
def _centred_sum_squares(a, n, mean, work):  # pragma: no cover - compiled
    for i in range(n):
        d = a[i] - mean
        work[i] = d * d
    return _sum(work, n)


@numba.njit(cache=True, nogil=True)
def _percentile_linear(values, n, quantile, work):  # pragma: no cover - compiled
    """``np.percentile(values, 100 * quantile)`` (method ``linear``), ``quantile`` in [0, 1]."""
    virtual = (n - 1) * quantile
    for i in range(n):
        work[i] = values[i]
    if virtual >= n - 1:
        lower_index = n - 1
        upper_index = n - 1
    elif virtual < 0:
        lower_index = 0
        upper_index = 0
    else:
        lower_index = int(math.floor(virtual))
        upper_index = lower_index + 1
    gamma = virtual - math.floor(virtual)
    if virtual >= n - 1 or virtual < 0:
        gamma = virtual - float(lower_index if virtual < 0 else n - 1)
    part = np.partition(work[:n], lower_index)
    lower = part[lower_index]
    upper = lower
    if upper_index != lower_index:
        upper = part[upper_index]
        for i in range(upper_index, n):
            if part[i] < upper:
                upper = part[i]
    diff = upper - lower
    if gamma >= 0.5:
        return upper - diff * (1.0 - gamma)
    return lower + diff * gamma


@numba.njit(cache=True, nogil=True)
def date_order_problem(ticks):  # pragma: no cover - compiled
    """0 for valid ``datetime64`` ticks, 1 if one is NaT (int64 minimum), 2 if not ascending."""
    nat = np.iinfo(np.int64).min
    for i in range(ticks.shape[0]):
        if ticks[i] == nat:
            return 1
    for i in range(1, ticks.shape[0]):
        if ticks[i] < ticks[i - 1]:
            return 2
    return 0


@numba.njit(cache=True, nogil=True)
def _mean_at_or_below(values, threshold, work):  # pragma: no cover - compiled
    """``values[values <= threshold].mean()``."""
    count = 0
    for i in range(values.shape[0]):
        if values[i] <= threshold:
            work[count] = values[i]
            count += 1
    return _sum(work, count) / count


@numba.njit(cache=True, nogil=True)
def mean_at_or_below(values, threshold):  # pragma: no cover - compiled
    """``values[values <= threshold].mean()`` with NumPy's summation (CVaR of a VaR)."""
    return _mean_at_or_below(values, threshold, np.empty(values.shape[0]))


@numba.njit(cache=True, nogil=True)
def metrics_kernel(
    equity, cash, date_ticks, ticks_per_day, rf_p, quantile, benchmark, has_benchmark,
    pnl, trade_returns, positions, has_positions,
):  # pragma: no cover - compiled
    """Raw statistics of one equity curve; see ``engine.metrics.compute_metrics``.

    Returns ``(stats, returns, shortfall, centred, strategy)``. ``stats`` is a float64 array:
    0 mean(r), 1 std(r, ddof=1) (NaN for n < 2), 2 mean(e), 3 std(e, ddof=1), 5 min(equity /
    peak) (NaN without bars), 6 longest drawdown in days, 7 var, 8 cvar, 10 mean(b) on the
    pairs, 12 mean(r) on the pairs, 13 number of pairs, 14 winning trades, 15 gains, 16 losses,
    17 mean trade return, 18 non-zero positions, 19 calendar days from the first to the last
    date (4, 9, 11 unused). ``shortfall = min(e, 0)``; ``centred`` (benchmark minus its mean)
    and ``strategy`` are the finite return pairs, for the dot products NumPy (BLAS) computes.
    """
    n = equity.shape[0]
    out = np.full(20, np.nan)
    returns = np.empty(n)
    work = np.empty(max(n, pnl.shape[0], trade_returns.shape[0]))
    if n > 0:
        returns[0] = equity[0] / cash - 1.0
    for i in range(1, n):
        previous = equity[i - 1]
        returns[i] = 0.0 if previous == 0 else equity[i] / previous - 1.0
    mean_r = _sum(returns, n) / n if n else 0.0
    out[0] = mean_r
    if n >= 2:
        out[1] = math.sqrt(_centred_sum_squares(returns, n, mean_r, work) / (n - 1))
    # excess returns
    if rf_p != 0.0:
        excess = np.empty(n)
        for i in range(n):
            excess[i] = returns[i] - rf_p
        mean_e = _sum(excess, n) / n if n else 0.0
    else:
        excess = returns
        mean_e = mean_r
    out[2] = mean_e
    if n >= 2:
        out[3] = math.sqrt(_centred_sum_squares(excess, n, mean_e, work) / (n - 1))
    shortfall = np.empty(n)
    for i in range(n):
        shortfall[i] = excess[i] if excess[i] < 0.0 else 0.0
    # drawdown and its duration
    if n > 0:
        peak = cash
        worst = np.inf
        last_peak_bar = -1
        last_peak_tick = date_ticks[0]
        longest = 0
        for i in range(n):
            value = equity[i]
            if value > peak:
                peak = value
            ratio = value / peak
            if ratio < worst:
                worst = ratio
            if value >= peak:
                tick = date_ticks[i]
                if i - last_peak_bar > 1:
                    days = (tick // ticks_per_day) - (last_peak_tick // ticks_per_day)
                    if days > longest:
                        longest = days
                last_peak_bar = i
                last_peak_tick = tick
        if n - last_peak_bar > 1:
            days = (date_ticks[n - 1] // ticks_per_day) - (last_peak_tick // ticks_per_day)
            if days > longest:
                longest = days
        out[5] = worst
        out[6] = longest
        out[19] = (date_ticks[n - 1] // ticks_per_day) - (date_ticks[0] // ticks_per_day)
        if n <= SELECT_IN_KERNEL_MAX:  # value at risk and conditional value at risk
            var = _percentile_linear(returns, n, quantile, work)
            out[7] = var
            out[8] = _mean_at_or_below(returns, var, work)
    # beta and alpha on the finite pairs
    m = 0
    if has_benchmark:
        for i in range(n):
            if math.isfinite(returns[i]) and math.isfinite(benchmark[i]):
                m += 1
    strategy = returns
    centred = np.empty(m)
    if has_benchmark:
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
        out[13] = m
        if m >= 2:
            mean_b = _sum(centred, m) / m
            for i in range(m):
                centred[i] -= mean_b
            out[10] = mean_b
            out[12] = _sum(strategy, m) / m
    else:
        strategy = centred
    # trades
    k = pnl.shape[0]
    if k > 0:
        wins = 0
        for i in range(k):
            if pnl[i] > 0:
                work[wins] = pnl[i]
                wins += 1
        out[14] = wins
        out[15] = _sum(work, wins)
        losers = 0
        for i in range(k):
            if pnl[i] < 0:
                work[losers] = pnl[i]
                losers += 1
        out[16] = _sum(work, losers)
    t = trade_returns.shape[0]
    if t > 0:
        out[17] = _sum(trade_returns, t) / t
    if has_positions:
        nonzero = 0
        for i in range(n):
            if positions[i] != 0:
                nonzero += 1
        out[18] = nonzero
    return out, returns, shortfall, centred, strategy
