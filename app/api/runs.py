"""``/api/v1/runs``: start, list, read, delete, cancel and retry runs; a run's result.

Thin routes over :mod:`app.runs.service`; reading never writes (abandoned runs are failed by
the reaper on its own schedule, :mod:`app.runs.reaper`).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from flask_jwt_extended import jwt_required

from app.api import MAX_ID, MAX_PAGE_SIZE
from app.api.schemas import RunIn, run_json
from app.api.validation import parse_body, query_choice, query_int
from app.auth import current_user_id
from app.context import arena
from app.models import RUN_KINDS, RUN_STATUSES
from app.runs import service
from app.services import session_scope
from app.services.users import get_user

bp = Blueprint("runs", __name__, url_prefix="/runs")
ID = f"<int(min=1, max={MAX_ID}):run_id>"


@bp.post("")
@jwt_required()
def create_run() -> tuple[Response, int]:
    """202 ``{run}``: the run is queued (a fast run may already be finished)."""
    body = parse_body(RunIn)
    user_id = current_user_id()
    context = arena()
    run_id = service.start_run(context, user_id, body.strategy_id, body.kind, body.options)
    with context.sessions() as session:
        return jsonify(run=run_json(service.get_run(session, user_id, run_id))), 202


@bp.get("")
@jwt_required()
def list_runs() -> Response:
    filters = {
        "strategy_id": query_int("strategy_id", None, minimum=1, maximum=MAX_ID),
        "status": query_choice("status", RUN_STATUSES),
        "kind": query_choice("kind", RUN_KINDS),
    }
    limit = query_int("limit", 50, minimum=1, maximum=MAX_PAGE_SIZE)
    offset = query_int("offset", 0, minimum=0, maximum=MAX_ID)
    user_id = current_user_id()
    with arena().sessions() as session:
        runs = service.list_runs(session, user_id, limit=limit, offset=offset, **filters)
        total = service.count_runs(session, user_id, **filters)
        return jsonify(runs=[run_json(run) for run in runs], total=total)


@bp.get(f"/{ID}")
@jwt_required()
def get_run(run_id: int) -> Response:
    """The run with its spec snapshot; an admin also sees a failure's ``error_detail``."""
    context = arena()
    with context.sessions() as session:
        user_id = current_user_id()
        run = service.get_run(session, user_id, run_id)
        user = get_user(session, user_id)
        return jsonify(run=run_json(run, with_spec=True,
                                    with_error_detail=bool(user and user.is_admin)))


@bp.delete(f"/{ID}")
@jwt_required()
def delete_run(run_id: int) -> tuple[str, int]:
    with session_scope(arena().sessions) as session:
        service.delete_run(session, current_user_id(), run_id)
    return "", 204


@bp.post(f"/{ID}/cancel")
@jwt_required()
def cancel_run(run_id: int) -> Response:
    """Cancel a queued run (taken off the queue) or a running one (stopped)."""
    context = arena()
    user_id = current_user_id()
    service.stop_run(context, user_id, run_id)
    with context.sessions() as session:
        return jsonify(run=run_json(service.get_run(session, user_id, run_id)))


@bp.post(f"/{ID}/retry")
@jwt_required()
def retry_run(run_id: int) -> tuple[Response, int]:
    """202 ``{run}``: a new queued run repeating a failed or cancelled one (409 otherwise)."""
    user_id = current_user_id()
    context = arena()
    new_id = service.start_retry(context, user_id, run_id)
    with context.sessions() as session:
        return jsonify(run=run_json(service.get_run(session, user_id, new_id))), 202


@bp.get(f"/{ID}/result")
@jwt_required()
def get_result(run_id: int) -> Response:
    """The run's result document (docs/results.md#backtest-result); 409 while it has none."""
    with arena().sessions() as session:
        return jsonify(service.get_result(session, current_user_id(), run_id))
