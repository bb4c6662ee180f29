"""The embedded job runner: a thread pool in this process (no Redis, no worker process).

It calls the same job functions as the RQ workers, by their import path, with the same retries
(a :class:`~workers.runner.RetryLater` puts the job back after ``retry_intervals``, on a
timer), so callers behave the same on both runners. Its queue lives in memory: jobs still
waiting when the process stops are lost (``owns_orphans_before`` says since when, so the caller
can tell its users).
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from workers.runner import EXECUTING, WAITING, JobRequest, JobRunner, RetryLater, RunnerConfig

log = logging.getLogger(__name__)


class InProcessRunner(JobRunner):
    """Jobs on ``config.threads`` threads of this process; each job function also receives
    ``job_kwargs``."""

    backend = "in-process"
    executing_means_alive = True  # an executing job here is in this very (living) process

    def __init__(self, config: RunnerConfig, job_kwargs: dict[str, Any] | None = None) -> None:
        self.config = config
        self.job_kwargs = dict(job_kwargs or {})
        self.started_at: datetime = datetime.now(UTC).replace(tzinfo=None)
        self._pool = ThreadPoolExecutor(max_workers=config.threads,
                                        thread_name_prefix="arena-job")
        self._lock = threading.Lock()
        self._states: dict[str, str] = {}
        self._timers: dict[str, threading.Timer] = {}
        self._closed = False

    def submit(self, request: JobRequest, attempt: int = 0) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the in-process job runner is closed")
            self._states[request.job_id] = WAITING
            self._timers.pop(request.job_id, None)
        self._pool.submit(self._execute, request, attempt)

    def cancel(self, job_ids: Iterable[str]) -> None:
        """Waiting jobs are dropped; executing ones stop at their next progress point (their
        run is already cancelled in the database)."""
        with self._lock:
            for job_id in job_ids:
                timer = self._timers.pop(job_id, None)
                if timer is not None:
                    timer.cancel()
                if self._states.get(job_id) == WAITING:
                    del self._states[job_id]

    def states(self, job_ids: Iterable[str]) -> dict[str, str]:
        with self._lock:
            return {job_id: self._states[job_id] for job_id in job_ids if job_id in self._states}

    def jobs(self) -> dict[str, str]:
        """Every job this runner holds: id -> waiting or executing."""
        with self._lock:
            return dict(self._states)

    def owns_orphans_before(self) -> datetime:
        return self.started_at

    def close(self, wait: bool = True) -> None:
        with self._lock:
            self._closed = True
            for timer in self._timers.values():
                timer.cancel()
            self._timers.clear()
            self._states.clear()
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def _execute(self, request: JobRequest, attempt: int) -> None:
        with self._lock:
            if self._states.get(request.job_id) != WAITING:
                return  # cancelled while it waited
            self._states[request.job_id] = EXECUTING
        retries_left = (max(0, self.config.max_retries - attempt)
                        if request.retry_transient else 0)
        retry = False
        try:
            _function(request.function)(*request.args, retries_left=retries_left,
                                        **self.job_kwargs)
        except RetryLater as exc:
            log.info("job %s: %s; retrying (attempt %d)", request.job_id, exc, attempt + 2)
            retry = True
        except Exception:  # job functions record their own failures; this is a bug
            log.exception("job %s crashed", request.job_id)
        with self._lock:
            if self._closed:
                return
            if not retry:
                if self._states.get(request.job_id) == EXECUTING:
                    del self._states[request.job_id]
                return
            intervals = self.config.retry_intervals
            delay = intervals[min(attempt, len(intervals) - 1)]
            timer = threading.Timer(delay, self._retry, (request, attempt + 1))
            timer.daemon = True
            self._states[request.job_id] = WAITING
            self._timers[request.job_id] = timer
            timer.start()

    def _retry(self, request: JobRequest, attempt: int) -> None:
        with self._lock:
            if self._closed or self._timers.pop(request.job_id, None) is None:
                return  # cancelled meanwhile
        self.submit(request, attempt)


_FUNCTIONS: dict[str, Callable[..., Any]] = {}


def _function(path: str) -> Callable[..., Any]:
    """The function named ``module.name`` (imported once)."""
    if path not in _FUNCTIONS:
        module, _, name = path.rpartition(".")
        _FUNCTIONS[path] = getattr(importlib.import_module(module), name)
    return _FUNCTIONS[path]
