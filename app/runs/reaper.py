"""Abandoned-run detection: no run stays ``running`` or ``queued`` forever.

- A ``running`` run whose heartbeat is older than ``JOB_STALE_SECONDS`` (30 s; the executing
  process beats every ``JOB_HEARTBEAT_SECONDS``) and that has no job still waiting in a queue
  (the chunks of a split sweep may wait behind other jobs) lost its worker (SIGKILL, a crashed
  machine): it is failed with :data:`STOPPED_MESSAGE`.
- A split run (the chunks of a large sweep) whose heartbeat is stale while chunks are neither
  stored nor waiting lost them with their worker: those chunks are re-queued (the finished
  ones are kept), at most ``JOB_MAX_RETRIES`` times per run, then the run is failed. Chunks
  merely waiting behind other jobs keep the run alive.
- A ``queued`` run older than ``JOB_STALE_SECONDS`` whose job is gone from the queue (Redis was
  flushed or restarted without persistence; the in-process queue died with its process) is
  failed with :data:`LOST_MESSAGE`.

Both are retryable (``POST /api/v1/runs/{id}/retry``). :func:`reap` runs on its own schedule,
every :data:`REAP_EVERY_SECONDS`, in a :class:`ReaperThread`: in each ``arena worker`` (server
mode) and in the web process that runs the jobs (embedded mode). Reading a run never writes.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select, update

from app.models import BacktestRun, RunPart, utcnow
from app.runs.errors import LOST_MESSAGE, STOPPED_MESSAGE
from app.runs.queueing import part_job_id, resubmit_part, run_job_ids
from app.services import session_scope
from workers.runner import EXECUTING, WAITING

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)

REAP_EVERY_SECONDS = 10.0
MAX_RUNS_PER_PASS = 500


@dataclass
class ReapReport:
    """Run ids failed by one pass."""

    stopped: list[int] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)
    #: run id -> the chunks re-queued after their worker stopped
    requeued: dict[int, list[int]] = field(default_factory=dict)


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
        states = runner.states(run_job_ids(run_id, parts_total))
        if runner.executing_means_alive and EXECUTING in states.values():
            continue
        if parts_total:
            if _recover_parts(context, run_id, parts_total, states, stale_before, report):
                continue
        elif WAITING in states.values():
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
    if report.stopped or report.lost or report.requeued:
        log.warning("reaper: failed abandoned runs %s and lost queued runs %s; re-queued "
                    "chunks %s", report.stopped, report.lost, report.requeued)
    return report


def _recover_parts(context: AppContext, run_id: int, parts_total: int,
                   states: dict[str, str], stale_before: datetime, report: ReapReport) -> bool:
    """For a stale split run: re-queue the chunks that are neither stored nor waiting (their
    worker died) and return True while the run can go on; False when it must be failed
    (retries used up)."""
    with context.sessions() as session:
        stored = set(session.scalars(select(RunPart.part).where(RunPart.run_id == run_id)))
        attempts = session.scalar(select(BacktestRun.attempts)
                                  .where(BacktestRun.id == run_id)) or 0
    lost = [part for part in range(parts_total) if part not in stored
            and states.get(part_job_id(run_id, part)) != WAITING]
    if not lost:
        return True  # every missing chunk is waiting for a worker
    if attempts > context.settings.job_max_retries:
        return False
    stage = (f"chunk(s) {', '.join(str(p + 1) for p in lost)} re-queued after their worker "
             "stopped; waiting for a worker")
    with session_scope(context.sessions) as session:
        taken = session.execute(
            update(BacktestRun)
            .where(BacktestRun.id == run_id, BacktestRun.status == "running",
                   or_(BacktestRun.heartbeat_at.is_(None),
                       BacktestRun.heartbeat_at < stale_before))
            .values(attempts=BacktestRun.attempts + 1, heartbeat_at=utcnow(), stage=stage)
            .execution_options(synchronize_session=False)).rowcount
    if not taken:
        return True  # another reaper (or a beat) got there first
    for part in lost:
        resubmit_part(context, run_id, part, parts_total)
    report.requeued[run_id] = lost
    return True


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
