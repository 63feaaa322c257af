"""Repository counters: a model repository's downloads and likes, one row per repo per day.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "repo_stats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repo", sa.String(length=200), nullable=False),
        sa.Column("model", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("downloads", sa.BigInteger(), nullable=False),
        sa.Column("likes", sa.Integer(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="repo_stats_pkey"),
        sa.UniqueConstraint("repo", "day", name="repo_stats_repo_day_key"),
    )
    op.create_index("ix_repo_stats_model", "repo_stats", ["model"])
    op.create_index("ix_repo_stats_day", "repo_stats", ["day"])


def downgrade() -> None:
    op.drop_index("ix_repo_stats_day", table_name="repo_stats")
    op.drop_index("ix_repo_stats_model", table_name="repo_stats")
    op.drop_table("repo_stats")
