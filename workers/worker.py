"""A worker process's loop: work the RQ queues with the configured runner.

What the jobs need (database connections, compiled kernels, a reaper) is the caller's business:
``arena worker`` (:mod:`app.runs.worker`) prepares it and then calls :func:`run_worker`.
Jobs run in the worker process itself (warm: a few milliseconds of queue overhead per job);
with ``fork`` each job runs in a child process instead (RQ's default: isolation from memory
leaks and native crashes, about 150 ms per job). ``max_jobs`` makes a worker exit after that
many jobs, for a supervisor to restart it fresh.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Sequence

from workers.rq_runner import (
    ArenaWorker,
    ForkingArenaWorker,
    JobLostHook,
    RQRunner,
    horse_killed_handler,
    worker_queues,
)
from workers.runner import QUEUES

log = logging.getLogger(__name__)


def default_worker_name() -> str:
    """``arena-HOST-PID-RANDOM``: unique even when a restarted container reuses host and pid
    while the killed worker's registration has not expired yet."""
    return f"arena-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def check_queues(queues: Sequence[str]) -> None:
    """ValueError naming the unknown queues, if any."""
    unknown = [queue for queue in queues if queue not in QUEUES]
    if unknown:
        raise ValueError(f"unknown queue(s) {', '.join(unknown)}; choose from "
                         f"{', '.join(QUEUES)}")


def run_worker(runner: RQRunner, queues: Sequence[str] = QUEUES, *, burst: bool = False,
               name: str | None = None, fork: bool = False, max_jobs: int | None = None,
               on_job_lost: JobLostHook | None = None) -> bool:
    """Work ``queues`` until stopped (SIGTERM/SIGINT: finish the current job first), or until
    they are empty with ``burst``. ``on_job_lost`` hears of a forked job whose process died.
    Returns whether any job was processed."""
    check_queues(queues)
    worker_class = ForkingArenaWorker if fork else ArenaWorker
    options = {}
    if on_job_lost is not None:
        options["work_horse_killed_handler"] = horse_killed_handler(runner, on_job_lost)
    worker = worker_class(worker_queues(runner, queues), connection=runner.connection,
                          name=name or default_worker_name(), **options)
    log.info("worker %s: queues %s, job timeout %ss, jobs %s", worker.name,
             ", ".join(q.name for q in worker.queues), runner.config.timeout_seconds,
             "forked" if fork else "in this process")
    return worker.work(burst=burst, with_scheduler=True, logging_level="INFO",
                       max_jobs=max_jobs)
