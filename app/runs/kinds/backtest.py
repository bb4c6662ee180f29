"""Backtest runs (kind ``backtest``; the result format is described in docs/results.md)."""

from __future__ import annotations

from typing import Any

from app.runs.state import finite_json
from app.runs.task import RunTask
from engine.spec import parse_spec


def handle(task: RunTask) -> tuple[dict[str, Any], dict[str, Any]]:
    from engine.backtest import run_backtest  # heavy import (numba); only workers need it

    spec = parse_spec(task.spec)
    prices, benchmark = task.load_prices(spec)
    task.progress(30, "running backtest")
    result = run_backtest(spec, prices, benchmark, risk_free=task.risk_free_rate)
    task.progress(90, "saving results")
    document = finite_json(result.to_dict())
    return document, document["metrics"]
