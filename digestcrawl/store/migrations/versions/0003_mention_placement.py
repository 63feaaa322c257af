"""Mentions record where the model is named (title, lead, body) and how often; signatures of
stored articles cover title and text, as the dedup pipeline now signs them.

Older mentions keep NULL placement and hits: their text was matched with its page description
and cannot be told apart now. Like 0002, the signature part imports application code on
purpose: it must produce what the running code compares against.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

articles = sa.table("articles", sa.column("id", sa.Integer), sa.column("title", sa.Text),
                    sa.column("text", sa.Text), sa.column("text_hash", sa.String),
                    sa.column("minhash", sa.LargeBinary))
BATCH = 1000  # rows read at a time: a large store's texts need not fit in memory at once


def upgrade() -> None:
    op.add_column("mentions", sa.Column("placement", sa.String(length=8), nullable=True))
    op.add_column("mentions", sa.Column("hits", sa.Integer(), nullable=True))
    _resign(lambda title, text: f"{title}\n{text}" if text else title)


def downgrade() -> None:
    op.drop_column("mentions", "hits")
    op.drop_column("mentions", "placement")
    _resign(lambda title, text: text or title)


def _resign(signed: Callable[[str, str], str]) -> None:
    from digestcrawl.text import NearDuplicateIndex, fingerprint

    index = NearDuplicateIndex()
    conn = op.get_bind()
    last_id = 0
    while rows := conn.execute(
            sa.select(articles.c.id, articles.c.title, articles.c.text, articles.c.minhash)
            .where(articles.c.id > last_id).order_by(articles.c.id).limit(BATCH)).all():
        for article_id, title, text, minhash in rows:
            body = signed(title or "", text or "")
            values: dict[str, object] = {"text_hash": fingerprint(body)}
            if minhash is not None:  # only originals carry a signature
                signature = index.signature(body)
                values["minhash"] = None if signature is None else index.to_bytes(signature)
            conn.execute(articles.update().where(articles.c.id == article_id).values(**values))
        last_id = rows[-1][0]
