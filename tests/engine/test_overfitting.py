"""Deflated Sharpe Ratio and PBO (engine.overfitting): the papers' worked case, hand-worked
CSCV splits, an independent plain-Python implementation, and the behaviour on noise vs a real
edge."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from engine.overfitting import (
    assess,
    block_moments,
    deflated_sharpe_ratio,
    describe,
    expected_max_sharpe,
    probability_of_backtest_overfitting,
    series_statistics,
)

# ---------------------------------------------------------------------------------------------
# an independent implementation: erf for Φ, bisection for Φ⁻¹, loops over the raw returns


def phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def phi_inverse(p: float) -> float:
    low, high = -40.0, 40.0
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if phi(mid) < p else (low, mid)
    return (low + high) / 2


def reference_dsr(returns: np.ndarray, all_sharpes: list[float]) -> float:
    n = len(returns)
    mean, std = returns.mean(), returns.std(ddof=1)
    sharpe = mean / std
    centred = returns - mean
    m2 = (centred ** 2).mean()
    skew = (centred ** 3).mean() / m2 ** 1.5
    kurt = (centred ** 4).mean() / m2 ** 2
    trials = len(all_sharpes)
    variance = np.var(all_sharpes, ddof=1)
    gamma = 0.5772156649015329
    sr0 = math.sqrt(variance) * ((1 - gamma) * phi_inverse(1 - 1 / trials)
                                 + gamma * phi_inverse(1 - 1 / (trials * math.e)))
    z = (sharpe - sr0) * math.sqrt(n - 1) / math.sqrt(1 - skew * sharpe
                                                       + (kurt - 1) / 4 * sharpe ** 2)
    return phi(z)


def reference_pbo(returns: np.ndarray, partitions: int) -> float:
    blocks = np.array_split(np.arange(len(returns)), partitions)
    overfit = 0
    splits = list(itertools.combinations(range(partitions), partitions // 2))
    for chosen in splits:
        inside = np.concatenate([blocks[b] for b in chosen])
        outside = np.concatenate([blocks[b] for b in range(partitions) if b not in chosen])
        sharpe_in = [returns[inside, j].mean() / returns[inside, j].std(ddof=1)
                     for j in range(returns.shape[1])]
        sharpe_out = [returns[outside, j].mean() / returns[outside, j].std(ddof=1)
                      for j in range(returns.shape[1])]
        best = int(np.argmax(sharpe_in))
        rank = 1 + sum(s < sharpe_out[best] for s in sharpe_out)  # no ties in random data
        omega = rank / (returns.shape[1] + 1)
        overfit += math.log(omega / (1 - omega)) <= 0
    return overfit / len(splits)


# ---------------------------------------------------------------------------------------------
# Deflated Sharpe Ratio


def test_dsr_reproduces_the_papers_numerical_example():
    # Bailey & López de Prado (2014), section "A numerical example": N = 100 trials, annualised
    # variance of their Sharpe ratios 1/2, best annualised Sharpe 2.5 over T = 1250 daily
    # returns (250 a year) with skew -3 and kurtosis 10.
    # Per day: V = 0.5 / 250 = 0.002, SR* = 2.5 / sqrt(250) = 0.15811.
    # SR0 = sqrt(0.002) (0.42278 Φ⁻¹(0.99) + 0.57722 Φ⁻¹(1 - 1/(100e)))
    #     = 0.044721 (0.42278 x 2.32635 + 0.57722 x 2.67995) = 0.1132  (paper: 0.1132)
    # DSR = Φ((0.15811 - 0.11317) sqrt(1249) / sqrt(1 + 3 x 0.15811 + 9/4 x 0.15811²))
    #     = Φ(1.5883 / 1.2372) = Φ(1.2838) = 0.9004  (paper: 0.9004)
    variance, sharpe = 0.5 / 250, 2.5 / math.sqrt(250)
    assert expected_max_sharpe(100, variance) == pytest.approx(0.1132, abs=5e-5)
    assert deflated_sharpe_ratio(sharpe, 1250, -3, 10, 100, variance) == pytest.approx(
        0.9004, abs=5e-5)


def test_dsr_of_one_trial_is_the_probabilistic_sharpe_against_zero():
    # Normal returns (skew 0, kurtosis 3), SR = 0.1 over 101 returns: Φ(0.1 x 10 / sqrt(1 +
    # 0.5 x 0.01)) = Φ(0.99751) = 0.84074
    assert deflated_sharpe_ratio(0.1, 101, 0.0, 3.0, 1, 0.0) == pytest.approx(
        phi(1 / math.sqrt(1.005)), abs=1e-12)


def test_dsr_and_moments_match_an_independent_implementation():
    rng = np.random.default_rng(7)
    returns = rng.standard_t(5, size=(1500, 40)) * 0.01 + 0.0003
    moments = block_moments(returns, 10)
    report = assess(moments)
    sharpes = [returns[:, j].mean() / returns[:, j].std(ddof=1) for j in range(40)]
    best = int(np.argmax(sharpes))
    assert report["selected"] == best
    assert report["trials"] == 40
    assert report["sharpe"] == pytest.approx(sharpes[best], rel=1e-9)
    statistics = series_statistics(moments[best])
    centred = returns[:, best] - returns[:, best].mean()
    assert statistics["skew"] == pytest.approx(
        (centred ** 3).mean() / (centred ** 2).mean() ** 1.5, rel=1e-6)
    assert statistics["kurtosis"] == pytest.approx(
        (centred ** 4).mean() / (centred ** 2).mean() ** 2, rel=1e-6)
    assert report["deflated_sharpe"] == pytest.approx(reference_dsr(returns[:, best], sharpes),
                                                      abs=1e-7)


def test_more_trials_deflate_the_same_sharpe_more():
    few = deflated_sharpe_ratio(0.08, 1000, 0.0, 3.0, 10, 0.001)
    many = deflated_sharpe_ratio(0.08, 1000, 0.0, 3.0, 1000, 0.001)
    assert many < few


# ---------------------------------------------------------------------------------------------
# PBO by CSCV


def test_pbo_is_one_when_the_in_sample_winner_always_loses_out_of_sample():
    # Two blocks, two variants. A gains in block 1 and loses in block 2; B the reverse.
    # Split IS = {1}: A wins IS, ranks 1 of 2 OOS: ω = 1/3, λ = ln(1/2) < 0.
    # Split IS = {2}: B wins IS, ranks 1 of 2 OOS: λ = ln(1/2) < 0.  PBO = 2/2 = 1.
    a = [0.02, 0.01, 0.03, -0.02, -0.01, -0.03]
    b = [-0.02, -0.01, -0.03, 0.02, 0.01, 0.03]
    result = probability_of_backtest_overfitting(np.array([a, b]).T, partitions=2)
    assert result.pbo == 1.0
    np.testing.assert_allclose(result.logits, [math.log(0.5)] * 2)
    assert result.chosen.tolist() == [0, 1]


def test_pbo_is_zero_when_one_variant_is_best_in_every_block():
    # A beats B in both blocks: each split picks A, which ranks 2 of 2 OOS: ω = 2/3, λ = ln 2.
    a = [0.02, 0.01, 0.03, 0.02, 0.01, 0.03]
    b = [0.01, -0.01, 0.0, 0.0, -0.02, 0.01]
    result = probability_of_backtest_overfitting(np.array([a, b]).T, partitions=2)
    assert result.pbo == 0.0
    np.testing.assert_allclose(result.logits, [math.log(2)] * 2)


def test_pbo_matches_an_independent_implementation():
    rng = np.random.default_rng(3)
    returns = rng.normal(0.0002, 0.01, size=(803, 25))  # 803: blocks of unequal size
    expected = reference_pbo(returns, 8)
    assert probability_of_backtest_overfitting(returns, partitions=8).pbo == pytest.approx(
        expected, abs=1e-12)


def test_pbo_of_pure_noise_is_about_one_half_or_more():
    rng = np.random.default_rng(11)
    returns = rng.normal(0.0, 0.01, size=(2000, 200))
    assert probability_of_backtest_overfitting(returns, partitions=16).pbo >= 0.35


def test_pbo_of_a_planted_real_edge_is_low():
    rng = np.random.default_rng(11)
    returns = rng.normal(0.0, 0.01, size=(2000, 200))
    returns[:, 42] += 0.0015  # Sharpe of about 2.4 a year, among 199 skill-less variants
    result = probability_of_backtest_overfitting(returns, partitions=16)
    assert result.pbo < 0.05
    assert (result.chosen == 42).mean() > 0.9


def test_block_moments_sum_to_the_whole_series():
    returns = np.random.default_rng(1).normal(size=(101, 3))
    moments = block_moments(returns, 4)
    assert moments[0, :, 0].tolist() == [26, 25, 25, 25]
    whole = moments.sum(axis=1)
    for k in range(1, 5):
        np.testing.assert_allclose(whole[:, k], (returns ** k).sum(axis=0))


def test_assess_leaves_out_variants_that_did_not_run_and_says_why_pbo_is_missing():
    moments = block_moments(np.random.default_rng(2).normal(size=(64, 3)) * 0.01, 16)
    moments[1] = np.nan
    report = assess(moments)
    assert report["trials"] == 2
    assert report["selected"] in (0, 2)
    assert report["pbo"] is not None
    lone = assess(moments[:1])
    assert lone["pbo"] is None and "PBO: needs at least 2 variants" in lone["notes"]


def test_describe_reads_the_report_in_plain_words():
    text = describe({"trials": 240, "pbo": 0.62, "deflated_sharpe": 0.4, "notes": []})
    assert text.startswith("The best of 240 variants has a 62 % chance of being overfit (PBO); "
                           "its deflated Sharpe is 0.40")
    assert describe({"trials": 1, "pbo": None, "deflated_sharpe": None,
                     "notes": ["PBO: needs at least 2 variants"]}) == (
        "Overfitting odds not available. (PBO: needs at least 2 variants)")
