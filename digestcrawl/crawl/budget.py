"""Per-source request budget: how many pages (article pages and sitemap children) one source may
fetch in a crawl, so that a 50,000-URL sitemap costs a bounded crawl, not seven hours.

The spider takes a source's entries newest first (``newest_first``: by the entry's date, undated
last; the entries of one document, and an index's child sitemaps by ``lastmod``, are sorted; the
documents of one source come first-come) and asks the budget before each request. Past the cap
a request waits in the source's queue and counts as ``digestcrawl/source/<name>/deferred``. A
request the incremental middleware skips (stored and unchanged) made no fetch: its place goes to
the next queued one (``refund``). What is still queued when the crawl ends stays counted as
deferred; the next run reads the feed again, its stored entries are skipped without a fetch, and
the deferred ones are fetched then.

Settings: SOURCE_MAX_REQUESTS (a source's ``max_requests`` in sources.yaml overrides it).
"""

from __future__ import annotations

import logging
from collections import defaultdict, deque
from collections.abc import Callable, Iterable

import scrapy
from scrapy.crawler import Crawler

from digestcrawl.config import SourceConfig
from digestcrawl.crawl.feeds import Entry, recency
from digestcrawl.ops.stats import count

logger = logging.getLogger(__name__)

# Builds a request when its turn comes: a queued entry keeps no Request object (70,000 of them
# would be most of a crawl's memory).
Pending = Callable[[], scrapy.Request]


def newest_first(entries: Iterable[Entry]) -> list[Entry]:
    """Entries by date, newest first, undated last, in document order among equals."""
    return sorted(entries, key=lambda entry: recency(entry.published or entry.updated))


class SourceBudget:
    def __init__(self, crawler: Crawler, default: int) -> None:
        self.crawler = crawler
        self.default = default  # 0: no cap
        self._spent: dict[str, int] = defaultdict(int)
        self._queued: dict[str, deque[Pending]] = defaultdict(deque)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SourceBudget:
        return cls(crawler, crawler.settings.getint("SOURCE_MAX_REQUESTS"))

    def limit(self, source: SourceConfig) -> int:
        return source.max_requests if source.max_requests is not None else self.default

    def request(self, source: SourceConfig, build: Pending) -> scrapy.Request | None:
        """The request, when the source's budget allows one more; else it is queued (deferred)."""
        limit = self.limit(source)
        if limit and self._spent[source.name] >= limit:
            if not self._queued[source.name]:
                logger.info("Source %s reached its budget of %d requests: the rest is deferred to the next run",
                            source.name, limit)
            self._queued[source.name].append(build)
            count(self.crawler, source.name, "deferred")
            return None
        self._spent[source.name] += 1
        return build()

    def refund(self, source: str) -> scrapy.Request | None:
        """A request of ``source`` made no fetch: the next queued one, if any, takes its place."""
        if self._queued[source]:
            count(self.crawler, source, "deferred", -1)
            return self._queued[source].popleft()()
        # Distributed, another worker may have queued the request: this one never counted it.
        self._spent[source] = max(0, self._spent[source] - 1)
        return None

    def clear(self) -> None:
        self._spent.clear()
        self._queued.clear()
