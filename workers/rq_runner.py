"""The RQ backend: queues in Redis, ``arena worker`` processes execute the jobs.

Queues are ``default`` (backtests, stress tests) and ``sweeps`` (sweep chunks). Queue names and
job ids are prefixed with ``ARENA_QUEUE_PREFIX``, so several deployments (or test sessions), each
with its own database and thus its own run ids, can share one Redis. Every job gets the time
limit ``JOB_TIMEOUT_SECONDS`` (enforced by the job at its progress points; RQ stops it
:data:`HARD_TIMEOUT_GRACE_SECONDS` later as a backstop), result TTLs, and up to
``JOB_MAX_RETRIES`` retries ``JOB_RETRY_INTERVALS`` apart, which only a transient data error
triggers (every other failure is recorded on the run by the job itself, and the job finishes).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import redis
from rq import Queue, Retry, SimpleWorker, Worker
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus
from rq.timeouts import JobTimeoutException, TimerDeathPenalty, UnixSignalDeathPenalty

from app.services.run_executor import RunTimedOut, fail_run, timeout_message
from workers.runner import EXECUTING, QUEUES, WAITING, JobRequest, JobRunner

if TYPE_CHECKING:
    from app.config import Settings
    from app.context import AppContext

log = logging.getLogger(__name__)

HARD_TIMEOUT_GRACE_SECONDS = 30
_WAITING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
_EXECUTING = {JobStatus.STARTED}


def queue_name(settings: Settings, name: str) -> str:
    """The Redis name of the logical queue ``name`` (``default`` or ``sweeps``)."""
    return f"{settings.queue_prefix}{name}"


class RQRunner(JobRunner):
    backend = "rq"

    def __init__(self, connection: redis.Redis, settings: Settings) -> None:
        self.connection = connection
        self.settings = settings
        self._queues = {name: Queue(queue_name(settings, name), connection=connection)
                        for name in QUEUES}

    def queue(self, name: str) -> Queue:
        return self._queues[name]

    def submit(self, request: JobRequest) -> None:
        settings = self.settings
        retry = None
        if request.retry_transient and settings.job_max_retries > 0:
            retry = Retry(max=settings.job_max_retries,
                          interval=list(settings.job_retry_intervals))
        self.queue(request.queue).enqueue(
            request.function, *request.args, job_id=self.redis_job_id(request.job_id),
            job_timeout=settings.job_timeout_seconds + HARD_TIMEOUT_GRACE_SECONDS,
            result_ttl=settings.job_result_ttl_seconds,
            failure_ttl=settings.job_failure_ttl_seconds, retry=retry,
            description=request.description or request.job_id, meta=dict(request.meta))

    def redis_job_id(self, job_id: str) -> str:
        """The id in Redis of the job ``job_id`` (``run-12`` -> ``PREFIXrun-12``)."""
        return f"{self.settings.queue_prefix}{job_id}"

    def cancel(self, job_ids: Iterable[str]) -> None:
        for job_id, status in self._statuses(job_ids).items():
            try:
                if status in _WAITING:
                    Job.fetch(self.redis_job_id(job_id), connection=self.connection).cancel()
                elif status in _EXECUTING:
                    send_stop_job_command(self.connection, self.redis_job_id(job_id))
            except (NoSuchJobError, InvalidJobOperation):
                pass  # it finished or was cancelled meanwhile

    def states(self, job_ids: Iterable[str]) -> dict[str, str]:
        states = {}
        for job_id, status in self._statuses(job_ids).items():
            if status in _WAITING:
                states[job_id] = WAITING
            elif status in _EXECUTING:
                states[job_id] = EXECUTING
        return states

    def _statuses(self, job_ids: Iterable[str]) -> dict[str, JobStatus]:
        ids = list(job_ids)
        pipe = self.connection.pipeline(transaction=False)
        for job_id in ids:
            pipe.hget(Job.key_for(self.redis_job_id(job_id)), "status")
        statuses = {}
        for job_id, raw in zip(ids, pipe.execute(), strict=True):
            if raw:
                try:
                    statuses[job_id] = JobStatus(raw.decode())
                except ValueError:
                    continue
        return statuses


# --- workers ---------------------------------------------------------------------------------


class HardTimeout(RunTimedOut, JobTimeoutException):
    """RQ's backstop timeout, raised inside the job: the run fails as timed out."""

    def __str__(self) -> str:
        return timeout_message(None)


