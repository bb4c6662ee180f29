"""Choosing the job backend: :func:`make_runner`."""

from __future__ import annotations

from typing import Any

from workers.inprocess import InProcessRunner
from workers.rq_runner import RQRunner
from workers.runner import JobRunner, RunnerConfig


def make_runner(connection: Any, config: RunnerConfig,
                job_kwargs: dict[str, Any] | None = None) -> JobRunner:
    """RQ on the Redis ``connection``, or (``connection`` None) a thread pool here whose job
    functions also receive ``job_kwargs``."""
    if connection is None:
        return InProcessRunner(config, job_kwargs)
    return RQRunner(connection, config)
