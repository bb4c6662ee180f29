"""``arena worker``: an RQ worker process with the application's configuration.

It builds the :class:`~app.context.AppContext` once (database, Redis, price service), loads the
engine's compiled kernels (:func:`warm_up`), runs the reaper every few seconds in a thread, and
then works the queues (:func:`workers.worker.run_worker`; ``default`` and ``sweeps`` by default,
with RQ's scheduler for the delayed retries). A forked job whose process dies is failed at once
(:func:`fail_lost_job`). Start as many workers as you like, on as many machines as you like,
against the same Redis and database.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from app.config import Settings
from app.context import AppContext
from app.runs.errors import HORSE_DIED_MESSAGE
from app.runs.jobs import install_context, worker_context
from app.runs.reaper import ReaperThread
from app.runs.state import fail_run
from workers.rq_runner import RQRunner
from workers.runner import QUEUES
from workers.worker import check_queues, run_worker

log = logging.getLogger(__name__)


def warm_up() -> None:
    """Import the engine and run its compiled kernels once (numba), so the first run does not
    pay for it (and forked job processes inherit them)."""
    import numpy as np
    import pandas as pd

    import engine.sweep  # noqa: F401  (compiles nothing at import; loads the module)
    from engine.backtest import run_backtest
    from engine.spec import load_example
    from engine.stress import run_stress

    dates = pd.bdate_range("2020-01-01", periods=80, name="date")
    close = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, len(dates))))
    prices = pd.DataFrame({"open": close, "high": close * 1.01, "low": close * 0.99,
                           "close": close, "volume": 1e6}, index=dates)
    spec = load_example("rsi_mean_reversion").to_dict()
    spec.update({"start": "2020-01-01", "end": "2020-12-31", "stop_loss_pct": 5.0})
    run_backtest(spec, prices)
    run_stress(spec, prices, scenarios=[], transplants=[], paths=8, horizon_days=10)


def fail_lost_job(job_id: str, args: tuple[Any, ...], detail: str) -> None:
    """A forked job's process died unfinished: fail its run right away (the reaper would
    otherwise notice the missing heartbeat within a minute)."""
    run_id = args[0] if args else None
    if not isinstance(run_id, int):
        return
    if fail_run(worker_context().sessions, run_id, HORSE_DIED_MESSAGE, detail=detail):
        log.warning("run %s failed: %s", run_id, detail)


def serve_queues(settings: Settings, queues: Sequence[str] = QUEUES, *, burst: bool = False,
                 name: str | None = None, fork: bool = False, max_jobs: int | None = None,
                 warm: bool = True) -> bool:
    """Work ``queues`` until stopped (SIGTERM/SIGINT: finish the current job first), or until
    they are empty with ``burst``. Returns whether any job was processed."""
    check_queues(queues)
    context = AppContext.build(settings)
    install_context(context)
    runner = context.runner
    assert isinstance(runner, RQRunner), "arena worker needs REDIS_URL"
    if warm:
        warm_up()
    reaper = ReaperThread(context).start()
    log.info("worker: database %s", settings.database_backend)
    try:
        return run_worker(runner, queues, burst=burst, name=name, fork=fork,
                          max_jobs=max_jobs, on_job_lost=fail_lost_job)
    finally:
        reaper.stop()
        context.close()
