"""Background jobs: run heartbeats, worker, attempts, admin-only tracebacks, retries, run parts
(chunked sweeps) and admin users.

Revision ID: 0003
Revises: 0002
Create Date: 2026-01-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("is_admin", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table("backtest_runs") as batch:
        batch.add_column(sa.Column("error_detail", sa.Text(), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("worker", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("retry_of_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("parts_total", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("parts_done", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.create_foreign_key("fk_backtest_runs_retry_of_id", "backtest_runs",
                                 ["retry_of_id"], ["id"], ondelete="SET NULL")
        batch.create_index("ix_backtest_runs_status", ["status"])
    op.create_table(
        "run_parts",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["backtest_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "part"),
    )


def downgrade() -> None:
    op.drop_table("run_parts")
    with op.batch_alter_table("backtest_runs") as batch:
        batch.drop_index("ix_backtest_runs_status")
        batch.drop_constraint("fk_backtest_runs_retry_of_id", type_="foreignkey")
        for column in ("parts_done", "parts_total", "retry_of_id", "attempts", "worker",
                       "heartbeat_at", "error_detail"):
            batch.drop_column(column)
    with op.batch_alter_table("users") as batch:
        batch.drop_column("is_admin")
