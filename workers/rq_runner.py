"""The RQ backend: queues in Redis, worker processes (:mod:`workers.worker`) execute the jobs.

Queue names and job ids are prefixed with ``config.queue_prefix``, so several deployments (or
test sessions), each with its own job ids, can share one Redis. Every job gets the time limit
``config.timeout_seconds`` (which a job should enforce itself at its progress points; RQ stops it
:data:`HARD_TIMEOUT_GRACE_SECONDS` later as a backstop, raising :class:`HardTimeout`), result
TTLs, and up to ``config.max_retries`` retries ``config.retry_intervals`` apart, which only a
:class:`~workers.runner.RetryLater` from the job triggers.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterable
from typing import Any

import redis
from rq import Queue, Retry, SimpleWorker, Worker
from rq.command import send_stop_job_command
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus
from rq.scheduler import RQScheduler
from rq.timeouts import JobTimeoutException, TimerDeathPenalty, UnixSignalDeathPenalty

from workers.runner import (
    EXECUTING,
    QUEUES,
    WAITING,
    JobRequest,
    JobRunner,
    JobTimedOut,
    RunnerConfig,
)

log = logging.getLogger(__name__)

HARD_TIMEOUT_GRACE_SECONDS = 30
_WAITING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
_EXECUTING = {JobStatus.STARTED}


def queue_name(config: RunnerConfig, name: str) -> str:
    """The Redis name of the logical queue ``name`` (``default`` or ``sweeps``)."""
    return f"{config.queue_prefix}{name}"


class RQRunner(JobRunner):
    backend = "rq"

    def __init__(self, connection: redis.Redis, config: RunnerConfig) -> None:
        self.connection = connection
        self.config = config
        self._queues = {name: Queue(queue_name(config, name), connection=connection)
                        for name in QUEUES}

    def queue(self, name: str) -> Queue:
        return self._queues[name]

    def submit(self, request: JobRequest) -> None:
        config = self.config
        retry = None
        if request.retry_transient and config.max_retries > 0:
            retry = Retry(max=config.max_retries, interval=list(config.retry_intervals))
        self.queue(request.queue).enqueue(
            request.function, *request.args, job_id=self.redis_job_id(request.job_id),
            job_timeout=config.timeout_seconds + HARD_TIMEOUT_GRACE_SECONDS,
            result_ttl=config.result_ttl_seconds,
            failure_ttl=config.failure_ttl_seconds, retry=retry,
            description=request.description or request.job_id, meta=dict(request.meta))

    def resubmit(self, request: JobRequest) -> None:
        """Delete the dead job's record (status, registries) so a worker's registry clean-up
        cannot fail the new one, then enqueue it again under the same id."""
        try:
            Job.fetch(self.redis_job_id(request.job_id), connection=self.connection).delete()
        except NoSuchJobError:
            pass
        self.submit(request)

    def redis_job_id(self, job_id: str) -> str:
        """The id in Redis of the job ``job_id`` (``run-12`` -> ``PREFIXrun-12``)."""
        return f"{self.config.queue_prefix}{job_id}"

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


class HardTimeout(JobTimedOut, JobTimeoutException):
    """RQ's backstop timeout, raised inside the job."""


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


class OrphanProofScheduler(RQScheduler):
    """RQ's scheduler process, which dies with its worker: a SIGKILLed worker must not leave
    a scheduler child behind under PID 1 holding the scheduler lock. The child asks the kernel
    for SIGTERM when its parent dies (Linux ``PR_SET_PDEATHSIG``) and, on any system, checks
    its parent at every tick."""

    def work(self) -> None:
        parent = os.getppid()
        _die_with_parent()
        if os.getppid() != parent:  # the parent died before the request took effect
            return
        self._parent_pid = parent
        super().work()

    def heartbeat(self) -> None:
        if getattr(self, "_parent_pid", None) not in (None, os.getppid()):
            self._stop_requested = True
        super().heartbeat()


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the heartbeat check still stops it
        pass


_PR_SET_PDEATHSIG = 1


class _SchedulerDiesWithWorker:
    """Mixin: start :class:`OrphanProofScheduler` instead of RQ's own (RQ internals: rq is
    pinned < 4)."""

    def _start_scheduler(self, burst: bool = False, logging_level: str | None = "INFO",
                         date_format: str = DEFAULT_LOGGING_DATE_FORMAT,
                         log_format: str = DEFAULT_LOGGING_FORMAT) -> None:
        self.scheduler = OrphanProofScheduler(
            self.queues, connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format, log_format=log_format, serializer=self.serializer)
        self.scheduler.acquire_locks()
        if not self.scheduler.acquired_locks:
            return
        if not burst:
            self.scheduler.start()
            return
        try:
            self.scheduler.register_birth()
            self.scheduler.enqueue_scheduled_jobs()
        finally:
            self.scheduler.release_locks()
            self.scheduler.register_death()


class ArenaWorker(_SchedulerDiesWithWorker, SimpleWorker):
    """The RQ worker of ``arena worker``: jobs run in the worker process itself, so each starts
    warm (database connections, compiled kernels, imports); the queue adds a few milliseconds
    per run instead of a fork's 150. A job that crashes the interpreter takes the worker with
    it: its run is failed by the reaper, and the supervisor restarts the worker."""

    death_penalty_class = _HardTimeoutPenalty


class ForkingArenaWorker(_SchedulerDiesWithWorker, Worker):
    """``arena worker --fork``: each job in a fresh child process (RQ's default), which isolates
    memory leaks and native crashes at about 150 ms per job."""

    death_penalty_class = _HardTimeoutPenalty


class ThreadWorker(SimpleWorker):
    """An RQ worker that can run in a background thread of another program (tests, benches):
    no signal handlers, timer-based timeouts. Relies on RQ internals: rq is pinned < 4."""

    death_penalty_class = _HardTimeoutTimer

    def _install_signal_handlers(self) -> None:
        pass


#: Called when a job's process died unfinished: ``on_job_lost(job_id, args, detail)`` with the
#: job id as the caller chose it (no queue prefix), the job's arguments and what happened.
JobLostHook = Callable[[str, tuple[Any, ...], str], None]


def horse_killed_handler(runner: RQRunner, on_job_lost: JobLostHook) -> Callable[..., None]:
    """RQ's ``work_horse_killed_handler`` for a forking worker: a job whose child process died
    unfinished (killed by the kernel, out of memory, RQ's hard timeout) is reported to
    ``on_job_lost`` at once."""

    def handler(job: Job, retpid: int, ret_val: int, rusage: Any) -> None:
        job_id = job.id.removeprefix(runner.config.queue_prefix)
        on_job_lost(job_id, tuple(job.args or ()),
                    f"RQ job {job.id}: work horse {retpid} exited with status {ret_val}")

    return handler


def worker_queues(runner: RQRunner, names: Iterable[str]) -> list[Queue]:
    return [runner.queue(name) for name in names]


class WorkerThread:
    """A :class:`ThreadWorker` polling ``runner``'s queues in a daemon thread (tests and
    benchmarks; production uses worker processes)."""

    def __init__(self, runner: RQRunner, queues: Iterable[str] = QUEUES,
                 poll_seconds: float = 0.02) -> None:
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
