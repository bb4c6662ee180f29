"""Overfitting odds of a parameter search: the Deflated Sharpe Ratio and the Probability of
Backtest Overfitting.

Both start from the per-period returns of every variant tried (a sweep's trials). To let a sweep
split across workers compute them exactly, each variant is summarised by its **block moments**:
the bars are cut into ``S`` contiguous blocks (sizes differ by at most one bar) and, per block,
``n``, ``Σr``, ``Σr²``, ``Σr³``, ``Σr⁴`` are kept (:func:`block_moments`, shape
``(N variants, S, 5)``). Sums add across blocks, so the moments of any union of blocks, and of the
whole series, follow without the returns.

Sharpe ratio convention here: per period (not annualised), of excess returns
``e_t = r_t - rf_p``, with the sample standard deviation (ddof 1):
``SR = (mean(r) - rf_p) / std(r)``; 0 when the returns do not vary (a variant that never trades).

Deflated Sharpe Ratio (Bailey & López de Prado 2014, "The Deflated Sharpe Ratio: Correcting for
Selection Bias, Backtest Overfitting and Non-Normality", J. Portfolio Management 40(5))::

    SR0 = sqrt(V[SR_n]) * ((1 - γ) Φ⁻¹(1 - 1/N) + γ Φ⁻¹(1 - 1/(N e)))     γ = 0.5772 (Euler)
    DSR = Φ( (SR* - SR0) sqrt(T - 1) / sqrt(1 - γ3 SR* + (γ4 - 1)/4 SR*²) )

``SR*`` is the selected (best) variant's per-period Sharpe ratio over ``T`` returns with skewness
``γ3`` and (non-excess) kurtosis ``γ4``; ``N`` the number of trials and ``V[SR_n]`` the variance
of their Sharpe ratios. ``SR0`` is the Sharpe ratio the best of ``N`` skill-less trials is
expected to reach; DSR is the probability that the true Sharpe ratio of the selection exceeds 0
once that selection bias is removed (the Probabilistic Sharpe Ratio with benchmark ``SR0``).

Probability of Backtest Overfitting by combinatorially symmetric cross-validation (Bailey,
Borwein, López de Prado & Zhu 2017, "The Probability of Backtest Overfitting", J. Computational
Finance 20(4))::

    for every choice c of S/2 of the S blocks (C(S, S/2) choices):
        IS = blocks in c, OOS = the others
        n* = argmax_n SR_n(IS)                       the variant the search would pick
        ω_c = rank of SR_n*(OOS) among SR_n(OOS) / (N + 1)    rank 1 = worst, N = best
        λ_c = ln(ω_c / (1 - ω_c))                    the logit
    PBO = share of choices with λ_c ≤ 0

i.e. how often the in-sample winner lands at or below the median out of sample. Ties in the OOS
ranking take their average rank; ties in the IS choice go to the first variant. PBO near 0.5 or
above says the search picks noise; near 0 that the in-sample winner keeps its edge.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numba
import numpy as np

__all__ = ["EULER_GAMMA", "MOMENTS", "PBOResult", "assess", "block_moments", "describe",
           "deflated_sharpe_ratio", "expected_max_sharpe", "probabilistic_sharpe_ratio",
           "probability_of_backtest_overfitting", "pbo_from_moments", "series_statistics",
           "sharpe_from_moments"]

EULER_GAMMA = 0.5772156649015329
MOMENTS = 5  # n, Σr, Σr², Σr³, Σr⁴
DEFAULT_PARTITIONS = 16
MAX_PARTITIONS = 20  # C(20, 10) = 184,756 splits: the most a request may ask for
_NORMAL = NormalDist()


class OverfittingInputError(ValueError):
    """Inputs the overfitting statistics cannot use; the message says which and why."""


def block_moments(returns: np.ndarray, partitions: int) -> np.ndarray:
    """Per-block power sums of each variant's returns.

    Parameters
    ----------
    returns : (T, N) array of per-period returns (fractions), one column per variant.
    partitions : S, the number of contiguous blocks (``np.array_split`` boundaries: sizes
        differ by at most one bar, the earlier blocks being the longer).

    Returns
    -------
    (N, S, 5) array: ``[n, Σr, Σr², Σr³, Σr⁴]`` of each block of each variant.
    """
    values = np.asarray(returns, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if partitions < 1 or values.shape[0] < partitions:
        raise OverfittingInputError(f"partitions: {partitions} blocks need at least as many "
                                    f"returns, got {values.shape[0]}")
    size, extra = divmod(values.shape[0], partitions)
    bounds = np.full(partitions, size)
    bounds[:extra] += 1  # np.array_split's boundaries
    starts = np.concatenate([[0], np.cumsum(bounds)[:-1]])
    out = np.zeros((values.shape[1], partitions, MOMENTS))
    _block_moments_kernel(np.ascontiguousarray(values), starts.astype(np.int64),
                          bounds.astype(np.int64), out)
    return out


def sharpe_from_moments(n: np.ndarray, s1: np.ndarray, s2: np.ndarray,
                        risk_free_per_period: float = 0.0) -> np.ndarray:
    """Per-period Sharpe ratio ``(mean - rf_p) / std`` (ddof 1) from ``n``, ``Σr``, ``Σr²``
    (arrays of one shape); 0 where fewer than 2 returns or the returns do not vary."""
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s1 / n
        variance = (s2 - n * mean * mean) / (n - 1)
        flat = ~(variance > 1e-14 * np.maximum(s2 / n, 1e-300)) | (n < 2)
        sharpe = (mean - risk_free_per_period) / np.sqrt(np.where(flat, 1.0, variance))
    return np.where(flat, 0.0, sharpe)


def series_statistics(moments: np.ndarray, risk_free_per_period: float = 0.0
                      ) -> dict[str, float]:
    """Sharpe ratio (per period), observations, skewness and kurtosis of one variant's whole
    series from its ``(S, 5)`` block moments. Skewness ``m3 / m2^1.5`` and kurtosis ``m4 / m2²``
    (non-excess: 3 for a normal law) use the population central moments ``m_k``."""
    n, s1, s2, s3, s4 = np.asarray(moments, dtype=np.float64).reshape(-1, MOMENTS).sum(axis=0)
    mean = s1 / n
    m2 = s2 / n - mean ** 2
    m3 = s3 / n - 3 * mean * s2 / n + 2 * mean ** 3
    m4 = s4 / n - 4 * mean * s3 / n + 6 * mean ** 2 * s2 / n - 3 * mean ** 4
    varies = m2 > 1e-14 * max(s2 / n, 1e-300)
    return {"observations": int(n),
            "sharpe": float(sharpe_from_moments(n, s1, s2, risk_free_per_period)),
            "skew": float(m3 / m2 ** 1.5) if varies else 0.0,
            "kurtosis": float(m4 / m2 ** 2) if varies else 3.0}


def expected_max_sharpe(n_trials: int, sharpe_variance: float) -> float:
    """``SR0 = sqrt(V) ((1 - γ) Φ⁻¹(1 - 1/N) + γ Φ⁻¹(1 - 1/(N e)))``: the expected maximum of
    ``N`` per-period Sharpe ratios of skill-less trials whose Sharpe ratios vary with variance
    ``V`` (Bailey & López de Prado 2014, eq. 2). 0 for a single trial."""
    if n_trials < 1:
        raise OverfittingInputError(f"n_trials: at least 1 trial, got {n_trials}")
    if sharpe_variance < 0:
        raise OverfittingInputError(f"sharpe_variance: must be >= 0, got {sharpe_variance}")
    if n_trials == 1:
        return 0.0
    z = ((1 - EULER_GAMMA) * _NORMAL.inv_cdf(1 - 1 / n_trials)
         + EULER_GAMMA * _NORMAL.inv_cdf(1 - 1 / (n_trials * math.e)))
    return math.sqrt(sharpe_variance) * z


def probabilistic_sharpe_ratio(sharpe: float, benchmark_sharpe: float, n_obs: int,
                               skew: float, kurtosis: float) -> float:
    """``PSR = Φ((SR - SR_b) sqrt(T - 1) / sqrt(1 - γ3 SR + (γ4 - 1)/4 SR²))``: the probability
    that the true per-period Sharpe ratio exceeds ``SR_b`` given an estimate ``SR`` from ``T``
    returns of skewness ``γ3`` and (non-excess) kurtosis ``γ4`` (Bailey & López de Prado 2012)."""
    if n_obs < 2:
        raise OverfittingInputError(f"n_obs: at least 2 returns, got {n_obs}")
    spread = 1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe ** 2
    if spread <= 0:
        raise OverfittingInputError(
            f"skew {skew:g} and kurtosis {kurtosis:g} with Sharpe {sharpe:g} give a negative "
            "variance of the Sharpe estimate; the return moments are inconsistent")
    return _NORMAL.cdf((sharpe - benchmark_sharpe) * math.sqrt(n_obs - 1) / math.sqrt(spread))


def deflated_sharpe_ratio(sharpe: float, n_obs: int, skew: float, kurtosis: float,
                          n_trials: int, sharpe_variance: float) -> float:
    """The Deflated Sharpe Ratio: :func:`probabilistic_sharpe_ratio` against
    ``SR0 = expected_max_sharpe(n_trials, sharpe_variance)`` (module docstring). All Sharpe
    ratios per period (divide an annual one by sqrt(periods per year), its variance by the
    periods per year)."""
    return probabilistic_sharpe_ratio(sharpe, expected_max_sharpe(n_trials, sharpe_variance),
                                      n_obs, skew, kurtosis)


@dataclass(frozen=True)
class PBOResult:
    """Outcome of CSCV: ``pbo`` (share of logits ≤ 0), the ``logits`` of every split (ordered
    as ``itertools.combinations(range(partitions), partitions // 2)``), and the IS winner of
    each split (``chosen``)."""

    pbo: float
    logits: np.ndarray
    chosen: np.ndarray
    partitions: int

    def summary(self, bins: int = 20) -> dict[str, Any]:
        """JSON form: pbo, partitions, splits, the logits' median and histogram."""
        counts, edges = np.histogram(self.logits[np.isfinite(self.logits)], bins=bins)
        return {"pbo": float(self.pbo), "partitions": self.partitions,
                "splits": int(self.logits.size), "logit_median": float(np.median(self.logits)),
                "logit_histogram": {"edges": edges.tolist(), "counts": counts.tolist()}}


def pbo_from_moments(moments: np.ndarray, risk_free_per_period: float = 0.0) -> PBOResult:
    """PBO by CSCV (module docstring) from ``(N, S, 5)`` block moments; S even, N ≥ 2."""
    values = np.asarray(moments, dtype=np.float64)
    n_variants, partitions = values.shape[0], values.shape[1]
    if partitions < 2 or partitions % 2:
        raise OverfittingInputError(f"partitions: an even number of at least 2, got "
                                    f"{partitions}")
    if n_variants < 2:
        raise OverfittingInputError(f"PBO compares variants: at least 2, got {n_variants}")
    splits = np.array(list(itertools.combinations(range(partitions), partitions // 2)),
                      dtype=np.int64)
    position = {tuple(row): i for i, row in enumerate(splits.tolist())}
    everything = set(range(partitions))
    pairs = np.array([(i, position[tuple(sorted(everything - set(row)))])
                      for i, row in enumerate(splits.tolist()) if row[0] == 0], dtype=np.int64)
    sums = np.ascontiguousarray(values[:, :, :3])
    logits = np.empty(len(splits))
    chosen = np.empty(len(splits), dtype=np.int64)
    _cscv_kernel(sums, splits, pairs, float(risk_free_per_period), logits, chosen)
    return PBOResult(float(np.mean(logits <= 0)), logits, chosen, partitions)


def probability_of_backtest_overfitting(returns: np.ndarray,
                                        partitions: int = DEFAULT_PARTITIONS,
                                        risk_free_per_period: float = 0.0) -> PBOResult:
    """PBO by CSCV of a ``(T, N)`` matrix of per-period returns (one column per variant)."""
    return pbo_from_moments(block_moments(returns, partitions), risk_free_per_period)


def assess(moments: np.ndarray, risk_free_per_period: float = 0.0) -> dict[str, Any]:
    """The overfitting report of a search over the variants whose ``(N, S, 5)`` block moments
    are given (NaN rows: variants that did not run, left out): the selected variant (highest
    per-period Sharpe ratio of excess returns), its Deflated Sharpe Ratio and the PBO.

    Returns the JSON object a sweep result carries as ``overfitting`` (docs/results.md):
    ``trials``, ``selected`` (index into the variants), ``observations``, ``sharpe``, ``skew``,
    ``kurtosis`` (of the selection, per period), ``sharpe_variance`` (across trials, ddof 1),
    ``expected_max_sharpe`` (SR0), ``deflated_sharpe`` (a probability), ``pbo`` and its
    ``partitions``, ``splits``, ``logit_median``, ``logit_histogram``; a statistic that cannot be
    computed is null, with the reason in ``notes``.
    """
    values = np.asarray(moments, dtype=np.float64)
    valid = np.flatnonzero(np.isfinite(values).all(axis=(1, 2))) if values.size else np.array([])
    report: dict[str, Any] = {"trials": int(valid.size), "selected": None, "observations": None,
                              "sharpe": None, "skew": None, "kurtosis": None,
                              "sharpe_variance": None, "expected_max_sharpe": None,
                              "deflated_sharpe": None, "pbo": None,
                              "partitions": int(values.shape[1]) if values.ndim == 3 else None,
                              "splits": None, "logit_median": None, "logit_histogram": None,
                              "notes": []}
    if valid.size == 0:
        report["notes"].append("no variant ran")
        return report
    kept = values[valid]
    whole = kept.sum(axis=1)
    sharpes = sharpe_from_moments(whole[:, 0], whole[:, 1], whole[:, 2], risk_free_per_period)
    best = int(np.argmax(sharpes))
    stats = series_statistics(kept[best], risk_free_per_period)
    variance = float(np.var(sharpes, ddof=1)) if valid.size > 1 else 0.0
    report.update(selected=int(valid[best]), sharpe_variance=variance, **stats)
    if stats["observations"] < 2:
        report["notes"].append("deflated Sharpe: fewer than 2 returns")
    else:
        sr0 = expected_max_sharpe(int(valid.size), variance)
        report["expected_max_sharpe"] = sr0
        try:
            report["deflated_sharpe"] = probabilistic_sharpe_ratio(
                stats["sharpe"], sr0, stats["observations"], stats["skew"], stats["kurtosis"])
        except OverfittingInputError as error:
            report["notes"].append(f"deflated Sharpe: {error}")
    if valid.size < 2:
        report["notes"].append("PBO: needs at least 2 variants")
    elif (kept[:, :, 0] < 2).any():
        report["notes"].append("PBO: too few bars for the partitions (need 2 a block)")
    else:
        report.update(pbo_from_moments(kept, risk_free_per_period).summary())
    return report


def describe(report: dict[str, Any]) -> str:
    """An :func:`assess` report in plain words, e.g. "The best of 240 variants has a 62 %
    chance of being overfit (PBO); its deflated Sharpe is 0.40 (...)"."""
    trials = report.get("trials") or 0
    parts = []
    if report.get("pbo") is not None:
        parts.append(f"the best of {trials} variants has a {report['pbo'] * 100:.0f} % chance "
                     "of being overfit (PBO)")
    if report.get("deflated_sharpe") is not None:
        parts.append(f"its deflated Sharpe is {report['deflated_sharpe']:.2f}: the probability "
                     "that its true Sharpe ratio is above zero once the luck of picking the "
                     f"best of {trials} is taken out")
    text = "; ".join(parts) or "overfitting odds not available"
    notes = report.get("notes") or []
    return text[0].upper() + text[1:] + "." + (f" ({'; '.join(notes)})" if notes else "")


@numba.njit(cache=True, inline="always")
def _sharpe(n, s1, s2, rf):  # pragma: no cover - compiled
    """:func:`sharpe_from_moments` of one set of sums."""
    if n < 2:
        return 0.0
    mean = s1 / n
    variance = (s2 - n * mean * mean) / (n - 1)
    if not variance > 1e-14 * max(s2 / n, 1e-300):
        return 0.0
    return (mean - rf) / np.sqrt(variance)


@numba.njit(cache=True)
def _winner_and_logit(pick, judge):  # pragma: no cover - compiled
    """The variant with the highest ``pick`` (first on ties) and the logit of its average rank
    in ``judge`` among the N variants: ``ln(ω / (1 - ω))``, ``ω = rank / (N + 1)``."""
    best, best_value = 0, -np.inf
    for v in range(pick.shape[0]):
        if pick[v] > best_value:
            best, best_value = v, pick[v]
    below, ties = 0, 0
    target = judge[best]
    for v in range(judge.shape[0]):
        if judge[v] < target:
            below += 1
        elif judge[v] == target:
            ties += 1
    omega = (below + (ties + 1) / 2.0) / (judge.shape[0] + 1)
    return best, np.log(omega / (1.0 - omega))


@numba.njit(cache=True, parallel=True)
def _cscv_kernel(sums, splits, pairs, rf, logits, chosen):  # pragma: no cover - compiled
    """CSCV over complementary pairs of splits: ``pairs[p] = (c, c')`` where split c' puts in
    sample exactly the blocks split c leaves out, so one half's Sharpe ratios serve as IS of
    one split and OOS of the other (each half is summed once)."""
    n_variants = sums.shape[0]
    total = np.zeros((n_variants, 3))
    for v in range(n_variants):
        for b in range(sums.shape[1]):
            for k in range(3):
                total[v, k] += sums[v, b, k]
    for p in numba.prange(pairs.shape[0]):
        c = pairs[p, 0]
        first = np.empty(n_variants)
        second = np.empty(n_variants)
        for v in range(n_variants):
            a0 = a1 = a2 = 0.0
            for i in range(splits.shape[1]):
                b = splits[c, i]
                a0 += sums[v, b, 0]
                a1 += sums[v, b, 1]
                a2 += sums[v, b, 2]
            first[v] = _sharpe(a0, a1, a2, rf)
            second[v] = _sharpe(total[v, 0] - a0, total[v, 1] - a1, total[v, 2] - a2, rf)
        chosen[c], logits[c] = _winner_and_logit(first, second)
        other = pairs[p, 1]
        chosen[other], logits[other] = _winner_and_logit(second, first)


@numba.njit(cache=True, parallel=True)
def _block_moments_kernel(values, starts, sizes, out):  # pragma: no cover - compiled
    """out[j, b] = [n, Σr, Σr², Σr³, Σr⁴] of column j over rows starts[b] .. +sizes[b]; one
    block per thread, rows outer and columns inner (the C order of ``values``)."""
    n_columns = values.shape[1]
    for b in numba.prange(starts.shape[0]):
        for j in range(n_columns):
            out[j, b, 0] = sizes[b]
        for t in range(starts[b], starts[b] + sizes[b]):
            for j in range(n_columns):
                r = values[t, j]
                r2 = r * r
                out[j, b, 1] += r
                out[j, b, 2] += r2
                out[j, b, 3] += r2 * r
                out[j, b, 4] += r2 * r2
