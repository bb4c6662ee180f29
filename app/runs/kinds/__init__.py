"""The run kinds this version executes: one module each, and the explicit tables below.

A handler takes a :class:`~app.runs.task.RunTask` and returns ``(result document, summary
metrics)``; it reports progress with ``task.progress(percent, stage)``. Options are validated
once, when the run is created, by the kind's typed options model (``engine.options``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.runs.kinds import backtest, robustness, stress, sweep, walkforward
from app.runs.task import RunTask

Handler = Callable[[RunTask], tuple[dict[str, Any], dict[str, Any]]]

#: What executes each run kind.
HANDLERS: dict[str, Handler] = {
    "backtest": backtest.handle,
    "stress": stress.handle,
    "sweep": sweep.handle,
    "robustness": robustness.handle,
    "walkforward": walkforward.handle,
}
