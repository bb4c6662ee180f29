"""Execute one run by id: the job function the worker queue calls (plain arguments, no objects).

``execute_run(run_id, context)`` loads the run and its spec snapshot, loads the prices, runs
the engine, and stores the summary metrics on the run and the full result document in
``run_results``. Status, progress (0-100) with a stage text, and timings are saved as it goes,
each in its own short transaction, so another process can poll them. A failure leaves the run
``failed`` with an error message a user can act on; unexpected errors are logged in full and
shown to the user as an internal error with the run id.

Running a run twice is harmless: only a ``queued`` run is picked up (an atomic
``queued -> running`` transition, so two workers handed the same run never both execute it), and
a run cancelled or deleted while it executes keeps that state (its result is discarded).

The job layer (``workers/``) adds what a queue needs: a ``deadline`` checked at every progress
point (a run past it fails as timed out), a retry of transient data-provider outages (the run
goes back to ``queued`` and :class:`TransientRunError` tells the queue to try again later), and
a heartbeat. A handler that splits its run into several jobs raises :class:`RunDeferred`: the run
stays ``running`` and the last of those jobs finishes it.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from app.context import AppContext
from app.models import BacktestRun, RunResult, utcnow
from app.services import session_scope
from app.services.errors import NotFoundError, ServiceError, UpstreamUnavailableError
from app.services.prices import load_prices
from data.errors import ProviderUnavailableError
from engine.prices import PriceDataError
from engine.spec import SpecError, parse_spec

log = logging.getLogger(__name__)


class RunAbandoned(Exception):
    """The run was cancelled or deleted while it executed."""


class RunTimedOut(Exception):
    """The run went past its time limit (``JOB_TIMEOUT_SECONDS``)."""


class RunDeferred(Exception):  # noqa: N818 (a signal, not an error)
    """Raised by a handler that handed the rest of its run to other jobs (the run stays
    ``running``; the last of those jobs stores the result)."""


class TransientRunError(Exception):
    """A data provider was unavailable; the run is ``queued`` again and should be retried."""


#: Errors worth retrying later: the data provider could not be reached.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (UpstreamUnavailableError,
                                                 ProviderUnavailableError)
WORKER_ID_LENGTH = 200


def worker_id() -> str:
    """``host:pid`` of this process (recorded on the runs it executes)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:WORKER_ID_LENGTH]


