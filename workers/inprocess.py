"""The embedded job runner: a thread pool in the web process (no Redis, no worker process).

It runs the same job functions as the RQ workers (:mod:`workers.jobs`), with the same time
limit (checked at progress points), the same retries of transient data errors (a timer puts the
job back after ``JOB_RETRY_INTERVALS``), and the same heartbeats, so the behaviour tests pass
on both runners. Its queue lives in memory: runs still queued when the process stops are failed
by the reaper after a restart (``owns_orphans_before``), and the user can retry them.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

from app.models import utcnow
from app.services.run_executor import TransientRunError
from workers.runner import EXECUTING, WAITING, JobRequest, JobRunner

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)


class InProcessRunner(JobRunner):
    """Jobs on ``ARENA_WORKER_THREADS`` threads of this process."""

    backend = "in-process"
    executing_means_alive = True  # an executing job here is in this very (living) process

    def __init__(self, context: AppContext) -> None:
        self.context = context
        self.settings = context.settings
        self.started_at: datetime = utcnow()
        self._pool = ThreadPoolExecutor(max_workers=self.settings.worker_threads,
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
        retries_left = (max(0, self.settings.job_max_retries - attempt)
                        if request.retry_transient else 0)
        retry = False
        try:
            _function(request.function)(*request.args, context=self.context,
                                        retries_left=retries_left)
        except TransientRunError as exc:
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
            intervals = self.settings.job_retry_intervals
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
