"""The items spiders yield: articles, which every pipeline reads, and repository counters,
which only the store pipeline handles (the others pass them through)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeVar

from itemadapter import ItemAdapter


@dataclass
class Article:
    """A news article, social post, finance headline, release or paper found for the watched
    models.

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
    # The URL the page was requested under (``crawl.urls.request_url`` of its feed link, before
    # any redirect); ``url`` is the page's canonical one. The incremental check looks it up.
    requested_url: str | None = None
    # Dates are timezone-aware; *_from says where each came from: jsonld, meta, feed, url, htmldate,
    # text, htmldate_text (digestcrawl.text.dates.ORIGINS).
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
    # Per model: where it is first named (title, lead, body) and how many mentions in all.
    placement: dict[str, str] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    # Models whose own source this is (their Hugging Face organisation, GitHub repository or
    # official blog) → that account: relevance keeps the item for them, named or not.
    first_party: dict[str, str] = field(default_factory=dict)
    text_hash: str | None = None
    minhash: bytes | None = None
    duplicate_of: str | None = None
    similarity: float | None = None


@dataclass
class RepoStats:
    """One model repository's public counters on one day (a Hugging Face repo's downloads and
    likes): a time series point, stored once per repo per day, never an article."""

    repo: str  # "Qwen/Qwen3-Coder-30B-A3B-Instruct"
    model: str  # the watched model's key
    source: str
    url: str
    day: date  # the crawl's digest day
    downloads: int
    likes: int | None = None
    fetched: datetime | None = None


# What the store pipeline writes: an article, or a repository's counters of the day. Pipelines
# return the item they were given (ItemT), so callers keep its type.
Item = Article | RepoStats
ItemT = TypeVar("ItemT", Article, RepoStats)


def is_article(adapter: ItemAdapter) -> bool:
    """Whether the item behind ``adapter`` is an article (an :class:`Article`, or one as another
    item type such as a dict): anything but :class:`RepoStats`, the one other item spiders yield,
    which the article pipelines pass through untouched."""
    return not isinstance(adapter.item, RepoStats)
