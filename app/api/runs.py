"""``/api/v1/runs``: create (enqueue), list, read, delete, cancel runs; a run's result."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from flask_jwt_extended import jwt_required

from app.api import MAX_ID
from app.api.schemas import RunIn, run_json
from app.api.validation import parse_body, query_choice, query_int
from app.auth import current_user_id
from app.context import arena
from app.models import RUN_KINDS, RUN_STATUSES
from app.services import runs as service
from app.services import session_scope
from app.services.jobs import submit_run

bp = Blueprint("runs", __name__, url_prefix="/runs")
ID = f"<int(min=1, max={MAX_ID}):run_id>"


@bp.post("")
@jwt_required()
def create_run() -> tuple[Response, int]:
    """202 ``{run}``: the run is queued (today it also executes before the answer)."""
    body = parse_body(RunIn)
    user_id = current_user_id()
    context = arena()
    with session_scope(context.sessions) as session:
        run_id = service.create_run(session, user_id, body.strategy_id, body.kind,
                                    body.options).id
    submit_run(context, run_id)
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
    limit = query_int("limit", 50, minimum=1, maximum=500)
    offset = query_int("offset", 0, minimum=0, maximum=MAX_ID)
    user_id = current_user_id()
    with arena().sessions() as session:
        runs = service.list_runs(session, user_id, limit=limit, offset=offset, **filters)
        total = service.count_runs(session, user_id, **filters)
        return jsonify(runs=[run_json(run) for run in runs], total=total)


@bp.get(f"/{ID}")
@jwt_required()
def get_run(run_id: int) -> Response:
    with arena().sessions() as session:
        return jsonify(run=run_json(service.get_run(session, current_user_id(), run_id),
                                    with_spec=True))


@bp.delete(f"/{ID}")
@jwt_required()
def delete_run(run_id: int) -> tuple[str, int]:
    with session_scope(arena().sessions) as session:
        service.delete_run(session, current_user_id(), run_id)
    return "", 204


@bp.post(f"/{ID}/cancel")
@jwt_required()
def cancel_run(run_id: int) -> Response:
    with session_scope(arena().sessions) as session:
        return jsonify(run=run_json(service.cancel_run(session, current_user_id(), run_id)))


@bp.get(f"/{ID}/result")
@jwt_required()
def get_result(run_id: int) -> Response:
    """The run's result document (contract §3); 409 while it has none."""
    with arena().sessions() as session:
        return jsonify(service.get_result(session, current_user_id(), run_id))
