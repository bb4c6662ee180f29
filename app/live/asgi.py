"""The one ASGI application behind ``arena serve``: FastAPI owns ``/ws/prices`` and mounts the
Flask/Dash app (pages, callbacks, REST API) for every other path, so the embedded default is
one command, one port, one origin.

Production runs the same app under gunicorn with uvicorn workers::

    gunicorn -k uvicorn_worker.UvicornWorker -w 2 -b 0.0.0.0:8050 'app.live.asgi:create_asgi()'

With ``REDIS_URL`` set the workers share one price feed through Redis pub/sub
(:mod:`app.live.bus`, :mod:`app.live.feed`); without it each process runs its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from a2wsgi import WSGIMiddleware
from dash import Dash
from fastapi import FastAPI, WebSocket

from app.config import Settings
from app.live.bus import LocalBus, RedisBus
from app.live.feed import FeedRunner
from app.live.hub import Hub
from app.live.service import LiveService, make_source
from app.live.socket import serve_socket

#: Threads serving the mounted Flask/Dash app (page loads, callbacks, API requests).
WSGI_THREADS = 16


def create_asgi(settings: Settings | None = None, dash_app: Dash | None = None) -> FastAPI:
    """The ASGI app for ``settings`` (from the environment when omitted).

    ``dash_app`` is built with :func:`app.create_app` unless given. ``app.state.live`` is the
    :class:`LiveService` (hub, settings, data access) and ``app.state.dash`` the Dash app.
    """
    from app import create_app

    settings = settings or Settings.from_env()
    dash_app = dash_app or create_app(settings)
    server = dash_app.server
    live = LiveService(Hub(), settings, server, server.extensions["arena"])

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        client = None if settings.embedded else aioredis.from_url(settings.redis_url)
        bus = LocalBus(live.hub) if client is None else RedisBus(live.hub, client,
                                                                 settings.queue_prefix)
        await bus.start()
        feed = FeedRunner(lambda: make_source(settings, live.context), bus, client,
                          settings.queue_prefix)
        feed.start()
        api.state.feed = feed
        try:
            yield
        finally:
            await feed.stop()
            await bus.stop()

    api = FastAPI(title="Strategy Arena live", lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url=None)
    api.state.live = live
    api.state.dash = dash_app

    @api.websocket("/ws/prices")
    async def prices(ws: WebSocket) -> None:
        await serve_socket(ws, live)

    api.mount("/", WSGIMiddleware(server, workers=WSGI_THREADS))
    return api
