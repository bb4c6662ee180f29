"""The job layer's entry points for runs: submit, cancel, and the lazy abandoned-run check.

A submitted run is handed to the application's job runner (``AppContext.runner``): RQ queues
when ``REDIS_URL`` is set, a thread pool in this process otherwise. Either way the web request
returns at once; callers poll the run (``GET /api/v1/runs/{id}``) for its status and progress.
Backtests and stress tests go to the ``default`` queue, sweeps to ``sweeps``.
"""

from __future__ import annotations

import logging

import redis
from sqlalchemy import select

from app.context import AppContext
from app.models import BacktestRun
from app.services.errors import UpstreamUnavailableError
from app.services.run_executor import fail_run
from workers.runner import (
    JobRequest,
    part_job_id,
    queue_for_kind,
    run_job_id,
    run_job_ids,
)

log = logging.getLogger(__name__)


QUEUE_DOWN_MESSAGE = "the job queue is not reachable right now; retry the run in a moment"


def submit_run(context: AppContext, run_id: int) -> None:
    """Hand run ``run_id`` (status queued, committed) to the job runner.

    Raises UpstreamUnavailableError (after failing the run, so it can be retried) when the
    queue cannot be reached.
    """
    with context.sessions() as session:
        kind = session.scalar(select(BacktestRun.kind).where(BacktestRun.id == run_id))
    if kind is None:
        return
    try:
        context.runner.submit(JobRequest(
            run_job_id(run_id), "workers.jobs.run_job", (run_id,), queue=queue_for_kind(kind),
            description=f"{kind} run {run_id}", meta={"run_id": run_id}))
    except redis.RedisError as exc:
        log.error("run %s: cannot enqueue: %s", run_id, exc)
        fail_run(context.sessions, run_id, QUEUE_DOWN_MESSAGE, f"{type(exc).__name__}: {exc}",
                 statuses=("queued",))
        raise UpstreamUnavailableError(QUEUE_DOWN_MESSAGE) from None


def submit_parts(context: AppContext, run_id: int, parts: int) -> None:
    """Enqueue the ``parts`` chunk jobs of a split run (a large sweep) on ``sweeps``."""
    for part in range(parts):
        context.runner.submit(JobRequest(
            part_job_id(run_id, part), "workers.jobs.run_part_job", (run_id, part),
            queue="sweeps", description=f"run {run_id}: chunk {part + 1} of {parts}",
            meta={"run_id": run_id, "part": part}))


def cancel_jobs(context: AppContext, run_id: int, parts_total: int | None) -> None:
    """Take a cancelled run's jobs off the queues and stop the ones executing (best effort:
    an executing job also stops at its next progress point, as its run is cancelled)."""
    context.runner.cancel(run_job_ids(run_id, parts_total))


def check_abandoned_runs(context: AppContext) -> None:
    """Fail runs whose worker died or whose job vanished (throttled; see workers.reaper)."""
    from workers.reaper import maybe_reap

    maybe_reap(context)
