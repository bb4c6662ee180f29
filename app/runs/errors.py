"""What can stop a run while it executes, and the messages its user reads."""

from __future__ import annotations

from app.services.errors import UpstreamUnavailableError
from data.errors import ProviderUnavailableError
from workers.runner import JobTimedOut, RetryLater


class RunAbandoned(Exception):  # noqa: N818 (a signal, not an error)
    """The run was cancelled or deleted while it executed."""


class RunTimedOut(JobTimedOut):
    """The run went past its time limit (``JOB_TIMEOUT_SECONDS``)."""


class RunDeferred(Exception):  # noqa: N818 (a signal, not an error)
    """Raised by a handler that handed the rest of its run to other jobs (the run stays
    ``running``; the last of those jobs stores the result)."""


class TransientRunError(RetryLater):
    """A data provider was unavailable; the run is ``queued`` again and should be retried."""


#: Errors worth retrying later: the data provider could not be reached.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (UpstreamUnavailableError,
                                                 ProviderUnavailableError)

STOPPED_MESSAGE = "the worker stopped while running this job; retry it"
LOST_MESSAGE = ("this run's job was lost from the queue before a worker started it (the queue "
                "was reset or the server restarted); retry it")
HORSE_DIED_MESSAGE = ("the worker process running this job died before it finished (out of "
                      "memory? stopped by the operating system?); retry it")
QUEUE_DOWN_MESSAGE = "the job queue is not reachable right now; retry the run in a moment"


def timeout_message(timeout_seconds: float | None) -> str:
    limit = f" of {timeout_seconds:g} seconds" if timeout_seconds else ""
    return (f"the run took longer than its time limit{limit} and was stopped; simplify it "
            "(shorter period, fewer combinations) or ask the administrator to raise "
            "JOB_TIMEOUT_SECONDS")


def internal_error_message(run_id: int) -> str:
    return (f"the run failed with an internal error (run {run_id}); an administrator can see "
            "the details")
