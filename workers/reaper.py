"""Abandoned-run detection: no run stays ``running`` or ``queued`` forever.

- A ``running`` run whose heartbeat is older than ``JOB_STALE_SECONDS`` (30 s; the executing
  process beats every ``JOB_HEARTBEAT_SECONDS``) and that has no job still waiting in a queue
  (the chunks of a split sweep may wait behind other jobs) lost its worker (SIGKILL, a crashed
  machine): it is failed with :data:`STOPPED_MESSAGE`.
- A ``queued`` run older than ``JOB_STALE_SECONDS`` whose job is gone from the queue (Redis was
  flushed or restarted without persistence; the in-process queue died with its process) is
  failed with :data:`LOST_MESSAGE`.

Both are retryable (``POST /api/v1/runs/{id}/retry``). :func:`reap` runs every
:data:`REAP_EVERY_SECONDS` in each ``arena worker`` (:class:`ReaperThread`) and, throttled, when
the API reads runs (:func:`maybe_reap`), so a lone killed worker is still detected within a
minute.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

from app.context import AppContext
from app.models import BacktestRun, utcnow
from app.services import session_scope
from workers.runner import EXECUTING, WAITING, run_job_ids

log = logging.getLogger(__name__)

STOPPED_MESSAGE = "the worker stopped while running this job; retry it"
LOST_MESSAGE = ("this run's job was lost from the queue before a worker started it (the queue "
                "was reset or the server restarted); retry it")
REAP_EVERY_SECONDS = 10.0
MAX_RUNS_PER_PASS = 500


@dataclass
class ReapReport:
    """Run ids failed by one pass."""

    stopped: list[int] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)


def reap(context: AppContext) -> ReapReport:
    """One pass over the runs of every user (see the module docstring)."""
    settings, runner = context.settings, context.runner
    stale_before = utcnow() - timedelta(seconds=settings.job_stale_seconds)
    report = ReapReport()
    with context.sessions() as session:
        running = session.execute(
            select(BacktestRun.id, BacktestRun.parts_total, BacktestRun.worker,
                   BacktestRun.heartbeat_at)
            .where(BacktestRun.status == "running",
                   or_(BacktestRun.heartbeat_at < stale_before,
                       and_(BacktestRun.heartbeat_at.is_(None),
                            BacktestRun.created_at < stale_before)))
            .limit(MAX_RUNS_PER_PASS)).all()
        queued_before = stale_before
        orphans_before = runner.owns_orphans_before()
        if orphans_before is not None:
            queued_before = min(queued_before, orphans_before)
        queued = session.execute(
            select(BacktestRun.id, BacktestRun.parts_total, BacktestRun.worker,
                   BacktestRun.heartbeat_at)
            .where(BacktestRun.status == "queued", BacktestRun.created_at < queued_before)
            .limit(MAX_RUNS_PER_PASS)).all()
    for run_id, parts_total, worker, heartbeat_at in running:
        states = runner.states(run_job_ids(run_id, parts_total)).values()
        if WAITING in states or (runner.executing_means_alive and EXECUTING in states):
            continue
        detail = (f"reaper: no heartbeat since {heartbeat_at} UTC from worker {worker} "
                  f"({runner.backend} runner)")
        if _fail_if(context, run_id, "running", STOPPED_MESSAGE, detail, stale_before):
            report.stopped.append(run_id)
    for run_id, parts_total, _worker, _heartbeat in queued:
        if runner.states(run_job_ids(run_id, parts_total)):
            continue
        detail = f"reaper: no job of this run in the {runner.backend} queue"
        if _fail_if(context, run_id, "queued", LOST_MESSAGE, detail, None):
            report.lost.append(run_id)
    if report.stopped or report.lost:
        log.warning("reaper: failed abandoned runs %s and lost queued runs %s",
                    report.stopped, report.lost)
    return report


def _fail_if(context: AppContext, run_id: int, status: str, message: str, detail: str,
             stale_before: datetime | None) -> bool:
    """Fail the run if it is still in ``status`` (and, for a running run, still stale)."""
    condition = [BacktestRun.id == run_id, BacktestRun.status == status]
    if stale_before is not None:
        condition.append(or_(BacktestRun.heartbeat_at.is_(None),
                             BacktestRun.heartbeat_at < stale_before))
    with session_scope(context.sessions) as session:
        return bool(session.execute(
            update(BacktestRun).where(*condition)
            .values(status="failed", stage="failed", error=message, finished_at=utcnow(),
                    error_detail=detail)
            .execution_options(synchronize_session=False)).rowcount)


_last_reap: dict[int, float] = {}
_last_reap_lock = threading.Lock()


def maybe_reap(context: AppContext, every_seconds: float = REAP_EVERY_SECONDS / 2) -> None:
    """:func:`reap` unless this context reaped less than ``every_seconds`` ago (cheap enough
    to call on every API read). Never raises: reaping is a side job of the request."""
    now = time.monotonic()
    with _last_reap_lock:
        if now - _last_reap.get(id(context), -every_seconds) < every_seconds:
            return
        _last_reap[id(context)] = now
    try:
        reap(context)
    except Exception:
        log.warning("reaper pass failed", exc_info=True)


class ReaperThread:
    """:func:`reap` every ``every_seconds`` in a daemon thread (inside ``arena worker``)."""

    def __init__(self, context: AppContext, every_seconds: float = REAP_EVERY_SECONDS) -> None:
        self.context, self.every_seconds = context, every_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="arena-reaper", daemon=True)

    def start(self) -> ReaperThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self.every_seconds):
            try:
                reap(self.context)
            except Exception:
                log.warning("reaper pass failed", exc_info=True)
