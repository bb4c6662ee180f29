"""Getting the database ready when the app starts, and refusing to serve it when it isn't.

- Embedded mode (no Redis): the migrations run on start, and a database without users gets the
  demo account (when ``ARENA_SEED_DEMO`` is on, the development default).
- Server mode: migrating is an explicit step (``arena db upgrade``, run once per deploy, not
  by every web process). A database behind the code gets a 503 with the fix on every request
  but ``/api/health``, and the error is logged; the check repeats every few seconds, so the
  app recovers without a restart once the database is migrated.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, jsonify, request

from app.context import AppContext
from app.migrate import schema_status, upgrade

log = logging.getLogger(__name__)

RECHECK_SECONDS = 5.0
UNGATED_PREFIXES = ("/api/health", "/assets/", "/_dash-component-suites/", "/favicon.ico",
                    "/_favicon.ico")


def prepare_database(context: AppContext) -> bool:
    """Embedded mode: migrate and seed the demo account if wanted. True if the demo was seeded.

    Raises whatever the database raises (unreachable, say).
    """
    settings = context.settings
    if not settings.embedded:
        return False
    upgrade(context.engine)
    if not settings.seed_demo:
        return False
    from app.services import session_scope
    from app.services.demo import seed_demo_if_empty

    with session_scope(context.sessions) as session:
        return seed_demo_if_empty(session)


class SchemaGate:
    """A ``before_request`` hook answering 503 while the schema is not at the code's head."""

    def __init__(self, context: AppContext) -> None:
        self._context = context
        self._ok = False
        self._checked_at = 0.0
        self._problem = "the database has not been checked yet"

    def fail(self, exc: BaseException) -> None:
        """Record a startup failure (checked again after a few seconds)."""
        self._ok, self._checked_at = False, time.monotonic()
        self._problem = f"the database could not be prepared: {_first_line(exc)}"
        log.error("%s", self._problem)

    def check(self) -> bool:
        """Check the schema now; True when it is up to date (then it stays so)."""
        self._checked_at = time.monotonic()
        try:
            status = schema_status(self._context.engine)
        except Exception as exc:  # unreachable database: report it, try again later
            self._problem = f"the database is unreachable: {_first_line(exc)}"
            log.error("%s", self._problem)
            return False
        self._ok = status.up_to_date
        if not self._ok:
            self._problem = status.describe(self._context.settings.database_url)
            log.error("refusing to serve: %s", self._problem)
        return self._ok

    def __call__(self) -> Response | tuple[Response | str, int] | None:
        if self._ok or request.path.startswith(UNGATED_PREFIXES):
            return None
        if time.monotonic() - self._checked_at >= RECHECK_SECONDS and self.check():
            return None
        message = f"Strategy Arena can't serve requests: {self._problem}"
        if request.path.startswith(("/api/", "/_dash-")):
            response = jsonify(error={"code": "database_not_ready", "message": message,
                                      "fields": {}})
            return response, 503
        return message, 503

    @property
    def ok(self) -> bool:
        return self._ok

    @property
    def problem(self) -> str:
        return self._problem


def install_schema_gate(server: Flask, context: AppContext) -> bool:
    """Prepare the database (embedded mode) and gate the requests on its schema.

    Returns True when the demo account was seeded now.
    """
    gate = SchemaGate(context)
    server.before_request(gate)
    server.extensions["arena_schema_gate"] = gate
    try:
        seeded = prepare_database(context)
    except Exception as exc:  # unreachable or broken database: every request says so
        gate.fail(exc)
        return False
    gate.check()
    return seeded


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"
