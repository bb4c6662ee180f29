"""Execute one run by id: the job function the worker queue calls (plain arguments, no objects).

``execute_run(run_id, context)`` loads the run and its spec snapshot, loads the prices, runs
the engine, and stores the summary metrics on the run and the full result document in
``run_results``. Status, progress (0-100) with a stage text, and timings are saved as it goes,
each in its own short transaction, so another process can poll them. A failure leaves the run
``failed`` with an error message a user can act on; unexpected errors are logged in full and
shown to the user as an internal error with the run id.

Running a run twice is harmless: only a ``queued`` run is picked up, and a run cancelled or
deleted while it executes keeps that state (its result is discarded).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from app.context import AppContext
from app.models import BacktestRun, RunResult, utcnow
from app.services import session_scope
from app.services.errors import NotFoundError, ServiceError
from app.services.prices import load_prices
from engine.prices import PriceDataError
from engine.spec import SpecError, parse_spec

log = logging.getLogger(__name__)


class RunAbandoned(Exception):
    """The run was cancelled or deleted while it executed."""


@dataclass(frozen=True)
class RunTask:
    """One run being executed, as its kind's handler sees it."""

    run_id: int
    context: AppContext
    spec: dict[str, Any]
    options: dict[str, Any]

    def progress(self, percent: int, stage: str) -> None:
        """Save progress (0-100) and a stage text; raises RunAbandoned if the run was
        cancelled or deleted meanwhile."""
        _progress(self.context.sessions, self.run_id, percent, stage)

    def load_prices(self, spec: Any) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """Bars of ``spec.symbol`` and of ``spec.benchmark`` (None when it has no data)."""
        prices = load_prices(self.context.prices, spec.symbol)
        if spec.benchmark == spec.symbol:
            return prices, None
        try:
            return prices, load_prices(self.context.prices, spec.benchmark)
        except NotFoundError:
            log.info("run %s: no prices for benchmark %s", self.run_id, spec.benchmark)
            return prices, None


def execute_run(run_id: int, context: AppContext) -> str:
    """Run ``run_id`` to completion and return its final status (``missing`` if it is gone).

    Parameters
    ----------
    run_id : id of a :class:`~app.models.BacktestRun` in status ``queued``.
    context : the application's backends: database sessions, the price service, and the
        settings (``risk_free_rate``, the ANNUAL rate for Sharpe, Sortino and alpha).
    """
    sessions = context.sessions
    with session_scope(sessions) as session:
        run = session.get(BacktestRun, run_id)
        if run is None:
            log.warning("run %s: not found, nothing to execute", run_id)
            return "missing"
        if run.status != "queued":
            return run.status
        run.status, run.started_at = "running", utcnow()
        run.progress, run.stage = 5, "loading prices"
        spec_snapshot, kind, options = dict(run.spec), run.kind, dict(run.options or {})
    try:
        handler = RUN_HANDLERS.get(kind)
        if handler is None:
            raise ServiceError(f"runs of kind {kind!r} cannot be executed by this version")
        document, metrics = handler(RunTask(run_id, context, spec_snapshot, options))
    except RunAbandoned:
        return _status(sessions, run_id)
    except (SpecError, PriceDataError, ServiceError) as exc:
        return _fail(sessions, run_id, _user_message(exc))
    except Exception:  # the worker must record every failure, and the log gets the traceback
        log.exception("run %s: backtest crashed", run_id)
        return _fail(sessions, run_id, f"the backtest failed with an internal error (run "
                                       f"{run_id}); the server log has the details")
    with session_scope(sessions) as session:
        run = session.get(BacktestRun, run_id)
        if run is None or run.status != "running":
            return "missing" if run is None else run.status
        run.metrics = metrics
        run.result = RunResult.pack(document)
        run.status, run.progress, run.stage = "succeeded", 100, "done"
        run.finished_at = utcnow()
    return "succeeded"


def _backtest(task: RunTask) -> tuple[dict[str, Any], dict[str, Any]]:
    from engine.backtest import run_backtest  # heavy import (numba); only workers need it

    spec = parse_spec(task.spec)
    prices, benchmark = task.load_prices(spec)
    task.progress(30, "running backtest")
    result = run_backtest(spec, prices, benchmark,
                          risk_free=task.context.settings.risk_free_rate)
    task.progress(90, "saving results")
    document = finite_json(result.to_dict())
    return document, document["metrics"]


#: What executes each run kind: ``handler(task) -> (result document, summary metrics)``.
#: A handler reports progress with ``task.progress(percent, stage)``, which raises
#: :class:`RunAbandoned` when the run was cancelled or deleted meanwhile.
RUN_HANDLERS: dict[str, Callable[[RunTask], tuple[dict[str, Any], dict[str, Any]]]] = {
    "backtest": _backtest,
}


def _progress(sessions: sessionmaker[Session], run_id: int, progress: int, stage: str) -> None:
    with session_scope(sessions) as session:
        run = session.get(BacktestRun, run_id)
        if run is None or run.status != "running":
            raise RunAbandoned
        run.progress, run.stage = progress, stage


def _fail(sessions: sessionmaker[Session], run_id: int, message: str) -> str:
    with session_scope(sessions) as session:
        run = session.get(BacktestRun, run_id)
        if run is None:
            return "missing"
        if run.status != "running":
            return run.status
        run.status, run.stage, run.error = "failed", "failed", message
        run.finished_at = utcnow()
    return "failed"


def _status(sessions: sessionmaker[Session], run_id: int) -> str:
    with session_scope(sessions) as session:
        run = session.get(BacktestRun, run_id)
        return "missing" if run is None else run.status


def _user_message(exc: Exception) -> str:
    if isinstance(exc, SpecError):
        problems = "; ".join(f"{path}: {message}" for path, message in exc.errors.items())
        return f"invalid strategy spec: {problems}"
    if isinstance(exc, ServiceError):
        return exc.message
    return str(exc)


def finite_json(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None (strict JSON, JSONB-safe)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(item) for item in value]
    return value
