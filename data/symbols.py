"""Symbol search for the UI: what can be loaded without a network (bundled + stored)."""

from __future__ import annotations

from functools import cache

from data.bundled import bundled_names, bundled_symbols, load_bundled
from data.store import PriceStore


@cache
def _bundled_entries() -> tuple[dict, ...]:
    names = bundled_names()
    entries = []
    for symbol in bundled_symbols():
        frame = load_bundled(symbol)
        entries.append({"symbol": symbol, "name": names.get(symbol), "source": "bundled",
                        "location": "bundled", "first_date": frame.index[0].date().isoformat(),
                        "last_date": frame.index[-1].date().isoformat()})
    return tuple(entries)


def available_symbols(store: PriceStore | None = None, query: str | None = None) -> list[dict]:
    """Symbols available locally, sorted by symbol: ``{symbol, name, source, location,
    first_date, last_date}`` with ISO dates; ``location`` is ``bundled`` (shipped sample) or
    ``database`` (ingested; ``source`` then names the provider). A symbol both shipped and stored
    appears once per location. ``query`` keeps entries whose symbol or name contains it
    (case-insensitive)."""
    entries = [dict(e) for e in _bundled_entries()]
    if store is not None:
        names = bundled_names()
        for row in store.symbols():
            entries.append({"symbol": row["symbol"],
                            "name": row["name"] or names.get(row["symbol"]),
                            "source": row["source"], "location": "database",
                            "first_date": row["first_date"].isoformat(),
                            "last_date": row["last_date"].isoformat()})
    if query:
        needle = query.strip().lower()
        entries = [e for e in entries
                   if needle in e["symbol"].lower() or needle in (e["name"] or "").lower()]
    return sorted(entries, key=lambda e: (e["symbol"], e["location"]))
