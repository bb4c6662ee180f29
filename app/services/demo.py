"""The demo account and its example strategies (``arena db seed-demo``; the embedded quick start).

The demo password is public (it is in the README): the seed is for local trials, and the
production settings turn it off (``ARENA_SEED_DEMO``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Strategy, User
from app.services.strategies import create_strategy
from app.services.users import count_users, find_user_by_email, register_user
from engine.spec import load_example

DEMO_EMAIL = "demo@strategy-arena.local"
DEMO_PASSWORD = "arena-demo"
#: engine/examples/<name>.json, in the order they are created.
DEMO_EXAMPLES = ("rsi_mean_reversion", "sma_crossover", "bollinger_breakout")


def seed_demo(session: Session) -> tuple[User, list[Strategy]]:
    """Create the demo user and whichever example strategies it lacks (idempotent).

    Returns the demo user and the strategies created by this call.
    """
    user = find_user_by_email(session, DEMO_EMAIL)
    if user is None:
        user = register_user(session, DEMO_EMAIL, DEMO_PASSWORD)
    existing = set(session.scalars(select(Strategy.name).where(Strategy.user_id == user.id)))
    created = []
    for example in DEMO_EXAMPLES:
        spec = load_example(example).to_dict()
        if spec["name"] not in existing:
            created.append(create_strategy(session, user.id, spec))
    return user, created


def seed_demo_if_empty(session: Session) -> bool:
    """Seed the demo account when the database has no users at all; True if it did."""
    if count_users(session):
        return False
    seed_demo(session)
    return True
