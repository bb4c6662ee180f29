"""Retries with exponential backoff for provider calls (delays injectable for tests)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """``max_retries`` retries after the first attempt, waiting ``base_seconds * factor**i``
    (capped at ``max_seconds``) before retry ``i``; ``sleep`` is replaceable in tests."""

    max_retries: int = 3
    base_seconds: float = 1.0
    factor: float = 2.0
    max_seconds: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def delays(self) -> list[float]:
        return [min(self.base_seconds * self.factor ** i, self.max_seconds)
                for i in range(self.max_retries)]


def with_retries(call: Callable[[], T], is_transient: Callable[[Exception], bool],
                 backoff: Backoff, what: str) -> T:
    """``call()``, retried after each transient failure until the retries run out; the last
    exception (or any non-transient one) propagates unchanged."""
    delays = backoff.delays()
    for attempt in range(len(delays) + 1):
        try:
            return call()
        except Exception as exc:
            if attempt == len(delays) or not is_transient(exc):
                raise
            delay = delays[attempt]
            log.info("%s failed (%s: %s); retry %d/%d in %.1f s", what, type(exc).__name__, exc,
                     attempt + 1, len(delays), delay)
            backoff.sleep(delay)
    raise AssertionError("unreachable")
