"""The data layer's price store: price_bars, price_coverage, price_symbols (data/store.py).

Until this revision existed, ``data.store.PriceStore`` created these tables itself
(``create_all``), so a database may already have them: they are created only when missing.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "price_bars" not in existing:
        op.create_table(
            "price_bars",
            sa.Column("symbol", sa.String(length=20), nullable=False),
            sa.Column("interval", sa.String(length=8), nullable=False),
            sa.Column("date", sa.DateTime(), nullable=False),
            sa.Column("open", sa.Double(), nullable=False),
            sa.Column("high", sa.Double(), nullable=False),
            sa.Column("low", sa.Double(), nullable=False),
            sa.Column("close", sa.Double(), nullable=False),
            sa.Column("adj_close", sa.Double(), nullable=False),
            sa.Column("volume", sa.Double(), nullable=False),
            sa.Column("source", sa.String(length=16), nullable=False),
            sa.PrimaryKeyConstraint("symbol", "interval", "date"),
        )
    if "price_coverage" not in existing:
        op.create_table(
            "price_coverage",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("symbol", sa.String(length=20), nullable=False),
            sa.Column("interval", sa.String(length=8), nullable=False),
            sa.Column("start_date", sa.Date(), nullable=False),
            sa.Column("end_date", sa.Date(), nullable=False),
            sa.Column("source", sa.String(length=16), nullable=False),
            sa.Column("fetched_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_price_coverage_symbol_interval", "price_coverage",
                        ["symbol", "interval"])
    if "price_symbols" not in existing:
        op.create_table(
            "price_symbols",
            sa.Column("symbol", sa.String(length=20), nullable=False),
            sa.Column("name", sa.String(length=200), nullable=True),
            sa.Column("source", sa.String(length=16), nullable=False),
            sa.PrimaryKeyConstraint("symbol"),
        )


def downgrade() -> None:
    op.drop_table("price_symbols")
    op.drop_index("ix_price_coverage_symbol_interval", table_name="price_coverage")
    op.drop_table("price_coverage")
    op.drop_table("price_bars")
