"""The job functions: plain importable functions that take ids (the RQ habit).

``run_job(run_id)`` executes one run (:func:`app.runs.execute.execute_run`), and
``run_part_job(run_id, part)`` one part of a run split into several jobs (a chunk of a large
sweep). Each loads what it needs from the database, keeps a heartbeat on the run while it works,
enforces the time limit at progress points, and writes the result in one transaction.

In an RQ worker the functions get their :class:`~app.context.AppContext` from
:func:`worker_context` (built once per process from ``Settings.from_env()``, or installed by
``arena worker``); the in-process runner passes its own with ``context=`` (its ``job_kwargs``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from types import TracebackType

from app.context import AppContext
from app.runs.execute import execute_run
from app.runs.kinds.sweep import execute_part
from app.runs.state import beat

log = logging.getLogger(__name__)

_context: AppContext | None = None
_context_pid: int | None = None
_context_lock = threading.Lock()


def install_context(context: AppContext | None) -> None:
    """Use ``context`` for the jobs this process executes (``arena worker``, test workers)."""
    global _context, _context_pid
    with _context_lock:
        _context, _context_pid = context, os.getpid()


def worker_context() -> AppContext:
    """This process's context, built on first use from the environment.

    After a fork (RQ's work horse) the database connections inherited from the parent are
    dropped, never shared: the child opens its own.
    """
    global _context, _context_pid
    with _context_lock:
        if _context is None:
            from app.config import Settings

            _context, _context_pid = AppContext.build(Settings.from_env()), os.getpid()
        elif _context_pid != os.getpid():
            _context.engine.dispose(close=False)
            _context_pid = os.getpid()
        return _context


def run_job(run_id: int, *, context: AppContext | None = None,
            retries_left: int | None = None) -> str:
    """Execute run ``run_id`` if it is still queued; return its status afterwards.

    Raises :class:`~app.runs.errors.TransientRunError` (the run is queued again) when
    the data provider was unavailable and retries are left, so the queue retries the job.
    """
    ctx = context or worker_context()
    timeout = ctx.settings.job_timeout_seconds
    with Heartbeat(ctx, run_id):
        return execute_run(run_id, ctx, deadline=time.monotonic() + timeout,
                           timeout_seconds=timeout,
                           retry_transient=_retries_left(retries_left) > 0)


def run_part_job(run_id: int, part: int, *, context: AppContext | None = None,
                 retries_left: int | None = None) -> str:
    """Execute part ``part`` of the split run ``run_id``; the last part to finish stores the
    run's result. Returns the run's status afterwards."""
    ctx = context or worker_context()
    timeout = ctx.settings.job_timeout_seconds
    with Heartbeat(ctx, run_id):
        return execute_part(run_id, part, ctx, deadline=time.monotonic() + timeout,
                            timeout_seconds=timeout,
                            retry_transient=_retries_left(retries_left) > 0)


def _retries_left(explicit: int | None) -> int:
    """Retries the queue still has for the current job (RQ keeps the count on the job)."""
    if explicit is not None:
        return explicit
    from rq import get_current_job

    job = get_current_job()
    return (job.retries_left or 0) if job is not None else 0


class Heartbeat:
    """A thread that refreshes the run's ``heartbeat_at`` every ``JOB_HEARTBEAT_SECONDS`` while
    the block runs, so the reaper can tell a slow run from one whose worker died."""

    def __init__(self, context: AppContext, run_id: int) -> None:
        self.context, self.run_id = context, run_id
        self.interval = context.settings.job_heartbeat_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-run-{run_id}",
                                        daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                beat(self.context.sessions, self.run_id)
            except Exception:  # a missed beat is not fatal; the next one may work
                log.warning("run %s: heartbeat failed", self.run_id, exc_info=True)
