"""The declarative base of every database table (one metadata, so Alembic sees all of them).

It lives in the data layer, the lowest layer that owns tables (the price store), so that
``data/`` never imports ``app/``; the application's tables (``app.models``) derive from it too.
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base of every table."""
