"""``/api/v1/strategies``: the caller's saved strategies (someone else's id answers 404)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from flask_jwt_extended import jwt_required

from app.api import MAX_ID, MAX_PAGE_SIZE
from app.api.schemas import DuplicateIn, StrategyIn, StrategyUpdateIn, strategy_json
from app.api.validation import parse_body, query_int
from app.auth import current_user_id
from app.context import arena
from app.services import session_scope
from app.services import strategies as service
from app.services.errors import InvalidInputError

bp = Blueprint("strategies", __name__, url_prefix="/strategies")
ID = f"<int(min=1, max={MAX_ID}):strategy_id>"


@bp.get("")
@jwt_required()
def list_strategies() -> Response:
    limit = query_int("limit", 100, minimum=1, maximum=MAX_PAGE_SIZE)
    offset = query_int("offset", 0, minimum=0, maximum=MAX_ID)
    user_id = current_user_id()
    with arena().sessions() as session:
        items = service.list_strategies(session, user_id, limit=limit, offset=offset)
        total = service.count_strategies(session, user_id)
        return jsonify(strategies=[strategy_json(s) for s in items], total=total)


@bp.post("")
@jwt_required()
def create_strategy() -> tuple[Response, int]:
    body = parse_body(StrategyIn)
    with session_scope(arena().sessions) as session:
        strategy = service.create_strategy(session, current_user_id(), body.spec, body.name)
        return jsonify(strategy=strategy_json(strategy)), 201


@bp.get(f"/{ID}")
@jwt_required()
def get_strategy(strategy_id: int) -> Response:
    with arena().sessions() as session:
        strategy = service.get_strategy(session, current_user_id(), strategy_id)
        return jsonify(strategy=strategy_json(strategy))


@bp.put(f"/{ID}")
@jwt_required()
def update_strategy(strategy_id: int) -> Response:
    """Change the name and/or the spec; send ``version`` to refuse stale overwrites (409)."""
    body = parse_body(StrategyUpdateIn)
    if body.name is None and body.spec is None:
        raise InvalidInputError("nothing to update", {"$": "send name and/or spec"})
    with session_scope(arena().sessions) as session:
        strategy = service.update_strategy(session, current_user_id(), strategy_id,
                                           spec=body.spec, name=body.name,
                                           expected_version=body.version)
        return jsonify(strategy=strategy_json(strategy))


@bp.delete(f"/{ID}")
@jwt_required()
def delete_strategy(strategy_id: int) -> tuple[str, int]:
    with session_scope(arena().sessions) as session:
        service.delete_strategy(session, current_user_id(), strategy_id)
    return "", 204


@bp.post(f"/{ID}/duplicate")
@jwt_required()
def duplicate_strategy(strategy_id: int) -> tuple[Response, int]:
    body = parse_body(DuplicateIn, optional=True)
    with session_scope(arena().sessions) as session:
        copy = service.duplicate_strategy(session, current_user_id(), strategy_id, body.name)
        return jsonify(strategy=strategy_json(copy)), 201
