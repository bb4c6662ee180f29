"""Test-only run behaviours, selected by the spec's name, for the job tests (in this process and
in ``arena worker`` subprocesses started with this module imported first).

A spec named ``test:COMMAND[:ARGUMENT]`` makes the backtest handler:

- ``test:sleep:SECONDS``: report progress every 0.1 s for SECONDS (then run the backtest);
- ``test:crash``: raise an unexpected exception;
- ``test:crash-unless:PATH``: raise one unless the file PATH exists;
- ``test:transient:N``: raise a data-provider outage on the run's first N attempts.

Any other name runs the real backtest, so installing the plugin changes nothing else.
"""

from __future__ import annotations

import os
import time
from typing import Any

from app.models import BacktestRun
from app.services.errors import UpstreamUnavailableError
from app.services.run_executor import RUN_HANDLERS, RunTask

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


def install() -> None:
    if not getattr(RUN_HANDLERS["backtest"], "test_plugin", False):
        RUN_HANDLERS["backtest"] = _with_test_behaviours(RUN_HANDLERS["backtest"])


install()
