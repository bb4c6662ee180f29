"""The stress-test scenario library: dated market crises, plus windows users define themselves.

A scenario is a window of trading days ``[start, end]`` (ISO dates). Every number reported for
it runs from the CLOSE of ``start`` to the CLOSE of ``end`` (docs/results.md#stress-result):
``start`` is the
base, so the library dates each crisis by one rule, on the S&P 500's daily closes, unless its
description says otherwise:

- ``start`` is the prior closing high, the close the index fell from: the highest close of the
  window and of the week (5 trading days) before it;
- ``end`` is the closing low: the lowest close from ``start`` until the index first closes back
  at or above the ``start`` close.

The dates are trading days of the US equity market; ``tests/engine/test_scenarios.py``
re-derives every window by its rule from the bundled S&P 500 (``GSPC``) data and checks that
the dates are trading days in the SPY data too.

Ids are stable (docs/results.md#stress-result): results, bookmarks and the ``--scenarios`` option
use them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from engine.errors import EngineError

__all__ = [
    "LIBRARY",
    "Scenario",
    "StressInputError",
    "custom_scenario",
    "parse_custom_scenarios",
    "scenario_ids",
    "select_scenarios",
]

_ID = re.compile(r"[a-z0-9][a-z0-9_\-]{0,47}")
MAX_CUSTOM_SCENARIOS = 20


class StressInputError(EngineError, ValueError):
    """Unusable stress-test input (an unknown scenario id, a bad custom window, an option out of
    range); the message names the input and what is allowed."""


@dataclass(frozen=True)
class Scenario:
    """One stress window.

    Attributes
    ----------
    id : stable identifier (lower case, ``[a-z0-9_-]``).
    name : short display name.
    start, end : ISO dates; returns run from the close of ``start`` to the close of ``end``.
    description : one line on what happened.
    source : a public reference for the dates (a report or the index history).
    custom : True for a user's own window.
    """

    id: str
    name: str
    start: str
    end: str
    description: str
    source: str
    custom: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "start": self.start, "end": self.end,
                "description": self.description, "source": self.source, "custom": self.custom}


_SPX = "S&P 500 index (^GSPC) daily closes"

#: The built-in crises, oldest first (docs/results.md#stress-result ids).
LIBRARY: dict[str, Scenario] = {s.id: s for s in (
    Scenario("gfc_2008", "2008 global financial crisis", "2007-10-09", "2009-03-09",
             "Subprime losses, Lehman Brothers' failure and a world recession: the S&P 500 "
             "fell 57 % from its October 2007 high to its March 2009 low.",
             f"NBER business cycle dates (recession Dec 2007 to Jun 2009); {_SPX}: 1565.15 on "
             "2007-10-09, 676.53 on 2009-03-09"),
    Scenario("flash_crash_2010", "2010 Flash Crash", "2010-04-23", "2010-05-20",
             "On 2010-05-06 US indices fell about 9 % and recovered within minutes; the window "
             "runs from the high two weeks before to the low two weeks after.",
             "CFTC and SEC staff report 'Findings Regarding the Market Events of May 6, 2010' "
             f"(2010-09-30); {_SPX}: 1217.28 on 2010-04-23, 1071.59 on 2010-05-20"),
    Scenario("us_downgrade_2011", "2011 US downgrade", "2011-07-22", "2011-10-03",
             "The debt-ceiling standoff and S&P's downgrade of the US to AA+ (2011-08-05), "
             "with the euro-area debt crisis.",
             f"S&P rating action of 2011-08-05; {_SPX}: 1345.02 on 2011-07-22, 1099.23 on "
             "2011-10-03"),
    Scenario("china_deval_2015", "2015 China devaluation", "2015-08-10", "2015-08-25",
             "After the People's Bank of China devalued the yuan (2015-08-11), global equities "
             "sold off; the Dow opened 1,000 points down on 2015-08-24.",
             f"PBoC statement on the RMB central parity of 2015-08-11; {_SPX}: 2104.18 on "
             "2015-08-10, 1867.61 on 2015-08-25"),
    Scenario("volmageddon_2018", "2018 Volmageddon", "2018-01-26", "2018-02-08",
             "The VIX doubled on 2018-02-05 and short-volatility products collapsed (XIV was "
             "terminated); the S&P 500 fell 10 % in two weeks.",
             "BIS Quarterly Review, March 2018 ('Volatility is back'); "
             f"{_SPX}: 2872.87 on 2018-01-26, 2581.00 on 2018-02-08"),
    Scenario("q4_selloff_2018", "2018 Q4 sell-off", "2018-09-20", "2018-12-24",
             "Fed tightening, trade-war fears and growth worries: the S&P 500 fell 20 % into "
             "Christmas Eve.",
             f"{_SPX}: record 2930.75 on 2018-09-20, 2351.10 on 2018-12-24"),
    Scenario("covid_crash_2020", "COVID-19 crash", "2020-02-19", "2020-03-23",
             "The pandemic shutdowns: the fastest 30 % fall of the S&P 500 on record, from its "
             "high to the low after the Fed's unlimited QE announcement.",
             f"{_SPX}: record 3386.15 on 2020-02-19, 2237.40 on 2020-03-23"),
    Scenario("covid_recovery_2020", "COVID-19 recovery", "2020-03-23", "2020-08-18",
             "From the crash's low to the S&P 500's first new record close: does the strategy "
             "take part in the rebound?",
             f"{_SPX}: 2237.40 on 2020-03-23, record 3389.78 on 2020-08-18"),
    Scenario("inflation_bear_2022", "2022 inflation bear market", "2022-01-03", "2022-10-12",
             "Inflation at 40-year highs and the fastest Fed hikes since the 1980s: stocks and "
             "bonds fell together.",
             f"FOMC statements of 2022; {_SPX}: record 4796.56 on 2022-01-03, 3577.03 on "
             "2022-10-12"),
    Scenario("bank_stress_2023", "2023 regional bank stress", "2023-03-06", "2023-03-13",
             "After the Fed chair's hawkish testimony (2023-03-07), Silicon Valley Bank "
             "(2023-03-10) and Signature Bank failed; regional bank stocks crashed while the "
             "index dipped.",
             "Federal Reserve Board, 'Review of the Federal Reserve's Supervision and Regulation "
             f"of Silicon Valley Bank' (2023-04-28); {_SPX}: 4048.42 on 2023-03-06, 3855.76 on "
             "2023-03-13"),
)}


def scenario_ids() -> list[str]:
    """Ids of the built-in library, oldest crisis first."""
    return list(LIBRARY)


def select_scenarios(ids: Iterable[str] | None = None) -> list[Scenario]:
    """Library scenarios by id, in the order given (all of them when ``ids`` is None).

    Raises
    ------
    StressInputError : for an unknown id, listing the valid ones.
    """
    if ids is None:
        return list(LIBRARY.values())
    chosen = []
    for scenario_id in ids:
        if scenario_id not in LIBRARY:
            raise StressInputError(f"unknown scenario {scenario_id!r}; valid ids: "
                                f"{', '.join(LIBRARY)}")
        if LIBRARY[scenario_id] not in chosen:
            chosen.append(LIBRARY[scenario_id])
    return chosen


def _iso(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise StressInputError(f"{where}: must be an ISO date YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise StressInputError(f"{where}: must be an ISO date YYYY-MM-DD, got {value!r}") from None


def custom_scenario(id: str, start: str, end: str, name: str | None = None,
                    description: str = "", where: str = "custom scenario") -> Scenario:
    """A user's own window, checked: ``[a-z0-9_-]`` id not taken by the library, ISO dates,
    ``start`` before ``end``. ``where`` prefixes error messages (e.g. ``custom_scenarios[0]``).
    """
    if not isinstance(id, str) or not _ID.fullmatch(id):
        raise StressInputError(f"{where}.id: must be 1-48 characters of a-z, 0-9, _ and -, "
                            f"starting with a letter or digit; got {id!r}")
    if id in LIBRARY:
        raise StressInputError(f"{where}.id: {id!r} is a built-in scenario; choose another id")
    first, last = _iso(start, f"{where}.start"), _iso(end, f"{where}.end")
    if last <= first:
        raise StressInputError(f"{where}.end: must be after start ({first}), got {last}")
    if name is not None and (not isinstance(name, str) or not name.strip()
                             or len(name) > 80):
        raise StressInputError(f"{where}.name: must be a non-empty text of at most 80 characters")
    if not isinstance(description, str) or len(description) > 300:
        raise StressInputError(f"{where}.description: must be a text of at most 300 characters")
    return Scenario(id, (name or id).strip(), first, last, description, "user-defined window",
                    custom=True)


def parse_custom_scenarios(items: Sequence[Mapping[str, Any]] | None,
                           where: str = "custom_scenarios") -> list[Scenario]:
    """Custom windows from JSON data: ``[{"id", "start", "end", "name"?, "description"?}]``.

    Raises
    ------
    StressInputError : naming the item and field (``custom_scenarios[1].end: ...``).
    """
    if items is None:
        return []
    if not isinstance(items, list | tuple):
        raise StressInputError(f"{where}: must be a list of windows "
                            '[{"id": ..., "start": ..., "end": ...}]')
    if len(items) > MAX_CUSTOM_SCENARIOS:
        raise StressInputError(f"{where}: at most {MAX_CUSTOM_SCENARIOS} windows, got {len(items)}")
    scenarios: list[Scenario] = []
    for i, item in enumerate(items):
        here = f"{where}[{i}]"
        if not isinstance(item, Mapping):
            raise StressInputError(f"{here}: must be an object with id, start and end")
        unknown = sorted(set(item) - {"id", "start", "end", "name", "description"})
        if unknown:
            raise StressInputError(f"{here}.{unknown[0]}: unknown field; allowed: id, start, end, "
                                "name, description")
        scenario = custom_scenario(item.get("id"), item.get("start"), item.get("end"),
                                   item.get("name"), item.get("description") or "", here)
        if any(s.id == scenario.id for s in scenarios):
            raise StressInputError(f"{here}.id: {scenario.id!r} is used twice")
        scenarios.append(scenario)
    return scenarios
