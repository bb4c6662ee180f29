"""One ``/ws/prices`` connection (docs/api.md#live-websocket): authenticate, then serve its
requests.

The handshake is accepted first and then, when the token is missing, invalid, expired or
revoked (or a cookie comes from a foreign origin), closed with code 1008 and the reason (a
close before accepting would answer HTTP 403 with no reason). Then three tasks run side by
side until the client leaves:

- the **sender** writes the client's queue to the socket (a heartbeat when nothing was sent
  for ``LIVE_HEARTBEAT_SECONDS``) and closes the socket with 1013 when the hub marks the client
  as too slow;
- the **receiver** reads ``subscribe`` / ``unsubscribe`` / ``follow`` actions;
- a **follower** (after ``follow``) turns each completed bar of the strategy's symbol into a
  ``pnl`` message (:mod:`app.live.pnl`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from app.live import messages
from app.live.auth import ACCESS_COOKIE, SocketAuthError, decode_and_check, origin_allowed
from app.live.hub import Client
from app.live.pnl import LivePnL, warmup_bars
from app.live.service import LiveService
from app.services.errors import NotFoundError

log = logging.getLogger(__name__)

POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013
MAX_SYMBOLS = 50
MAX_MESSAGE_CHARS = 4096


async def authenticate(ws: WebSocket, live: LiveService) -> int | None:
    """The user id, or None after closing the socket with 1008 and the reason."""
    token = ws.query_params.get("token")
    from_cookie = not token
    if from_cookie:
        token = ws.cookies.get(ACCESS_COOKIE)
    await ws.accept()
    if from_cookie and token and not origin_allowed(
            ws.headers.get("origin"), ws.headers.get("host"),
            live.settings.live_allowed_origins):
        await ws.close(POLICY_VIOLATION, f"origin {ws.headers.get('origin')} is not allowed "
                                         "to use the session cookie (LIVE_ALLOWED_ORIGINS)")
        return None
    try:
        return await asyncio.to_thread(decode_and_check, live.server, token)
    except SocketAuthError as exc:
        await ws.close(POLICY_VIOLATION, exc.reason[:120])  # a close reason is <= 123 bytes
        return None


async def serve_socket(ws: WebSocket, live: LiveService) -> None:
    user_id = await authenticate(ws, live)
    if user_id is None:
        return
    connection = Connection(ws, live, user_id)
    await connection.run()


class Connection:
    def __init__(self, ws: WebSocket, live: LiveService, user_id: int) -> None:
        self.ws = ws
        self.live = live
        self.user_id = user_id
        self.client = Client.with_queue(live.settings.live_client_queue)
        self.follower: asyncio.Task | None = None

    def send(self, message: dict[str, Any]) -> None:
        self.client.offer(json.dumps(message, separators=(",", ":")))

    async def run(self) -> None:
        sender = asyncio.create_task(self._send_loop())
        receiver = asyncio.create_task(self._receive_loop())
        try:
            await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.live.hub.unsubscribe(self.client)
            for task in (sender, receiver, self.follower):
                if task is not None:
                    task.cancel()
            await asyncio.gather(sender, receiver, *([self.follower] if self.follower else []),
                                 return_exceptions=True)

    async def _send_loop(self) -> None:
        heartbeat = self.live.settings.live_heartbeat_seconds
        queue = self.client.queue
        slow = asyncio.create_task(self.client.too_slow.wait())
        get: asyncio.Task | None = None
        try:
            while True:
                if self.client.too_slow.is_set():
                    await self.ws.close(TRY_AGAIN_LATER, f"too slow: {self.client.dropped} "
                                                         "messages dropped; reconnect")
                    return
                if not queue.empty():  # the common case under load: no task, no timer
                    await self.ws.send_text(queue.get_nowait())
                    continue
                get = asyncio.create_task(queue.get())
                done, _ = await asyncio.wait({get, slow}, timeout=heartbeat,
                                             return_when=asyncio.FIRST_COMPLETED)
                if get in done:
                    await self.ws.send_text(get.result())
                else:
                    get.cancel()
                    if slow not in done:
                        await self.ws.send_text(json.dumps(messages.heartbeat()))
                get = None
        except (WebSocketDisconnect, RuntimeError, OSError):
            return  # the client went away
        finally:
            slow.cancel()
            if get is not None:
                get.cancel()

    async def _receive_loop(self) -> None:
        try:
            while True:
                text = await self.ws.receive_text()
                self.handle(text)
        except (WebSocketDisconnect, RuntimeError, OSError):
            return

    def handle(self, text: str) -> None:
        """Act on one client message; problems are answered with an ``error`` message."""
        if len(text) > MAX_MESSAGE_CHARS:
            self.send(messages.error(f"message too long (over {MAX_MESSAGE_CHARS} characters)"))
            return
        try:
            request = json.loads(text)
        except json.JSONDecodeError:
            self.send(messages.error("not JSON: send e.g. "
                                     '{"action": "subscribe", "symbols": ["SPY"]}'))
            return
        action = request.get("action") if isinstance(request, dict) else None
        if action in ("subscribe", "unsubscribe"):
            symbols = self._symbols(request.get("symbols"))
            if symbols is None:
                return
            if action == "subscribe":
                self.live.hub.subscribe(self.client, symbols)
                self._send_last_bars(symbols)
            else:
                self.live.hub.unsubscribe(self.client, symbols)
            self._send_subscribed()
        elif action == "follow":
            strategy_id = request.get("strategy_id")
            if isinstance(strategy_id, bool) or not isinstance(strategy_id, int):
                self.send(messages.error("follow: strategy_id must be a whole number"))
                return
            if self.follower is not None:
                self.follower.cancel()
            self.follower = asyncio.create_task(self._follow(strategy_id))
        elif action == "unfollow":
            if self.follower is not None:
                self.follower.cancel()
                self.follower = None
        else:
            self.send(messages.error(f"unknown action {action!r}: use subscribe, unsubscribe, "
                                     "follow or unfollow"))

    def _symbols(self, raw: Any) -> list[str] | None:
        if not isinstance(raw, list) or not raw or not all(isinstance(s, str) for s in raw):
            self.send(messages.error('symbols must be a non-empty list like ["SPY", "QQQ"]'))
            return None
        symbols = sorted({s.strip().upper() for s in raw})
        unknown = [s for s in symbols if s not in self.live.symbols]
        if unknown:
            self.send(messages.error(f"not in the live feed: {', '.join(unknown)}; available: "
                                     f"{', '.join(self.live.symbols)}"))
            return None
        if len(self.client.symbols | set(symbols)) > MAX_SYMBOLS:
            self.send(messages.error(f"at most {MAX_SYMBOLS} symbols per connection"))
            return None
        return symbols

    def _send_subscribed(self) -> None:
        message = messages.subscribed(sorted(self.client.symbols), self.live.source,
                                      self.live.symbols)
        message["label"] = self.live.source_label
        self.send(message)

    def _send_last_bars(self, symbols: list[str]) -> None:
        for symbol in symbols:
            last = self.live.hub.last_bar.get(symbol)
            if last is not None:
                self.send(last)

    async def _follow(self, strategy_id: int) -> None:
        live = self.live
        try:
            spec = await asyncio.to_thread(live.strategy_spec, self.user_id, strategy_id)
        except NotFoundError:
            self.send(messages.error(f"strategy {strategy_id} not found among your strategies"))
            return
        symbol = spec["symbol"]
        if symbol not in live.symbols:
            self.send(messages.error(f"strategy {strategy_id} trades {symbol}, which is not in "
                                     f"the live feed ({', '.join(live.symbols)})"))
            return
        bars: asyncio.Queue = asyncio.Queue()
        live.hub.listen_bars(symbol, bars)
        live.hub.subscribe(self.client, [symbol])
        self._send_subscribed()
        wanted = warmup_bars(spec, live.settings.live_warmup_bars)
        session: LivePnL | None = None
        try:
            last = live.hub.last_bar.get(symbol)
            if last is not None:
                session = await self._warm_up(spec, symbol, wanted, through=last["ts"])
                self.send({**_flat(session, strategy_id, last["ts"]), "warmup_bars": wanted})
            while True:
                bar = await bars.get()
                if session is None or not session.accepts(bar["ts"]):
                    session = await self._warm_up(spec, symbol, wanted, before=bar["ts"])
                state = await asyncio.to_thread(session.on_bar, bar["ts"], bar["open"],
                                                bar["high"], bar["low"], bar["close"],
                                                bar["volume"])
                self.send(state.message(strategy_id))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a data problem ends this follow, not the connection
            log.exception("live PnL of strategy %s failed", strategy_id)
            self.send(messages.error(f"live PnL of strategy {strategy_id} stopped: {exc}"))
        finally:
            live.hub.stop_listening(bars)

    async def _warm_up(self, spec: dict, symbol: str, bars: int, **limit: str) -> LivePnL:
        history = await asyncio.to_thread(self.live.history, symbol, bars=bars, **limit)
        return await asyncio.to_thread(LivePnL, spec, history)


def _flat(session: LivePnL, strategy_id: int, ts: str) -> dict[str, Any]:
    cash = session.config.initial_cash
    return {"type": "pnl", "strategy_id": strategy_id, "ts": ts, "position": 0.0,
            "entry_price": None, "unrealized_pnl": 0.0, "realized_pnl": 0.0, "equity": cash,
            "signal": None, "side": None, "closed_trades": 0}
