"""Stress runs (kind ``stress``, result contract §3b): historical replays of the scenario library
and the user's windows, shock transplants and a Monte Carlo, by ``engine.stress.run_stress``.

Options (all optional; checked when the run is created, so a bad value answers 422 with
``fields["options.<name>"]``):

``scenarios`` library ids to replay (default all; ``[]`` none) · ``custom_scenarios`` the user's
windows ``[{"id", "start", "end", "name"?, "description"?}]`` · ``transplants`` library ids to
append after the history (default ``engine.stress.DEFAULT_TRANSPLANTS``) · ``transplant_source``
``benchmark`` or ``symbol`` · ``paths`` (default 1,000; 0 skips the Monte Carlo),
``horizon_days`` (252), ``block_length`` (20), ``seed`` (0), ``vol_multiplier`` (1),
``gap_pct`` and ``gap_day`` (a one-day gap) · ``entry`` ``flat`` or ``carry``.

Progress: 10 % once the prices are loaded, then one step per scenario and per chunk of Monte
Carlo paths up to 95 %. The run's summary ``metrics`` are :func:`summary_metrics`.
"""

from __future__ import annotations

from typing import Any

from app.services.errors import InvalidInputError
from app.services.run_executor import RUN_HANDLERS, RunTask, finite_json
from engine.montecarlo import MAX_HORIZON_DAYS, check_monte_carlo_options
from engine.scenarios import StressInputError, parse_custom_scenarios, select_scenarios
from engine.spec import parse_spec

STRESS_OPTIONS = ("scenarios", "custom_scenarios", "transplants", "transplant_source", "paths",
                  "horizon_days", "block_length", "seed", "vol_multiplier", "gap_pct",
                  "gap_day", "entry")
_CHOICES = {"transplant_source": ("benchmark", "symbol"), "entry": ("flat", "carry")}
_WHOLE = {"seed": (0, 2**63 - 1), "gap_day": (1, MAX_HORIZON_DAYS)}  # the rest: the engine
_MC_DEFAULTS = {"paths": 1000, "horizon_days": 252, "block_length": 20, "vol_multiplier": 1.0,
                "gap_pct": None, "gap_day": 1}


def _invalid(name: str, message: str) -> InvalidInputError:
    return InvalidInputError("invalid options", {f"options.{name}": message})


def _check_ids(name: str, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, list) or not all(isinstance(i, str) for i in value):
        raise _invalid(name, "must be a list of scenario ids")
    try:
        select_scenarios(value)
    except StressInputError as error:
        raise _invalid(name, str(error)) from None


def check_stress_options(options: dict[str, Any]) -> dict[str, Any]:
    """The options of a stress run, checked (InvalidInputError naming ``options.<field>``)."""
    _check_ids("scenarios", options.get("scenarios"))
    _check_ids("transplants", options.get("transplants"))
    try:
        parse_custom_scenarios(options.get("custom_scenarios"), "custom_scenarios")
    except StressInputError as error:
        path, _, message = str(error).partition(": ")
        raise _invalid(path, message) from None
    for name, allowed in _CHOICES.items():
        if name in options and options[name] not in allowed:
            raise _invalid(name, f"must be one of {', '.join(allowed)}")
    for name, (low, high) in _WHOLE.items():
        value = options.get(name)
        if name in options and (isinstance(value, bool) or not isinstance(value, int)
                                or not low <= value <= high):
            raise _invalid(name, f"must be a whole number from {low:,} to {high:,}")
    settings = _MC_DEFAULTS | {k: v for k, v in options.items() if k in _MC_DEFAULTS}
    try:
        check_monte_carlo_options(**settings)
    except StressInputError as error:
        name, _, message = str(error).partition(": ")
        raise _invalid(name.split(" ")[0], message) from None
    return dict(options)


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


def _stress(task: RunTask) -> tuple[dict[str, Any], dict[str, Any]]:
    from engine.stress import run_stress  # heavy import (numba); only workers need it

    spec = parse_spec(task.spec)
    options = check_stress_options(task.options)
    prices, benchmark = task.load_prices(spec)
    task.progress(10, "replaying scenarios")

    def report(fraction: float, stage: str) -> None:
        task.progress(10 + int(85 * fraction), stage)

    try:
        result = run_stress(spec, prices, benchmark, **options,
                            risk_free=task.context.settings.risk_free_rate, progress=report)
    except StressInputError as error:
        raise InvalidInputError(str(error)) from None
    task.progress(97, "saving results")
    document = finite_json(result.to_dict())
    return document, summary_metrics(document)


RUN_HANDLERS["stress"] = _stress
