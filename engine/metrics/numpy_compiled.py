"""NumPy's own reductions, compiled: the metrics computed in numba give NumPy's numbers.

Sums use NumPy's pairwise summation (8 accumulators, blocks of 128, the split ``numpy`` uses for
``add.reduce``), means are ``sum / n``, standard deviations ``sqrt(sum((x - mean) ** 2) / (n - 1))``
like ``np.std(x, ddof=1, mean=mean)`` and percentiles NumPy's ``linear`` method. Only the dot
products (downside deviation, beta) are left to NumPy (BLAS), whose summation order differs.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_BLOCK = 128


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
def pairwise_sum(a, n):  # pragma: no cover - compiled
    """``np.add.reduce(a[:n])``, bit for bit."""
    # np.add.reduce starts from the identity 0.0 (only visible for -0.0 sums).
    return 0.0 + _pairwise(a, 0, n)


@numba.njit(cache=True, nogil=True)
def centred_sum_squares(a, n, mean, work):  # pragma: no cover - compiled
    """``sum((a[:n] - mean) ** 2)`` as NumPy sums it (``work``: scratch of >= n values)."""
    for i in range(n):
        d = a[i] - mean
        work[i] = d * d
    return pairwise_sum(work, n)


@numba.njit(cache=True, nogil=True)
def percentile_linear(values, n, quantile, work):  # pragma: no cover - compiled
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
def mean_of_smallest_into(values, count, work):  # pragma: no cover - compiled
    """Mean of the ``count`` smallest of ``values`` (1 <= count <= len), summed in ascending
    order with NumPy's pairwise summation: ``np.sort(values)[:count].mean()`` bit for bit.
    ``work``: scratch of >= len(values) values."""
    n = values.shape[0]
    for i in range(n):
        work[i] = values[i]
    smallest = np.sort(np.partition(work[:n], count - 1)[:count])
    return pairwise_sum(smallest, count) / count


def percentile_by_partition(values: np.ndarray, quantile: float) -> float:
    """``np.percentile(values, 100 * quantile)`` (linear), with one ``np.partition`` call.

    The same order statistics and interpolation as NumPy's ``linear`` method, bit for bit; on
    large arrays NumPy's introselect is faster than the compiled :func:`percentile_linear`.
    """
    n = values.size
    virtual = (n - 1) * quantile
    if virtual >= n - 1:
        return float(values.max())
    lower_index = math.floor(virtual)
    part = np.partition(values, (lower_index, lower_index + 1))
    lower, upper = float(part[lower_index]), float(part[lower_index + 1])
    gamma = virtual - lower_index
    diff = upper - lower
    if gamma >= 0.5:
        return upper - diff * (1.0 - gamma)
    return lower + diff * gamma
