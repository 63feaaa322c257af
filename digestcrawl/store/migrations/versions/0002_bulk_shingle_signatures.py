"""Recompute stored MinHash signatures: shingles are now hashed in bulk (digestcrawl.text.dedup).

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

articles = sa.table("articles", sa.column("id", sa.Integer), sa.column("title", sa.Text),
                    sa.column("text", sa.Text), sa.column("minhash", sa.LargeBinary))
BATCH = 1000  # rows read at a time: a large store's texts need not fit in memory at once


def upgrade() -> None:
    from digestcrawl.text import NearDuplicateIndex

    index = NearDuplicateIndex()
    conn = op.get_bind()
    last_id = 0
    while rows := conn.execute(
            sa.select(articles.c.id, articles.c.title, articles.c.text)
            .where(articles.c.minhash.is_not(None), articles.c.id > last_id)
            .order_by(articles.c.id).limit(BATCH)).all():
        for article_id, title, text in rows:
            # What the dedup pipeline signs: the text, else the title.
            signature = index.signature(text or title or "")
            conn.execute(articles.update().where(articles.c.id == article_id)
                         .values(minhash=None if signature is None else index.to_bytes(signature)))
        last_id = rows[-1][0]


def downgrade() -> None:
    # The SHA-1 shingle hashing is gone: older code finds no signatures and recomputes them
    # for new articles only.
    op.execute(articles.update().values(minhash=None))
