"""REST API under ``/api/v1`` (docs/api.md): auth, strategies, runs, prices, OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, Flask

API_PREFIX = "/api/v1"
#: Largest id a path or body may name (ids are 32-bit integers in the database).
MAX_ID = 2**31 - 1
#: Largest page a list route returns (``limit``); ``offset`` goes up to MAX_ID.
MAX_PAGE_SIZE = 500


def register_api(server: Flask) -> None:
    """Mount every API blueprint on ``server`` and install the JSON error handlers."""
    from app.api import auth, errors, openapi, prices, runs, strategies

    api = Blueprint("api", __name__, url_prefix=API_PREFIX)
    for module in (auth, strategies, runs, prices, openapi):
        api.register_blueprint(module.bp)
    errors.register_error_handlers(server)
    server.register_blueprint(api)
