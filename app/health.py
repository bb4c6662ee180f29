"""``GET /api/health``: which backends this instance uses and whether they answer.

The endpoint is public, so it says *whether* a backend answers, never how it is reached: no
host, port, database name or driver message (those go to the server log, for admins).
"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify

from app.auth import auth_backends
from app.cache import redis_reachable
from app.context import arena
from app.db import database_reachable
from app.version import __version__

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)
UNREACHABLE = "not answering (the server log has the details)"


@bp.get("/api/health")
def health():
    """Always 200 while the web process runs; ``status`` is ``degraded`` when a backend it
    needs does not answer (its ``error`` says so), or while the login limits count in this
    process because Redis is down (``auth.rate_limits`` is then ``in-process``)."""
    ctx = arena()
    db_ok, db_error = database_reachable(ctx.engine)
    if ctx.redis is None:
        cache_ok, cache_error = True, None
    else:
        cache_ok, cache_error = redis_reachable(ctx.redis)
    for name, error in (("database", db_error), ("redis", cache_error)):
        if error:
            log.warning("health: %s unreachable: %s", name, error)
    auth = auth_backends()
    limits_ok = ctx.redis is None or auth["rate_limits"] == "redis"
    body = {
        "status": "ok" if db_ok and cache_ok and limits_ok else "degraded",
        "version": __version__,
        "environment": ctx.settings.env,
        "database": {"backend": ctx.settings.database_backend, "reachable": db_ok,
                     "error": None if db_ok else UNREACHABLE},
        "cache": {"backend": ctx.cache_backend, "reachable": cache_ok,
                  "error": None if cache_ok else UNREACHABLE, **price_cache_counters(ctx)},
        "jobs": {"backend": ctx.job_backend, "reachable": cache_ok,
                 "error": None if cache_ok else UNREACHABLE},
        "auth": auth,
        "data_provider": ctx.settings.data_provider,
    }
    return jsonify(body)


def price_cache_counters(ctx) -> dict[str, int]:
    """``hits``, ``misses``, ``provider_calls`` (and ``errors``) of this process's price
    service since it started."""
    return ctx.prices.stats.snapshot()
