"""``/api/v1/symbols`` and ``/api/v1/prices/<symbol>``: market data as docs/prices.md rows."""

from __future__ import annotations

import math
from datetime import date

from flask import Blueprint, Response, jsonify
from flask_jwt_extended import jwt_required

from app.api.errors import ApiError
from app.api.validation import query_date
from app.context import arena
from app.services.prices import available_symbols, check_symbol, load_prices

bp = Blueprint("prices", __name__)
MAX_BARS = 20_000
#: The dates a price query may name: no market data is older (the data layer starts there),
#: and later than this is no longer a date anyone means (pandas stops at 2262).
FIRST_DATE = date(1970, 1, 2)
LAST_DATE = date(2199, 12, 31)


@bp.get("/symbols")
@jwt_required()
def symbols() -> Response:
    return jsonify(symbols=available_symbols(arena().prices))


@bp.get("/prices/<symbol>")
@jwt_required()
def prices(symbol: str) -> Response:
    """Daily bars of ``symbol``, ``start``/``end`` inclusive (ISO dates, optional; the data's
    first bar and today by default)."""
    symbol = check_symbol(symbol)
    start, end = query_date("start"), query_date("end")
    check_date_range(start, end, arena().prices.today())
    frame = load_prices(arena().prices, symbol, start, end).tail(MAX_BARS)
    columns = [c for c in ("open", "high", "low", "close", "adj_close", "volume")
               if c in frame.columns]
    dates = frame.index.strftime("%Y-%m-%d")
    bars = [
        {"date": day, **{c: (None if math.isnan(v) else float(v))
                         for c, v in zip(columns, values, strict=True)}}
        for day, values in zip(dates, frame[columns].itertuples(index=False, name=None),
                               strict=True)
    ]
    return jsonify(symbol=symbol, start=start, end=end, bars=bars)


def check_date_range(start: str | None, end: str | None, today: date) -> None:
    """Raise a 422 naming the parameter when ``start``/``end`` (ISO dates or None) can't select
    any bar: outside ``[FIRST_DATE, LAST_DATE]``, ``start`` after today, or after ``end``."""
    for name, value in (("start", start), ("end", end)):
        if value is not None and not FIRST_DATE.isoformat() <= value <= LAST_DATE.isoformat():
            raise ApiError(422, "validation_failed", f"invalid query parameter {name}",
                           {name: f"must be between {FIRST_DATE} and {LAST_DATE}"})
    if start is not None and start > today.isoformat():
        raise ApiError(422, "validation_failed", "empty date range",
                       {"start": f"must not be after today ({today})"})
    if start is not None and end is not None and start > end:
        raise ApiError(422, "validation_failed", "empty date range",
                       {"end": "must not be before start"})
