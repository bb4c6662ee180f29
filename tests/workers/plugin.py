"""Test-only run behaviours, selected by the spec's name, for the job tests (in this process and
in ``arena worker`` subprocesses started with this module imported first).

A spec named ``test:COMMAND[:ARGUMENT]`` makes the backtest handler:

- ``test:sleep:SECONDS``: report progress every 0.1 s for SECONDS (then run the backtest);
- ``test:crash``: raise an unexpected exception;
- ``test:crash-unless:PATH``: raise one unless the file PATH exists;
- ``test:transient:N``: raise a data-provider outage on the run's first N attempts;
- ``test:slow-chunks:SECONDS``: each chunk of a split sweep first reports progress for
  SECONDS (so a test can kill its worker mid-chunk).

Any other name runs the real backtest, so installing the plugin changes nothing else.
"""

from __future__ import annotations

import os
import time
from typing import Any

from app.models import BacktestRun
from app.runs import jobs
from app.runs.kinds import HANDLERS
from app.runs.state import write_progress
from app.runs.task import RunTask
from app.services.errors import UpstreamUnavailableError

PREFIX = "test:"


def _with_test_behaviours(original: Any) -> Any:
    def handler(task: RunTask) -> Any:
        name = str(task.spec.get("name", ""))
        if name.startswith(PREFIX):
            command, _, argument = name.removeprefix(PREFIX).partition(":")
            if command == "sleep":
                steps = max(1, round(float(argument) / 0.1))
                for step in range(steps):
                    task.progress(10 + 80 * step // steps, f"sleeping: step {step + 1} of {steps}")
                    time.sleep(0.1)
            elif command == "crash":
                raise RuntimeError("boom: a test crash")
            elif command == "crash-unless" and not os.path.exists(argument):
                raise RuntimeError(f"boom: {argument} does not exist")
            elif command == "transient":
                with task.context.sessions() as session:
                    attempts = session.get(BacktestRun, task.run_id).attempts
                if attempts <= int(argument):
                    raise UpstreamUnavailableError("the data provider is unreachable (test)")
        return original(task)

    handler.test_plugin = True  # type: ignore[attr-defined]
    return handler


def _with_slow_chunks(original: Any) -> Any:
    def execute_part(run_id: int, part: int, context: Any, **kwargs: Any) -> str:
        with context.sessions() as session:
            run = session.get(BacktestRun, run_id)
            name = str(run.spec.get("name", "")) if run is not None else ""
        if name.startswith(f"{PREFIX}slow-chunks:"):
            seconds = float(name.rpartition(":")[2])
            for step in range(max(1, round(seconds / 0.1))):
                write_progress(context.sessions, run_id, 10, f"chunk {part + 1}: slow step "
                                                             f"{step + 1}")
                time.sleep(0.1)
        return original(run_id, part, context, **kwargs)

    execute_part.test_plugin = True  # type: ignore[attr-defined]
    return execute_part


def install() -> None:
    if not getattr(HANDLERS["backtest"], "test_plugin", False):
        HANDLERS["backtest"] = _with_test_behaviours(HANDLERS["backtest"])
    if not getattr(jobs.execute_part, "test_plugin", False):
        jobs.execute_part = _with_slow_chunks(jobs.execute_part)


install()
