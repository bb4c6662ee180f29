"""Saved strategies of one user: create, read, update, delete, duplicate.

Specs are validated with the engine (``engine.spec.parse_spec``) and stored normalised
(every default filled in), so what is saved is exactly what a run will use.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.models import NAME_MAX_LENGTH, Strategy, utcnow
from app.services.errors import ConflictError, InvalidInputError, NotFoundError
from engine.spec import SpecError, parse_spec

COPY_SUFFIX = " (copy)"


def validate_spec(spec: Any, field: str = "spec") -> dict[str, Any]:
    """The normalised spec dict, or InvalidInputError with paths under ``field``."""
    if not isinstance(spec, dict):
        raise InvalidInputError("invalid strategy spec", {field: "must be a JSON object"})
    try:
        return parse_spec(spec).to_dict()
    except SpecError as error:
        fields = {(field if path == "$" else f"{field}.{path}"): message
                  for path, message in error.errors.items()}
        raise InvalidInputError("invalid strategy spec", fields) from None


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError("invalid name", {"name": "must be a non-empty string"})
    name = name.strip()
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInputError("invalid name",
                                {"name": f"must have at most {NAME_MAX_LENGTH} characters"})
    return name


def list_strategies(session: Session, user_id: int, *, limit: int = 100, offset: int = 0
                    ) -> list[Strategy]:
    """The user's strategies, most recently updated first."""
    query = (select(Strategy).where(Strategy.user_id == user_id)
             .order_by(Strategy.updated_at.desc(), Strategy.id.desc())
             .limit(limit).offset(offset))
    return list(session.scalars(query))


def count_strategies(session: Session, user_id: int) -> int:
    query = select(func.count()).select_from(Strategy).where(Strategy.user_id == user_id)
    return session.scalar(query) or 0


def get_strategy(session: Session, user_id: int, strategy_id: int) -> Strategy:
    """The user's strategy ``strategy_id``; NotFoundError if absent or someone else's."""
    strategy = session.scalar(
        select(Strategy).where(Strategy.id == strategy_id, Strategy.user_id == user_id)
    )
    if strategy is None:
        raise NotFoundError(f"strategy {strategy_id} not found")
    return strategy


def create_strategy(session: Session, user_id: int, spec: Any, name: Any = None) -> Strategy:
    """Save a new strategy; ``name`` defaults to the spec's name."""
    normalised = validate_spec(spec)
    strategy = Strategy(user_id=user_id, spec=normalised,
                        name=check_name(normalised["name"] if name is None else name))
    session.add(strategy)
    session.flush()
    return strategy


def update_strategy(session: Session, user_id: int, strategy_id: int, *, spec: Any = None,
                    name: Any = None, expected_version: int | None = None) -> Strategy:
    """Change the name and/or the spec; ``expected_version`` guards against lost updates."""
    strategy = get_strategy(session, user_id, strategy_id)
    if expected_version is not None and expected_version != strategy.version:
        raise ConflictError(
            f"strategy {strategy_id} was changed meanwhile (version {strategy.version}, "
            f"you sent {expected_version}); reload it and apply your change again",
            {"version": f"must be the current version {strategy.version}"},
        )
    if spec is not None:
        strategy.spec = validate_spec(spec)
    if name is not None:
        strategy.name = check_name(name)
    strategy.updated_at = utcnow()
    try:
        session.flush()
    except StaleDataError:
        raise ConflictError(f"strategy {strategy_id} was changed meanwhile; reload it") from None
    return strategy


def delete_strategy(session: Session, user_id: int, strategy_id: int) -> None:
    """Delete the strategy and its runs."""
    session.delete(get_strategy(session, user_id, strategy_id))
    session.flush()


def duplicate_strategy(session: Session, user_id: int, strategy_id: int,
                       name: Any = None) -> Strategy:
    """A new strategy with the same spec, named ``name`` or "<original> (copy)"."""
    original = get_strategy(session, user_id, strategy_id)
    if name is None:
        name = original.name[: NAME_MAX_LENGTH - len(COPY_SUFFIX)] + COPY_SUFFIX
    copy = Strategy(user_id=user_id, spec=dict(original.spec), name=check_name(name))
    session.add(copy)
    session.flush()
    return copy
