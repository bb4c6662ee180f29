"""In-process fan-out: each connected client has a bounded queue; a slow client never delays
the others.

:meth:`Hub.dispatch` serialises an event once and puts it, without waiting, into the queue of
every client subscribed to its symbol. A full queue means that client is not reading fast
enough: the message is dropped for that client only (``Client.dropped`` counts them), and a
client that has dropped ``queue size`` messages in a row is disconnected (it would only see a
stale, gappy stream; its library reconnects and resubscribes). Each client's socket is written
by its own task, so a client that stops reading blocks only that task.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class Client:
    """One connection's outbox: JSON texts waiting to be sent, at most ``maxsize``."""

    queue: asyncio.Queue[str]
    symbols: set[str] = field(default_factory=set)
    dropped: int = 0
    dropped_in_a_row: int = 0
    too_slow: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    def with_queue(cls, maxsize: int) -> Client:
        return cls(asyncio.Queue(maxsize=maxsize))

    def offer(self, text: str) -> bool:
        """Queue ``text`` if there is room; False (and counted) when the client lags."""
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.dropped += 1
            self.dropped_in_a_row += 1
            if self.dropped_in_a_row >= self.queue.maxsize:
                self.too_slow.set()
            return False
        self.dropped_in_a_row = 0
        return True


class Hub:
    """Symbol → subscribed clients, and the listeners of completed bars (live PnL)."""

    def __init__(self) -> None:
        self._clients: dict[str, set[Client]] = defaultdict(set)
        self._bar_listeners: dict[str, set[asyncio.Queue]] = defaultdict(set)
        self.last_bar: dict[str, dict[str, Any]] = {}
        self.delivered = 0
        self.dropped = 0

    def subscribe(self, client: Client, symbols: list[str]) -> None:
        for symbol in symbols:
            self._clients[symbol].add(client)
            client.symbols.add(symbol)

    def unsubscribe(self, client: Client, symbols: list[str] | None = None) -> None:
        """Remove ``client`` from ``symbols`` (all of its symbols when None)."""
        for symbol in list(client.symbols if symbols is None else symbols):
            self._clients.get(symbol, set()).discard(client)
            client.symbols.discard(symbol)

    def listen_bars(self, symbol: str, queue: asyncio.Queue) -> None:
        """Also put every completed bar of ``symbol`` into ``queue`` (live PnL sessions)."""
        self._bar_listeners[symbol].add(queue)

    def stop_listening(self, queue: asyncio.Queue) -> None:
        for listeners in self._bar_listeners.values():
            listeners.discard(queue)

    def subscribers(self, symbol: str) -> int:
        return len(self._clients.get(symbol, ()))

    def dispatch(self, event: dict[str, Any]) -> None:
        """Deliver one tick or bar event to every client subscribed to its symbol."""
        symbol = event.get("symbol")
        if event.get("type") == "bar":
            self.last_bar[symbol] = event
            for queue in tuple(self._bar_listeners.get(symbol, ())):
                queue.put_nowait(event)  # unbounded: one bar per bar interval
        clients = self._clients.get(symbol)
        if not clients:
            return
        text = json.dumps(event, separators=(",", ":"))
        for client in tuple(clients):
            if client.offer(text):
                self.delivered += 1
            else:
                self.dropped += 1
