"""Stress runs (kind ``stress``; result format in docs/results.md): historical replays of the
scenario library and the user's windows, shock transplants and a Monte Carlo, by
``engine.stress.run_stress``, with the options of ``engine.options.StressOptions`` (validated
when the run is created).

Progress: 10 % once the prices are loaded, then one step per scenario and per chunk of Monte
Carlo paths up to 95 %. The run's summary ``metrics`` are :func:`summary_metrics`.
"""

from __future__ import annotations

from typing import Any

from app.runs.state import finite_json
from app.runs.task import RunTask
from app.services.errors import InvalidInputError
from engine.options import StressOptions, parse_options
from engine.scenarios import StressInputError
from engine.spec import parse_spec


def summary_metrics(document: dict[str, Any]) -> dict[str, Any]:
    """The run's summary: how many crises (windows where the benchmark fell) the strategy
    lost less in, its worst scenario, and the Monte Carlo's median and 5th percentile."""
    replays = [s for s in document["scenarios"]
               if s["kind"] != "transplant" and s["benchmark"] is not None]
    crises = [s for s in replays if s["benchmark"]["return"] < 0]
    worst = min(document["scenarios"], key=lambda s: s["strategy"]["return"], default=None)
    metrics: dict[str, Any] = {
        "scenarios": len(document["scenarios"]),
        "crises": len(crises),
        "crises_lost_less": sum(s["strategy"]["return"] > s["benchmark"]["return"]
                                for s in crises),
        "worst_scenario": worst["id"] if worst else None,
        "worst_return": worst["strategy"]["return"] if worst else None,
        "worst_max_drawdown": min((s["strategy"]["max_drawdown"]
                                   for s in document["scenarios"]), default=None),
    }
    monte_carlo = document.get("monte_carlo")
    if monte_carlo:
        metrics["mc_final_return_p5"] = monte_carlo["final_return"]["p5"]
        metrics["mc_final_return_p50"] = monte_carlo["final_return"]["p50"]
        metrics["mc_max_drawdown_p50"] = monte_carlo["max_drawdown"]["p50"]
    return metrics


def handle(task: RunTask) -> tuple[dict[str, Any], dict[str, Any]]:
    from engine.stress import run_stress  # heavy import (numba); only workers need it

    spec = parse_spec(task.spec)
    options = parse_options(StressOptions, task.options)
    prices, benchmark = task.load_prices(spec)
    task.progress(10, "replaying scenarios")

    def report(fraction: float, stage: str) -> None:
        task.progress(10 + int(85 * fraction), stage)

    try:
        result = run_stress(spec, prices, benchmark, **options.engine_kwargs(),
                            risk_free=task.risk_free_rate, progress=report)
    except StressInputError as error:
        raise InvalidInputError(str(error)) from None
    task.progress(97, "saving results")
    document = finite_json(result.to_dict())
    return document, summary_metrics(document)
