"""Articles record the URL a crawl requested them under (``url`` is the page's canonical one),
so that the incremental check finds a stored page by what its feed listed.

Older rows keep NULL: the check still finds them by their canonical URL.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("articles", sa.Column("requested_url", sa.String(length=2048), nullable=True))
    op.create_index("ix_articles_requested_url", "articles", ["requested_url"])


def downgrade() -> None:
    op.drop_index("ix_articles_requested_url", table_name="articles")
    op.drop_column("articles", "requested_url")
