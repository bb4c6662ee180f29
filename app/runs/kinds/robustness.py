"""Robustness runs (kind ``robustness``; result format in docs/results.md,
docs/results.md#robustness-result): fill
and cost sensitivity, break-even costs, trade-order Monte Carlo, metrics under other tools'
conventions and data warnings, by ``engine.robustness.run_robustness`` with the options of
``engine.options.RobustnessOptions`` (validated when the run is created).

Progress: 10 % once the prices are loaded, then the engine's stages up to 95 %. The run's
summary ``metrics`` are :func:`summary_metrics`.
"""

from __future__ import annotations

from typing import Any

from app.runs.state import finite_json
from app.runs.task import RunTask
from engine.options import RobustnessOptions, parse_options
from engine.spec import parse_spec


def summary_metrics(document: dict[str, Any]) -> dict[str, Any]:
    """The run's summary: the spec's own CAGR and Sharpe, the worst fill assumption's CAGR,
    the break-even costs, and the trade-order Monte Carlo's median and 5th-percentile max
    drawdown."""
    own = next((row for row in document["fills"] if row["is_spec"]), document["fills"][0])
    cagrs = [row["metrics"]["cagr"] for row in document["fills"]
             if row["metrics"]["cagr"] is not None]
    metrics: dict[str, Any] = {
        "cagr": own["metrics"]["cagr"],
        "sharpe": own["metrics"]["sharpe"],
        "worst_fill_cagr": min(cagrs, default=None),
        "breakeven_bps_vs_benchmark": document["breakeven_bps"]["vs_benchmark"],
        "breakeven_bps_vs_zero": document["breakeven_bps"]["vs_zero"],
        "warnings": len(document["warnings"]),
    }
    monte_carlo = document.get("trade_monte_carlo")
    if monte_carlo:
        metrics["mc_max_drawdown_p50"] = monte_carlo["max_drawdown"]["p50"]
        metrics["mc_max_drawdown_p5"] = monte_carlo["max_drawdown"]["p5"]
    return metrics


def handle(task: RunTask) -> tuple[dict[str, Any], dict[str, Any]]:
    from engine.robustness import run_robustness  # heavy import (numba); only workers need it

    spec = parse_spec(task.spec)
    options = parse_options(RobustnessOptions, task.options)
    prices, benchmark = task.load_prices(spec)
    task.progress(10, "fill assumptions")

    def report(fraction: float, stage: str) -> None:
        task.progress(10 + int(85 * fraction), stage)

    result = run_robustness(spec, prices, benchmark, **options.engine_kwargs(),
                            risk_free=task.risk_free_rate, progress=report)
    task.progress(97, "saving results")
    document = finite_json(result.to_dict())
    return document, summary_metrics(document)
