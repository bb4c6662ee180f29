"""Alembic migration environment and scripts (run them with ``arena db upgrade``)."""
