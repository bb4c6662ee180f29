"""Handing runs to the job layer: submit, split into parts, cancel; job ids and queues.

A submitted run is handed to the application's job runner (``AppContext.runner``): RQ queues
when ``REDIS_URL`` is set, a thread pool in this process otherwise. Either way the caller
returns at once; users poll the run (``GET /api/v1/runs/{id}``) for its status and progress.
The job functions are :func:`app.runs.jobs.run_job` and :func:`app.runs.jobs.run_part_job`,
named by their import path. Job ids derive from the run id (``run-12``, ``run-12-part-3``), so
any process can find, cancel or check a run's jobs without storing anything.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import redis
from sqlalchemy import select

from app.models import BacktestRun
from app.runs.errors import QUEUE_DOWN_MESSAGE
from app.runs.state import fail_run
from app.services.errors import UpstreamUnavailableError
from workers.runner import JobRequest

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)

RUN_JOB = "app.runs.jobs.run_job"
PART_JOB = "app.runs.jobs.run_part_job"
#: The queue of each run kind's job (``workers.runner.QUEUES``); split parts go to ``sweeps``.
QUEUE_OF_KIND = {"backtest": "default", "stress": "default", "sweep": "sweeps",
                 "robustness": "default",
                 "walkforward": "sweeps"}
PARTS_QUEUE = "sweeps"


def run_job_id(run_id: int) -> str:
    return f"run-{run_id}"


def part_job_id(run_id: int, part: int) -> str:
    return f"run-{run_id}-part-{part}"


def run_job_ids(run_id: int, parts_total: int | None) -> list[str]:
    """Every job id a run may have: its own, and one per part when it is split."""
    return [run_job_id(run_id)] + [part_job_id(run_id, p) for p in range(parts_total or 0)]


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
            run_job_id(run_id), RUN_JOB, (run_id,), queue=QUEUE_OF_KIND.get(kind, "default"),
            description=f"{kind} run {run_id}", meta={"run_id": run_id}))
    except redis.RedisError as exc:
        log.error("run %s: cannot enqueue: %s", run_id, exc)
        fail_run(context.sessions, run_id, QUEUE_DOWN_MESSAGE, f"{type(exc).__name__}: {exc}",
                 statuses=("queued",))
        raise UpstreamUnavailableError(QUEUE_DOWN_MESSAGE) from None


def submit_parts(context: AppContext, run_id: int, parts: int) -> None:
    """Enqueue the ``parts`` chunk jobs of a split run (a large sweep)."""
    for part in range(parts):
        submit_part(context, run_id, part, parts)


def submit_part(context: AppContext, run_id: int, part: int, parts: int) -> None:
    context.runner.submit(_part_request(run_id, part, parts))


def resubmit_part(context: AppContext, run_id: int, part: int, parts: int) -> None:
    """Queue a chunk again whose job was lost with its worker (any record of it is dropped)."""
    context.runner.resubmit(_part_request(run_id, part, parts))


def _part_request(run_id: int, part: int, parts: int) -> JobRequest:
    return JobRequest(part_job_id(run_id, part), PART_JOB, (run_id, part), queue=PARTS_QUEUE,
                      description=f"run {run_id}: chunk {part + 1} of {parts}",
                      meta={"run_id": run_id, "part": part})


def cancel_jobs(context: AppContext, run_id: int, parts_total: int | None) -> None:
    """Take a cancelled run's jobs off the queues and stop the ones executing (best effort:
    an executing job also stops at its next progress point, as its run is cancelled)."""
    context.runner.cancel(run_job_ids(run_id, parts_total))