@dataclass(frozen=True)
class RunTask:
    """One run being executed, as its kind's handler sees it.

    ``deadline`` is a ``time.monotonic()`` instant (None: no limit) that :meth:`progress`
    enforces; ``timeout_seconds`` is the limit it came from (for messages).
    """

    run_id: int
    context: AppContext
    spec: dict[str, Any]
    options: dict[str, Any]
    deadline: float | None = None
    timeout_seconds: float | None = None

    def progress(self, percent: int, stage: str) -> None:
        """Save progress (0-100) and a stage text; raises RunAbandoned if the run was
        cancelled or deleted meanwhile, RunTimedOut when it is past its deadline."""
        self.check_deadline()
        _progress(self.context.sessions, self.run_id, percent, stage)

    def check_deadline(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise RunTimedOut(timeout_message(self.timeout_seconds))

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


def execute_run(run_id: int, context: AppContext, *, deadline: float | None = None,
                timeout_seconds: float | None = None, retry_transient: bool = False) -> str:
    """Run ``run_id`` to completion and return its final status (``missing`` if it is gone).

    Parameters
    ----------
    run_id : id of a :class:`~app.models.BacktestRun` in status ``queued``.
    context : the application's backends: database sessions, the price service, and the
        settings (``risk_free_rate``, the ANNUAL rate for Sharpe, Sortino and alpha).
    deadline, timeout_seconds : a ``time.monotonic()`` instant after which the run fails as
        timed out (checked at each progress point and before the result is stored), and the
        limit it came from.
    retry_transient : when the data provider is unavailable, put the run back to ``queued``
        and raise :class:`TransientRunError` instead of failing it (the queue retries later).

    Returns ``running`` when the handler handed the run to other jobs (:class:`RunDeferred`).
    """
    sessions = context.sessions
    with session_scope(sessions) as session:
        claimed = session.execute(
            update(BacktestRun)
            .where(BacktestRun.id == run_id, BacktestRun.status == "queued")
            .values(status="running", started_at=utcnow(), heartbeat_at=utcnow(),
                    progress=5, stage="loading prices", error=None, error_detail=None,
                    worker=worker_id(), attempts=BacktestRun.attempts + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        run = session.get(BacktestRun, run_id)
        if run is None:
            log.warning("run %s: not found, nothing to execute", run_id)
            return "missing"
        if not claimed:
            return run.status
        spec_snapshot, kind, options = dict(run.spec), run.kind, dict(run.options or {})
    task = RunTask(run_id, context, spec_snapshot, options, deadline, timeout_seconds)
    try:
        handler = RUN_HANDLERS.get(kind)
        if handler is None:
            raise ServiceError(f"runs of kind {kind!r} cannot be executed by this version")
        document, metrics = handler(task)
        task.check_deadline()
    except RunDeferred:
        return "running"
    except Exception as exc:  # the worker must record every failure
        return settle_failure(sessions, run_id, exc, retry_transient=retry_transient,
                              requeue=True, timeout_seconds=timeout_seconds)
    return store_result(sessions, run_id, document, metrics)


def settle_failure(sessions: sessionmaker[Session], run_id: int, exc: Exception, *,
                   retry_transient: bool, requeue: bool,
                   timeout_seconds: float | None = None) -> str:
    """Record what ``exc`` (raised while executing run ``run_id``) means for the run, and
    return its status: failed with a message the user can act on (an unexpected error keeps
    its traceback in ``error_detail``, for admins, and in the log); unchanged after a cancel.

    A transient data-provider error with ``retry_transient`` raises :class:`TransientRunError`
    instead, after putting the run back to ``queued`` when ``requeue`` (a one-job run).
    """
    if isinstance(exc, RunAbandoned):
        return run_status(sessions, run_id)
    if isinstance(exc, RunTimedOut):
        return _fail(sessions, run_id, str(exc) or timeout_message(timeout_seconds))
    if isinstance(exc, TRANSIENT_ERRORS):
        message = _user_message(exc)
        if retry_transient and (not requeue or _requeue(sessions, run_id, message)):
            raise TransientRunError(message) from exc
        return _fail(sessions, run_id, message)
    if isinstance(exc, SpecError | PriceDataError | ServiceError):
        return _fail(sessions, run_id, _user_message(exc))
    log.error("run %s crashed", run_id, exc_info=exc)
    return _fail(sessions, run_id, internal_error_message(run_id),
                 detail="".join(traceback.format_exception(exc)))


def store_result(sessions: sessionmaker[Session], run_id: int, document: dict[str, Any],
                 metrics: dict[str, Any] | None) -> str:
    """Store a running run's result and mark it succeeded, in ONE transaction; a run that is
    no longer running (cancelled, failed, deleted) keeps its state and the result is dropped."""
    with session_scope(sessions) as session:
        if finish_run(session, run_id, "succeeded", progress=100, stage="done", metrics=metrics):
            session.add(RunResult(run_id=run_id, **packed_result(document)))
            return "succeeded"
    return run_status(sessions, run_id)


def packed_result(document: dict[str, Any]) -> dict[str, Any]:
    packed = RunResult.pack(document)
    return {"encoding": packed.encoding, "payload": packed.payload,
            "size_bytes": packed.size_bytes}


def finish_run(session: Session, run_id: int, status: str, **values: Any) -> bool:
    """``running -> status`` atomically (a conditional UPDATE); False if it was not running."""
    return bool(session.execute(
        update(BacktestRun)
        .where(BacktestRun.id == run_id, BacktestRun.status == "running")
        .values(status=status, finished_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    ).rowcount)


def timeout_message(timeout_seconds: float | None) -> str:
    limit = f" of {timeout_seconds:g} seconds" if timeout_seconds else ""
    return (f"the run took longer than its time limit{limit} and was stopped; simplify it "
            "(shorter period, fewer combinations) or ask the administrator to raise "
            "JOB_TIMEOUT_SECONDS")


def internal_error_message(run_id: int) -> str:
    return (f"the run failed with an internal error (run {run_id}); an administrator can see "
            "the details")


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
        updated = session.execute(
            update(BacktestRun)
            .where(BacktestRun.id == run_id, BacktestRun.status == "running")
            .values(progress=max(0, min(100, int(progress))), stage=stage[:200],
                    heartbeat_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if not updated:
            raise RunAbandoned


def fail_run(sessions: sessionmaker[Session], run_id: int, message: str,
             detail: str | None = None, *, statuses: tuple[str, ...] = ("running",)) -> bool:
    """Mark the run failed if its status is one of ``statuses``; False otherwise."""
    with session_scope(sessions) as session:
        return bool(session.execute(
            update(BacktestRun)
            .where(BacktestRun.id == run_id, BacktestRun.status.in_(statuses))
            .values(status="failed", stage="failed", error=message, error_detail=detail,
                    finished_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount)


def _fail(sessions: sessionmaker[Session], run_id: int, message: str,
          detail: str | None = None) -> str:
    if fail_run(sessions, run_id, message, detail):
        return "failed"
    return run_status(sessions, run_id)


def _requeue(sessions: sessionmaker[Session], run_id: int, message: str) -> bool:
    """``running -> queued`` for a retry after a transient error; False if not running."""
    with session_scope(sessions) as session:
        return bool(session.execute(
            update(BacktestRun)
            .where(BacktestRun.id == run_id, BacktestRun.status == "running")
            .values(status="queued", progress=0, stage=f"waiting to retry: {message}"[:200])
            .execution_options(synchronize_session=False)
        ).rowcount)


def run_status(sessions: sessionmaker[Session], run_id: int) -> str:
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
