"""Live prices and live PnL over WebSockets (docs/api.md#live-websocket): the ASGI server that owns
``/ws/prices`` and mounts the Dash/Flask app, the price feed and its sources, the fan-out to
clients, and the live PnL of a followed strategy computed with the engine's own functions.

Modules: :mod:`app.live.asgi` (the server), :mod:`app.live.socket` (one client connection),
:mod:`app.live.hub` (per-client bounded queues), :mod:`app.live.bus` (in-process or Redis
pub/sub), :mod:`app.live.feed` (runs a source, leader election in server mode),
:mod:`app.live.sources` (replay, yfinance), :mod:`app.live.pnl` (live PnL),
:mod:`app.live.auth` (token checks on the handshake), :mod:`app.live.messages` (the JSON).
"""
