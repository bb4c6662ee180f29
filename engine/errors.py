"""The root of every exception the engine raises on purpose.

Callers that only need to know "the engine refused this input" catch :class:`EngineError`; the
subclasses say which input (:class:`engine.spec.SpecError`, :class:`engine.prices.PriceDataError`,
:class:`engine.scenarios.StressInputError`, :class:`engine.sweep.GridError`). Each of them also
subclasses ``ValueError``, so existing ``except ValueError`` handlers keep working.

The message of every engine error says what was wrong and how to fix it; the web layer shows it
as a 4xx response.
"""

from __future__ import annotations

__all__ = ["EngineError"]


class EngineError(Exception):
    """Base class of the engine's own exceptions: an input the engine cannot work with."""
