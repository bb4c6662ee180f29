"""``GET /api/health``: which backends this instance uses and whether they answer."""

from __future__ import annotations

from flask import Blueprint, jsonify

from app.cache import redis_reachable
from app.context import arena
from app.db import database_reachable
from app.version import __version__

bp = Blueprint("health", __name__)


@bp.get("/api/health")
def health():
    """Always 200 while the web process runs; ``status`` is ``degraded`` when a backend it
    needs does not answer, with the reason in that backend's ``error``."""
    ctx = arena()
    db_ok, db_error = database_reachable(ctx.engine)
    if ctx.redis is None:
        cache_ok, cache_error = True, None
    else:
        cache_ok, cache_error = redis_reachable(ctx.redis)
    body = {
        "status": "ok" if db_ok and cache_ok else "degraded",
        "version": __version__,
        "environment": ctx.settings.env,
        "database": {"backend": ctx.settings.database_backend, "reachable": db_ok,
                     "error": db_error},
        "cache": {"backend": ctx.cache_backend, "reachable": cache_ok, "error": cache_error,
                  **price_cache_counters(ctx)},
        "jobs": {"backend": ctx.job_backend, "reachable": cache_ok, "error": cache_error},
        "data_provider": ctx.settings.data_provider,
    }
    return jsonify(body)


def price_cache_counters(ctx) -> dict[str, int]:
    """``hits``, ``misses``, ``provider_calls`` (and ``errors``) of this process's price
    service since it started."""
    return ctx.prices.stats.snapshot()
