"""The JSON messages of ``/ws/prices`` (docs/api.md#live-websocket), built in one place.

Server → client: ``tick``, ``bar``, ``pnl``, ``error`` (docs/api.md#live-websocket) and two
extensions:
``heartbeat`` (``{"type": "heartbeat", "ts"}``, every ``LIVE_HEARTBEAT_SECONDS`` so clients can
tell a quiet feed from a dead socket) and ``subscribed`` (the symbols now streamed and the
feed's source, after every subscribe/unsubscribe/follow). Ticks carry ``seq``, a per-symbol
counter that grows by one per tick, so a client can prove it missed nothing.

Timestamps are ISO 8601 strings: ticks in UTC with a ``Z``; bars by their trading date
(``2024-03-01``, the docs/prices.md date of a daily bar).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def utc_now_iso() -> str:
    """The current time as ISO 8601 UTC with microseconds, e.g. ``2024-03-01T14:30:00.123456Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def tick(symbol: str, ts: str, price: float, volume: float, source: str, seq: int
         ) -> dict[str, Any]:
    return {"type": "tick", "symbol": symbol, "ts": ts, "price": price, "volume": volume,
            "source": source, "seq": seq}


def bar(symbol: str, ts: str, open_: float, high: float, low: float, close: float,
        volume: float, source: str) -> dict[str, Any]:
    return {"type": "bar", "symbol": symbol, "ts": ts, "open": open_, "high": high, "low": low,
            "close": close, "volume": volume, "source": source}


def error(message: str) -> dict[str, Any]:
    return {"type": "error", "message": message}


def heartbeat() -> dict[str, Any]:
    return {"type": "heartbeat", "ts": utc_now_iso()}


def subscribed(symbols: list[str], source: str, available: list[str]) -> dict[str, Any]:
    return {"type": "subscribed", "symbols": symbols, "source": source, "available": available}
