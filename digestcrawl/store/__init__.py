"""The database: SQLAlchemy models and the article store, migrations, spool, run lock, field caps.

The names below are the store's surface: code outside ``digestcrawl.store`` imports them from
here, not from its modules (``tests/test_imports.py``). Migrations are a subpackage of their own
(``digestcrawl.store.migrations``), loaded by ``scrapy migrate``.
"""

from digestcrawl.store.articles import ArticleStore, RowOutcome
from digestcrawl.store.caps import LANGUAGE_MAX, cap_fields, drop_implausible_dates
from digestcrawl.store.database import Database, StoreUnavailable
from digestcrawl.store.engine import dialect_insert, short_error
from digestcrawl.store.models import (
    ArticleRow,
    DigestRow,
    DuplicateRow,
    LLMCacheRow,
    MentionRow,
    RepoStatsRow,
    RunLockRow,
    SourceRow,
    StoryArticleRow,
    StoryRow,
)
from digestcrawl.store.runlock import REFUSED_STAT, RunLocks, holder_id
from digestcrawl.store.spool import REJECTED_FILE, CorruptLine, Rejected, Spool, to_dict

__all__ = [
    "LANGUAGE_MAX",
    "REFUSED_STAT",
    "REJECTED_FILE",
    "ArticleRow",
    "ArticleStore",
    "CorruptLine",
    "Database",
    "DigestRow",
    "DuplicateRow",
    "LLMCacheRow",
    "MentionRow",
    "Rejected",
    "RepoStatsRow",
    "RowOutcome",
    "RunLockRow",
    "RunLocks",
    "SourceRow",
    "Spool",
    "StoreUnavailable",
    "StoryArticleRow",
    "StoryRow",
    "cap_fields",
    "dialect_insert",
    "drop_implausible_dates",
    "holder_id",
    "short_error",
    "to_dict",
]
