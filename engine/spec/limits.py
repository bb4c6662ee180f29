"""Upper limits of a strategy spec, declared once: every spec the validator accepts runs in
bounded time and memory (the web layer also refuses, at creation, runs whose estimated size is
too large: :mod:`engine.cost`).

- ``MAX_LOOKBACK_BARS``: an indicator's period-like parameters and any operand's ``offset``
  (5,000 daily bars is about 20 years; a longer look-back leaves nothing to trade on).
- ``MAX_RULES``: rules in ``entry`` and ``exit`` together (each may compute an indicator over
  every bar).
- ``MAX_MONEY``: ``initial_cash`` and a ``fixed_cash``/``fixed_units`` sizing value (1e12: beyond
  that float64 cash loses cents).
- ``EARLIEST_DATE``/``LATEST_DATE``: dates the price layer and pandas can represent.
"""

from __future__ import annotations

from datetime import date

MAX_LOOKBACK_BARS = 5_000
MAX_RULES = 50
MAX_MONEY = 1e12
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2200, 12, 31)
