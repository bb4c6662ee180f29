"""A run's status transitions in the database, each one atomic (a conditional UPDATE).

``queued -> running`` (:func:`claim_run`, so two workers handed the same run never both execute
it), progress and heartbeats while ``running``, and ``running -> succeeded | failed | queued``
(a retry after a transient error). A run that was cancelled or deleted meanwhile keeps that
state: every transition out of ``running`` checks it, so a late result is dropped.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import traceback
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from app.models import BacktestRun, RunResult, utcnow
from app.runs.errors import (
    TRANSIENT_ERRORS,
    RunAbandoned,
    RunTimedOut,
    TransientRunError,
    internal_error_message,
    timeout_message,
)
from app.services import session_scope
from app.services.errors import ServiceError
from engine.prices import PriceDataError
from engine.spec import SpecError
from workers.runner import JobTimedOut

log = logging.getLogger(__name__)
WORKER_ID_LENGTH = 200


def worker_id() -> str:
    """``host:pid`` of this process (recorded on the runs it executes)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:WORKER_ID_LENGTH]


def claim_run(sessions: sessionmaker[Session], run_id: int
              ) -> tuple[str, dict[str, Any] | None]:
    """``queued -> running`` for this process. Returns ``(status, snapshot)``: ``running`` and
    ``{"spec", "kind", "options"}`` when claimed; otherwise the run's status (``missing`` when
    it is gone) and None."""
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
            return "missing", None
        if not claimed:
            return run.status, None
        return "running", {"spec": dict(run.spec), "kind": run.kind,
                           "options": dict(run.options or {})}


def write_progress(sessions: sessionmaker[Session], run_id: int, progress: int,
                   stage: str) -> None:
    """Progress (0-100), stage text and heartbeat of a running run; RunAbandoned if it is no
    longer running (cancelled or deleted)."""
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


def beat(sessions: sessionmaker[Session], run_id: int) -> None:
    """Refresh a running run's heartbeat."""
    with session_scope(sessions) as session:
        session.execute(
            update(BacktestRun)
            .where(BacktestRun.id == run_id, BacktestRun.status == "running")
            .values(heartbeat_at=utcnow())
            .execution_options(synchronize_session=False))


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


def run_status(sessions: sessionmaker[Session], run_id: int) -> str:
    with session_scope(sessions) as session:
        run = session.get(BacktestRun, run_id)
        return "missing" if run is None else run.status


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
    if isinstance(exc, JobTimedOut):
        message = str(exc) if isinstance(exc, RunTimedOut) and str(exc) else None
        return _fail(sessions, run_id, message or timeout_message(timeout_seconds))
    if isinstance(exc, TRANSIENT_ERRORS):
        message = user_message(exc)
        if retry_transient and (not requeue or _requeue(sessions, run_id, message)):
            raise TransientRunError(message) from exc
        return _fail(sessions, run_id, message)
    if isinstance(exc, SpecError | PriceDataError | ServiceError):
        return _fail(sessions, run_id, user_message(exc))
    log.error("run %s crashed", run_id, exc_info=exc)
    return _fail(sessions, run_id, internal_error_message(run_id),
                 detail="".join(traceback.format_exception(exc)))


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


def user_message(exc: Exception) -> str:
    """What a user reads about ``exc``: the spec's field problems, a service error's message."""
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
