"""One run being executed, as its kind's handler sees it: :class:`RunTask`."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from app.runs.errors import RunTimedOut, timeout_message
from app.runs.state import write_progress
from app.services.errors import NotFoundError
from app.services.prices import load_prices

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunTask:
    """One run being executed: its spec snapshot and options, the application's backends, and
    its time limit. ``deadline`` is a ``time.monotonic()`` instant (None: no limit) that
    :meth:`progress` enforces; ``timeout_seconds`` is the limit it came from (for messages)."""

    run_id: int
    context: AppContext
    spec: dict[str, Any]
    options: dict[str, Any]
    deadline: float | None = None
    timeout_seconds: float | None = None

    @property
    def risk_free_rate(self) -> float:
        """The ANNUAL risk-free rate for Sharpe, Sortino and alpha (``ARENA_RISK_FREE_RATE``)."""
        return self.context.settings.risk_free_rate

    def progress(self, percent: int, stage: str) -> None:
        """Save progress (0-100) and a stage text; raises RunAbandoned if the run was
        cancelled or deleted meanwhile, RunTimedOut when it is past its deadline."""
        self.check_deadline()
        write_progress(self.context.sessions, self.run_id, percent, stage)

    def check_deadline(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise RunTimedOut(timeout_message(self.timeout_seconds))

    def load_prices(self, spec: Any) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """Bars of ``spec.symbol`` and of ``spec.benchmark`` (None when it has no data)."""
        prices = load_prices(self.context.prices, spec.symbol)
        if spec.benchmark == spec.symbol:
            return prices, None
        try:
            return prices, load_prices(self.context.prices, spec.benchmark)
        except NotFoundError:
            log.info("run %s: no prices for benchmark %s", self.run_id, spec.benchmark)
            return prices, None
