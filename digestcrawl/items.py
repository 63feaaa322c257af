"""The one item type every spider yields and every pipeline reads."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

# The longest value kept per text field: a page can put anything there (a 50,000-character
# title, 339k characters of link labels as text). The store cuts a row to these before giving
# up on it when the database refuses it.
FIELD_CAPS: dict[str, int] = {"title": 300, "author": 200, "site_name": 200, "publisher": 200,
                              "text": 200_000}


@dataclass
class Article:
    """A news article, social post or finance headline found for the watched models.

    Spiders fill what the page and its feed entry say; pipelines add the rest
    (``models``/``aliases``/``score`` from relevance, ``duplicate_of`` from dedup).
    """

    url: str
    source: str
    category: str
    title: str
    text: str = ""
    snippet: str = ""
    locale: str = ""
    language: str | None = None
    author: str | None = None
    site_name: str | None = None
    publisher: str | None = None
    feed_url: str | None = None
    # Dates are timezone-aware; *_from says where each came from: feed, jsonld, meta, url, text.
    published: datetime | None = None
    published_from: str | None = None
    modified: datetime | None = None
    modified_from: str | None = None
    fetched: datetime | None = None
    # The feed entry's own last-change time when the page was fetched (incremental crawls).
    entry_changed: datetime | None = None
    # True when only the feed entry is known (paywall, redirect link, social post).
    headline_only: bool = False
    models: dict[str, list[str]] = field(default_factory=dict)
    score: dict[str, int] = field(default_factory=dict)
    text_hash: str | None = None
    minhash: bytes | None = None
    duplicate_of: str | None = None
    similarity: float | None = None


def cap_fields(article: Article) -> tuple[Article, list[str]]:
    """A copy of ``article`` with every field within FIELD_CAPS, and the names of the fields cut."""
    cut: dict[str, Any] = {name: value[:limit] for name, limit in FIELD_CAPS.items()
                           if isinstance(value := getattr(article, name), str) and len(value) > limit}
    return replace(article, **cut), sorted(cut)
