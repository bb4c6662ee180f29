"""Execute one run by id: load its snapshot, call its kind's handler, store the outcome.

``execute_run(run_id, context)`` claims the run (``queued -> running``, atomically), calls the
handler of its kind (:data:`app.runs.kinds.HANDLERS`) with a :class:`~app.runs.task.RunTask`,
and stores the result document and summary metrics in one transaction. Status, progress (0-100)
with a stage text, and timings are saved as it goes, each in its own short transaction, so
another process can poll them. A failure leaves the run ``failed`` with an error message a user
can act on (:func:`app.runs.state.settle_failure`).

Running a run twice is harmless: only a ``queued`` run is picked up, and a run cancelled or
deleted while it executes keeps that state (its result is discarded).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.runs.errors import RunDeferred
from app.runs.kinds import HANDLERS
from app.runs.state import claim_run, settle_failure, store_result
from app.runs.task import RunTask
from app.services.errors import ServiceError

if TYPE_CHECKING:
    from app.context import AppContext


def execute_run(run_id: int, context: AppContext, *, deadline: float | None = None,
                timeout_seconds: float | None = None, retry_transient: bool = False) -> str:
    """Run ``run_id`` to completion and return its final status (``missing`` if it is gone).

    Parameters
    ----------
    run_id : id of a :class:`~app.models.BacktestRun` in status ``queued``.
    context : the application's backends: database sessions, the price service, settings.
    deadline, timeout_seconds : a ``time.monotonic()`` instant after which the run fails as
        timed out (checked at each progress point and before the result is stored), and the
        limit it came from.
    retry_transient : when the data provider is unavailable, put the run back to ``queued``
        and raise :class:`~app.runs.errors.TransientRunError` instead of failing it (the queue
        retries later).

    Returns ``running`` when the handler handed the run to other jobs (RunDeferred).
    """
    status, snapshot = claim_run(context.sessions, run_id)
    if snapshot is None:
        return status
    task = RunTask(run_id, context, snapshot["spec"], snapshot["options"], deadline,
                   timeout_seconds)
    try:
        handler = HANDLERS.get(snapshot["kind"])
        if handler is None:
            raise ServiceError(f"runs of kind {snapshot['kind']!r} cannot be executed by this "
                               "version")
        document, metrics = handler(task)
        task.check_deadline()
    except RunDeferred:
        return "running"
    except Exception as exc:  # the worker must record every failure
        return settle_failure(context.sessions, run_id, exc, retry_transient=retry_transient,
                              requeue=True, timeout_seconds=timeout_seconds)
    return store_result(context.sessions, run_id, document, metrics)
