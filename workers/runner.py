"""The job runner: one interface, two backends.

- :class:`workers.rq_runner.RQRunner` when ``REDIS_URL`` is set: jobs go to the RQ queues
  ``default`` (backtests, stress tests) and ``sweeps`` (sweep chunks), and ``arena worker``
  processes on any number of machines execute them.
- :class:`workers.inprocess.InProcessRunner` in the embedded default: a thread pool inside the
  web process.

Either way a job is a plain importable function that takes ids (:mod:`workers.jobs`); state
lives in the database (the run's status, progress, heartbeat) and the runner only moves ids.
Job ids are derived from the run id (``run-12``, ``run-12-part-3``), so any process can find,
cancel or check the jobs of a run without storing anything.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.context import AppContext

#: Queue of each run kind (kinds not listed go to ``default``).
QUEUE_OF_KIND = {"sweep": "sweeps"}
QUEUES = ("default", "sweeps")
#: Job states a runner reports: waiting in a queue (or for a retry), or executing.
WAITING, EXECUTING = "waiting", "executing"


@dataclass(frozen=True)
class JobRequest:
    """One job to run: ``function(*args)`` (an importable ``module.name``) on ``queue``."""

    job_id: str
    function: str
    args: tuple[Any, ...]
    queue: str = "default"
    description: str = ""
    #: retry transient data-provider errors (JOB_MAX_RETRIES times, JOB_RETRY_INTERVALS apart)
    retry_transient: bool = True
    meta: dict[str, Any] = field(default_factory=dict)


def run_job_id(run_id: int) -> str:
    return f"run-{run_id}"


def part_job_id(run_id: int, part: int) -> str:
    return f"run-{run_id}-part-{part}"


def run_job_ids(run_id: int, parts_total: int | None) -> list[str]:
    """Every job id a run may have: its own, and one per part when it is split."""
    return [run_job_id(run_id)] + [part_job_id(run_id, p) for p in range(parts_total or 0)]


def queue_for_kind(kind: str) -> str:
    return QUEUE_OF_KIND.get(kind, "default")


class JobRunner(ABC):
    """What the web layer and the reaper need from a job backend."""

    #: ``rq`` or ``in-process`` (shown by ``/api/health``)
    backend: str
    #: True when an executing job is known to be alive (it runs in this process); for RQ a
    #: "started" job may belong to a worker that was killed.
    executing_means_alive: bool = False

    @abstractmethod
    def submit(self, request: JobRequest) -> None:
        """Queue ``request`` (a job with the same id that is already waiting may run twice;
        the job functions are idempotent)."""

    @abstractmethod
    def cancel(self, job_ids: Iterable[str]) -> None:
        """Remove waiting jobs from their queue and stop executing ones (best effort: an
        executing job also stops at its next progress point once its run is cancelled)."""

    @abstractmethod
    def states(self, job_ids: Iterable[str]) -> dict[str, str]:
        """The jobs among ``job_ids`` that are still alive: id -> ``waiting`` or ``executing``
        (a job that finished, failed or vanished is absent)."""

    def owns_orphans_before(self) -> datetime | None:
        """For a runner whose queue dies with its process (in-process): when it started (UTC,
        naive), so queued runs created earlier are known to be lost. None for RQ, which
        reports every job it holds through :meth:`states`."""
        return None

    def close(self) -> None:  # noqa: B027 (optional hook: most runners hold nothing)
        """Release threads and connections (tests, shutdown)."""


def make_runner(context: AppContext) -> JobRunner:
    """The runner for ``context``'s configuration: RQ with Redis, else in-process."""
    if context.redis is None:
        from workers.inprocess import InProcessRunner

        return InProcessRunner(context)
    from workers.rq_runner import RQRunner

    return RQRunner(context.redis, context.settings)
