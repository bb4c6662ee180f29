"""Walk-forward runs (kind ``walkforward``; result format in docs/results.md): the strategy's
spec optimised over ``options.grid`` on each in-sample window and traded on the next
out-of-sample one, by ``engine.walkforward.run_walkforward`` with the options of
``engine.options.WalkForwardOptions`` (validated when the run is created).

Progress: 10 % once the prices are loaded, then through the folds up to 95 %. The run's summary
``metrics`` are the stitched out-of-sample metrics plus ``folds``, ``efficiency`` and
``param_stability`` (the mean over grid keys of the share of folds choosing the key's most
frequent value).
"""

from __future__ import annotations

from typing import Any

from app.runs.state import finite_json
from app.runs.task import RunTask
from app.services.errors import InvalidInputError
from engine.options import WalkForwardOptions, parse_options
from engine.spec import parse_spec


def summary_metrics(document: dict[str, Any]) -> dict[str, Any]:
    """Stitched OOS metrics, fold count, walk-forward efficiency and parameter stability."""
    shares = [entry["mode_share"] for entry in document["stability"].values()]
    return {**document["oos_metrics"], "folds": len(document["folds"]),
            "efficiency": document["efficiency"],
            "param_stability": sum(shares) / len(shares) if shares else None}


def handle(task: RunTask) -> tuple[dict[str, Any], dict[str, Any]]:
    from engine.sweep import GridError  # heavy imports (numba); only workers need them
    from engine.walkforward import WalkForwardError, run_walkforward

    spec = parse_spec(task.spec)
    options = parse_options(WalkForwardOptions, task.options)
    prices, benchmark = task.load_prices(spec)
    task.progress(10, "walking forward")

    def report(fraction: float, stage: str) -> None:
        task.check_deadline()
        task.progress(10 + int(85 * fraction), stage)

    try:
        result = run_walkforward(spec, prices, options.grid, **options.engine_kwargs(),
                                 benchmark_prices=benchmark, risk_free=task.risk_free_rate,
                                 progress=report)
    except (GridError, WalkForwardError) as error:
        raise InvalidInputError(f"invalid walk-forward: {error}") from None
    task.progress(97, "saving results")
    document = finite_json(result.to_dict())
    return document, summary_metrics(document)
