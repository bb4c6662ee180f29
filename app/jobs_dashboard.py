"""``/rq``: the job dashboard, for admins only (``arena db make-admin EMAIL``).

With Redis it is rq-dashboard (queues, workers, jobs and their registries) mounted as a Flask
blueprint; if rq-dashboard is not installed, or in embedded mode, a small JSON status page takes
its place. Either way the login check of every page applies first (no session: redirect to the
login), then this module's admin check (403 for everyone else).

rq-dashboard's buttons (requeue, delete, empty) POST without our CSRF header, so they are refused:
the dashboard is read-only here, and changes go through the API or ``rq`` on the command line.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, redirect, request

from app.api.errors import error_response
from app.context import AppContext, arena
from app.services.users import get_user

log = logging.getLogger(__name__)
PREFIX = "/rq"


def _admin_only() -> Response | None:
    if request.path != PREFIX and not request.path.startswith(f"{PREFIX}/"):
        return None
    user_id = g.get("arena_user_id")  # set by the login check of every page (it runs first)
    if user_id is None:
        return error_response(401, "unauthorized", "log in first")
    with arena().sessions() as session:
        user = get_user(session, user_id)
        if user is None or not user.is_admin:
            return error_response(403, "forbidden", "the job dashboard is for administrators")
    if request.method == "GET" and request.path.startswith(f"{PREFIX}/requeue/"):
        return error_response(405, "method_not_allowed", "requeue jobs with POST")
    return None


def install_jobs_dashboard(server: Flask, context: AppContext) -> str:
    """Mount the dashboard at /rq; returns which one (``rq-dashboard`` or ``status``)."""
    kind = "status"
    blueprint: Blueprint | None = None
    if context.redis is not None:
        blueprint = _rq_dashboard(server, context)
        kind = "rq-dashboard" if blueprint is not None else kind
    if blueprint is None:
        blueprint = Blueprint("jobs_status", __name__)
        blueprint.add_url_rule("/", "status", _status)
    # on the server, not the blueprint: rq-dashboard's blueprint is one object for every app
    server.before_request(_admin_only)
    server.add_url_rule(PREFIX, "jobs_dashboard_root", lambda: redirect(f"{PREFIX}/"))
    server.register_blueprint(blueprint, url_prefix=PREFIX)
    return kind


def _rq_dashboard(server: Flask, context: AppContext) -> Blueprint | None:
    try:
        import rq_dashboard
        from rq_dashboard.web import setup_rq_connection
    except ImportError as exc:  # optional dependency (or its undeclared `six`) missing
        log.info("rq-dashboard unavailable (%s); /rq shows a JSON status instead", exc)
        return None
    server.config.setdefault("RQ_DASHBOARD_REDIS_URL", context.settings.redis_url)
    setup_rq_connection(server)
    return rq_dashboard.blueprint


def _status() -> Response:
    """Queues, workers and registries as JSON (embedded mode: the in-process runner)."""
    context = arena()
    body: dict[str, Any] = {"backend": context.job_backend}
    if context.redis is None:
        body["threads"] = context.settings.worker_threads
        body["jobs"] = context.runner.jobs()  # type: ignore[attr-defined]
        return jsonify(body)
    from rq import Queue, Worker
    from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

    queues = []
    for queue in Queue.all(connection=context.redis):
        queues.append({
            "name": queue.name, "queued": queue.count,
            "started": StartedJobRegistry(queue=queue).count,
            "scheduled": ScheduledJobRegistry(queue=queue).count,
            "failed": FailedJobRegistry(queue=queue).count})
    body["queues"] = queues
    body["workers"] = [{"name": w.name, "state": str(w.get_state()),
                        "queues": w.queue_names()} for w in Worker.all(connection=context.redis)]
    return jsonify(body)
