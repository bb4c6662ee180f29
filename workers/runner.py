"""The job runner: one interface, two backends, and nothing about what the jobs do.

- :class:`workers.rq_runner.RQRunner` when a Redis connection is given: jobs go to the RQ queues
  ``default`` and ``sweeps``, and worker processes (:mod:`workers.worker`) on any number of
  machines execute them.
- :class:`workers.inprocess.InProcessRunner` otherwise: a thread pool inside this process.

A job is a plain importable function named by its path (``"package.module.function"``, the RQ
habit) called with plain arguments. The job-function protocol that both runners follow:

- the runner calls ``function(*args, retries_left=N, **job_kwargs)``: ``retries_left`` is how
  many more times the runner will retry it (RQ passes nothing: the function asks
  ``rq.get_current_job()``), ``job_kwargs`` what the in-process runner was built with (e.g. the
  application's context, so jobs share its connections);
- raising :class:`RetryLater` asks for a retry after ``retry_intervals`` (a transient outage);
  every other failure is the job's own business to record;
- a job past its time limit is stopped with :class:`JobTimedOut` (a subclass, by RQ's hard
  timeout backstop).

Job ids are chosen by the caller and are stable, so any process can find, cancel or check a job.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: The queues, in the priority order a worker works them.
QUEUES = ("default", "sweeps")
#: Job states a runner reports: waiting in a queue (or for a retry), or executing.
WAITING, EXECUTING = "waiting", "executing"


class RetryLater(Exception):  # noqa: N818 (a request, not an error)
    """Raised by a job function to be retried later (``max_retries`` times at most)."""


class JobTimedOut(Exception):
    """A job went past its time limit."""


@dataclass(frozen=True)
class RunnerConfig:
    """How jobs are run: ``timeout_seconds`` per job, up to ``max_retries`` retries
    ``retry_intervals`` seconds apart (the last interval repeats), RQ's record TTLs,
    ``threads`` of the in-process runner and a ``queue_prefix`` for queue names and job ids
    (deployments or test sessions sharing one Redis)."""

    timeout_seconds: float = 600
    max_retries: int = 3
    retry_intervals: tuple[int, ...] = (5, 15, 60)
    result_ttl_seconds: int = 86400
    failure_ttl_seconds: int = 604800
    threads: int = 2
    queue_prefix: str = ""


@dataclass(frozen=True)
class JobRequest:
    """One job to run: ``function(*args)`` (an importable ``module.name``) on ``queue``."""

    job_id: str
    function: str
    args: tuple[Any, ...]
    queue: str = "default"
    description: str = ""
    #: whether a :class:`RetryLater` from the function is retried
    retry_transient: bool = True
    meta: dict[str, Any] = field(default_factory=dict)


class JobRunner(ABC):
    """What the callers (submitting, cancelling, checking jobs) need from a job backend."""

    #: ``rq`` or ``in-process`` (shown by ``/api/health``)
    backend: str
    #: True when an executing job is known to be alive (it runs in this process); for RQ a
    #: "started" job may belong to a worker that was killed.
    executing_means_alive: bool = False

    @abstractmethod
    def submit(self, request: JobRequest) -> None:
        """Queue ``request`` (a job with the same id that is already waiting may run twice;
        job functions must be idempotent)."""

    def resubmit(self, request: JobRequest) -> None:
        """Queue ``request`` again after its job was lost (its worker died): whatever the
        backend still records of the old job is dropped first."""
        self.submit(request)

    @abstractmethod
    def cancel(self, job_ids: Iterable[str]) -> None:
        """Remove waiting jobs from their queue and stop executing ones (best effort)."""

    @abstractmethod
    def states(self, job_ids: Iterable[str]) -> dict[str, str]:
        """The jobs among ``job_ids`` that are still alive: id -> ``waiting`` or ``executing``
        (a job that finished, failed or vanished is absent)."""

    def owns_orphans_before(self) -> datetime | None:
        """For a runner whose queue dies with its process (in-process): when it started (UTC,
        naive), so work submitted earlier is known to be lost. None for RQ, which reports every
        job it holds through :meth:`states`."""
        return None

    def close(self) -> None:  # noqa: B027 (optional hook: most runners hold nothing)
        """Release threads and connections (tests, shutdown)."""