class _HardTimeoutPenalty(UnixSignalDeathPenalty):
    def __init__(self, timeout: Any, exception: Any = JobTimeoutException, **kwargs: Any):
        if exception is JobTimeoutException:
            exception = HardTimeout
        super().__init__(timeout, exception, **kwargs)


class _HardTimeoutTimer(TimerDeathPenalty):
    def __init__(self, timeout: Any, exception: Any = JobTimeoutException, **kwargs: Any):
        if exception is JobTimeoutException:
            exception = HardTimeout
        super().__init__(timeout, exception, **kwargs)


class ArenaWorker(SimpleWorker):
    """The RQ worker of ``arena worker``: jobs run in the worker process itself, so each starts
    warm (database connections, compiled kernels, imports); the queue adds a few milliseconds
    per run instead of a fork's 150. A job that crashes the interpreter takes the worker with
    it: its run is failed by the reaper, and the supervisor restarts the worker."""

    death_penalty_class = _HardTimeoutPenalty


class ForkingArenaWorker(Worker):
    """``arena worker --fork``: each job in a fresh child process (RQ's default), which isolates
    memory leaks and native crashes at about 150 ms per job."""

    death_penalty_class = _HardTimeoutPenalty


class ThreadWorker(SimpleWorker):
    """An RQ worker that can run in a background thread of another program (tests, benches):
    no signal handlers, timer-based timeouts. Relies on RQ internals: rq is pinned < 4."""

    death_penalty_class = _HardTimeoutTimer

    def _install_signal_handlers(self) -> None:
        pass


def horse_killed(job: Job, retpid: int, ret_val: int, rusage: Any) -> None:
    """RQ calls this in ``arena worker --fork`` when a job's child process died unfinished
    (killed by the kernel, out of memory, RQ's hard timeout): fail its run right away."""
    from workers.jobs import worker_context

    run_id = job.args[0] if job.args else None
    if not isinstance(run_id, int):
        return
    message = ("the worker process running this job died before it finished (out of memory? "
               "stopped by the operating system?); retry it")
    if fail_run(worker_context().sessions, run_id, message,
                detail=f"RQ job {job.id}: work horse {retpid} exited with status {ret_val}"):
        log.warning("run %s failed: work horse %s died (status %s)", run_id, retpid, ret_val)


def worker_queues(runner: RQRunner, names: Iterable[str]) -> list[Queue]:
    return [runner.queue(name) for name in names]


class WorkerThread:
    """A :class:`ThreadWorker` polling the queues in a daemon thread, executing jobs with
    ``context`` (tests and benchmarks; production uses ``arena worker`` processes)."""

    def __init__(self, context: AppContext, queues: Iterable[str] = QUEUES,
                 poll_seconds: float = 0.02) -> None:
        from workers.jobs import install_context

        install_context(context)
        runner = context.runner
        assert isinstance(runner, RQRunner), "a worker thread needs the RQ runner (REDIS_URL)"
        self.worker = ThreadWorker(worker_queues(runner, queues), connection=runner.connection)
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rq-worker-thread", daemon=True)

    def start(self) -> WorkerThread:
        self._thread.start()
        return self

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.worker.work(burst=True, logging_level="WARNING")
            except Exception:  # keep polling: a test must not hang on a worker error
                log.exception("worker thread: work() failed")
                worked = False
            if not worked:
                self._stop.wait(self.poll_seconds)
