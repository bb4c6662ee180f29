"""``arena worker``: an RQ worker process with the application's configuration.

It builds the :class:`~app.context.AppContext` once (database, Redis, price service), loads the
engine's compiled kernels, runs the reaper every few seconds in a thread, and then works the
queues (``default`` and ``sweeps`` by default, with RQ's scheduler for the delayed retries).
Jobs run in the worker process (warm: a few milliseconds of queue overhead per run); with
``--fork`` each job runs in a child process instead (RQ's default: isolation from memory leaks
and native crashes, about 150 ms per job). ``--max-jobs`` makes a worker exit after that many
jobs, for a supervisor to restart it fresh. Start as many workers as you like, on as many
machines as you like, against the same Redis and database.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Sequence

from app.config import Settings
from app.context import AppContext
from workers.jobs import install_context
from workers.reaper import ReaperThread
from workers.rq_runner import (
    ArenaWorker,
    ForkingArenaWorker,
    RQRunner,
    horse_killed,
    worker_queues,
)
from workers.runner import QUEUES

log = logging.getLogger(__name__)


def warm_up() -> None:
    """Import the engine and run its compiled kernels once (numba), so the forked job
    processes inherit them instead of each loading them again."""
    import numpy as np
    import pandas as pd

    from engine.backtest import run_backtest
    from engine.spec import load_example

    dates = pd.bdate_range("2020-01-01", periods=80, name="date")
    close = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, len(dates))))
    prices = pd.DataFrame({"open": close, "high": close * 1.01, "low": close * 0.99,
                           "close": close, "volume": 1e6}, index=dates)
    spec = load_example("rsi_mean_reversion").to_dict()
    spec.update({"start": "2020-01-01", "end": "2020-12-31"})
    run_backtest(spec, prices)
    try:
        import engine.sweep  # noqa: F401
    except ImportError:  # pragma: no cover - the sweep engine ships with the app
        pass


def default_worker_name() -> str:
    """``arena-HOST-PID-RANDOM``: unique even when a restarted container reuses host and pid
    while the killed worker's registration has not expired yet."""
    return f"arena-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def run_worker(settings: Settings, queues: Sequence[str] = QUEUES, *, burst: bool = False,
               name: str | None = None, fork: bool = False, max_jobs: int | None = None,
               warm: bool = True) -> bool:
    """Work ``queues`` until stopped (SIGTERM/SIGINT: finish the current job first), or until
    they are empty with ``burst``. Returns whether any job was processed."""
    unknown = [queue for queue in queues if queue not in QUEUES]
    if unknown:
        raise ValueError(f"unknown queue(s) {', '.join(unknown)}; choose from "
                         f"{', '.join(QUEUES)}")
    context = AppContext.build(settings)
    install_context(context)
    runner = context.runner
    assert isinstance(runner, RQRunner)
    if warm:
        warm_up()
    reaper = ReaperThread(context).start()
    worker_class = ForkingArenaWorker if fork else ArenaWorker
    worker = worker_class(worker_queues(runner, queues), connection=runner.connection,
                          name=name or default_worker_name(),
                          work_horse_killed_handler=horse_killed)
    log.info("worker %s: queues %s, job timeout %ss, database %s, jobs %s", worker.name,
             ", ".join(q.name for q in worker.queues), settings.job_timeout_seconds,
             settings.database_backend, "forked" if fork else "in this process")
    try:
        return worker.work(burst=burst, with_scheduler=True, logging_level="INFO",
                           max_jobs=max_jobs)
    finally:
        reaper.stop()
        context.close()
