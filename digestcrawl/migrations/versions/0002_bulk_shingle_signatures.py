"""Recompute stored MinHash signatures: shingles are now hashed in bulk (digestcrawl.dedup).

Signatures made before this revision hashed each shingle with SHA-1 and can never match a new
one, so near-duplicates of articles stored in the lookback window would go unnoticed. Each
original's signature is recomputed from its stored text. Unlike schema revisions, this one
imports application code on purpose: it must produce what the running code compares against.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

articles = sa.table("articles", sa.column("id", sa.Integer), sa.column("text", sa.Text),
                    sa.column("minhash", sa.LargeBinary))


def upgrade() -> None:
    from digestcrawl.dedup import NearDuplicateIndex

    index = NearDuplicateIndex()
    conn = op.get_bind()
    rows = conn.execute(sa.select(articles.c.id, articles.c.text).where(articles.c.minhash.is_not(None))).all()
    for article_id, text in rows:
        signature = index.signature(text or "")
        conn.execute(articles.update().where(articles.c.id == article_id)
                     .values(minhash=None if signature is None else index.to_bytes(signature)))


def downgrade() -> None:
    # The SHA-1 shingle hashing is gone: older code finds no signatures and recomputes them
    # for new articles only.
    op.execute(articles.update().values(minhash=None))
