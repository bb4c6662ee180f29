"""Business operations on users, strategies and runs.

Routes and pages call these functions, never SQL. Each takes a SQLAlchemy ``Session`` (the
caller owns the transaction: see :func:`app.services.session_scope`) and the acting user's id,
and every query is scoped to that owner: someone else's object is simply not found.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker


@contextmanager
def session_scope(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    with sessions() as session, session.begin():
        yield session
