"""``/api/v1/symbols`` and ``/api/v1/prices/<symbol>``: market data as contract §2 rows."""

from __future__ import annotations

import math

from flask import Blueprint, Response, jsonify
from flask_jwt_extended import jwt_required

from app.api.validation import query_date
from app.context import arena
from app.services.errors import InvalidInputError
from app.services.prices import available_symbols, check_symbol, load_prices

bp = Blueprint("prices", __name__)
MAX_BARS = 20_000


@bp.get("/symbols")
@jwt_required()
def symbols() -> Response:
    return jsonify(symbols=available_symbols(arena().prices))


@bp.get("/prices/<symbol>")
@jwt_required()
def prices(symbol: str) -> Response:
    """Daily bars of ``symbol``, ``start``/``end`` inclusive (ISO dates, optional)."""
    symbol = check_symbol(symbol)
    start, end = query_date("start"), query_date("end")
    if start and end and start > end:
        raise InvalidInputError("empty date range", {"end": "must not be before start"})
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
