"""Cost sensitivity and break-even costs (docs/results.md#robustness-result ``costs``,
``breakeven_bps``).

Convention: a cost of ``c`` bps is fees + slippage per side, applied as ``fees_bps = c`` with
zero slippage (one number instead of two that act almost alike). The buy-and-hold benchmark
pays the same cost (one entry fee), as in every backtest.

The grid runs from 0 to ``max_cost_bps`` in ``cost_points`` evenly spaced steps; each point is a
full backtest of the spec with that cost (docs/results.md#backtest-result metrics plus
``benchmark_cagr``).

Break-even costs are found by bisection on the strategy's CAGR minus the target:

``vs_benchmark``
    the cost at which the strategy's CAGR falls to the benchmark's CAGR (same cost);
``vs_zero``
    the cost at which its CAGR falls to 0.

The grid brackets the first crossing (the first grid point where the strategy is no longer
ahead), then bisection narrows it to :data:`BISECTION_TOLERANCE_BPS`; the reported value is
full precision (shown to 0.1 bp). ``None`` with a status when there is no crossing:
``beyond_max`` (still ahead at ``max_cost_bps``), ``behind_at_zero`` (behind even without
costs), ``no_benchmark`` (no complete benchmark to compare with).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from engine.metrics import cagr
from engine.robustness.prepared import Prepared
from engine.simulate import SimConfig

BISECTION_TOLERANCE_BPS = 1e-7
MAX_BISECTION_STEPS = 80


def cost_config(prepared: Prepared, cost_bps: float) -> SimConfig:
    """The spec's settings with ``fees_bps = cost_bps`` and no slippage."""
    return replace(prepared.config, fees_bps=float(cost_bps), slippage_bps=0.0)


def cost_grid(max_cost_bps: float, cost_points: int) -> list[float]:
    """``cost_points`` evenly spaced costs from 0 to ``max_cost_bps`` inclusive (bps)."""
    return [float(c) for c in np.linspace(0.0, max_cost_bps, cost_points)]


def cost_rows(prepared: Prepared, costs: list[float]) -> list[dict[str, Any]]:
    """One row per cost: ``{"cost_bps", "metrics", "benchmark_cagr"}``."""
    rows = []
    for cost in costs:
        config = cost_config(prepared, cost)
        metrics = prepared.metrics(prepared.simulate(config), config)
        rows.append({"cost_bps": cost, "metrics": metrics,
                     "benchmark_cagr": benchmark_cagr(prepared, config)})
    return rows


def strategy_cagr(prepared: Prepared, cost_bps: float) -> float:
    """CAGR of the spec at ``cost_bps`` (the ``cagr`` metric; -1 when the account is ruined)."""
    result = prepared.simulate(cost_config(prepared, cost_bps))
    value = cagr(result.equity, prepared.dates, prepared.initial_cash)
    return -1.0 if value is None else value


def benchmark_cagr(prepared: Prepared, config: SimConfig) -> float | None:
    """CAGR of buy-and-hold of the benchmark paying ``config``'s costs; None without a
    complete benchmark (as ``benchmark_metrics`` is then null)."""
    equity = prepared.benchmark_equity(config)
    if equity is None or np.isnan(equity).any():
        return None
    return cagr(equity, prepared.dates, config.initial_cash)


def breakeven(prepared: Prepared, rows: list[dict[str, Any]]
              ) -> tuple[dict[str, float | None], dict[str, str]]:
    """``({"vs_benchmark": bps | None, "vs_zero": bps | None}, statuses)`` (module docstring)."""
    values: dict[str, float | None] = {}
    statuses: dict[str, str] = {}
    costs = [row["cost_bps"] for row in rows]
    ahead_of_zero = [_cagr_of(row) for row in rows]
    values["vs_zero"], statuses["vs_zero"] = _crossing(
        prepared, costs, ahead_of_zero, lambda cost: 0.0)
    if any(row["benchmark_cagr"] is None for row in rows):
        values["vs_benchmark"], statuses["vs_benchmark"] = None, "no_benchmark"
    else:
        gaps = [_cagr_of(row) - row["benchmark_cagr"] for row in rows]
        values["vs_benchmark"], statuses["vs_benchmark"] = _crossing(
            prepared, costs, gaps,
            lambda cost: benchmark_cagr(prepared, cost_config(prepared, cost)))
    return values, statuses


def _cagr_of(row: dict[str, Any]) -> float:
    value = row["metrics"]["cagr"]
    return -1.0 if value is None else value


def _crossing(prepared: Prepared, costs: list[float], gaps: list[float], target
              ) -> tuple[float | None, str]:
    """Bisection of ``strategy_cagr(c) - target(c)`` on the first grid interval where the gap
    stops being positive."""
    if gaps[0] <= 0:
        return (0.0, "found") if gaps[0] == 0 else (None, "behind_at_zero")
    crossing = next((i for i in range(1, len(gaps)) if gaps[i] <= 0), None)
    if crossing is None:
        return None, "beyond_max"
    low, high = costs[crossing - 1], costs[crossing]
    for _ in range(MAX_BISECTION_STEPS):
        if high - low <= BISECTION_TOLERANCE_BPS:
            break
        middle = 0.5 * (low + high)
        if strategy_cagr(prepared, middle) - target(middle) > 0:
            low = middle
        else:
            high = middle
    return 0.5 * (low + high), "found"
