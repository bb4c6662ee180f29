"""The job layer's entry point for runs.

Until the workers issue lands, a submitted run executes inline, in the request that created it;
the caller then sees an already finished run, and polling code works unchanged when runs move
to a queue (``execute_run`` is the function the queue will call with the run id).
"""

from __future__ import annotations

from app.context import AppContext
from app.services.run_executor import execute_run


def submit_run(context: AppContext, run_id: int) -> None:
    """Hand run ``run_id`` (status queued, committed) to the job layer."""
    execute_run(run_id, context)
