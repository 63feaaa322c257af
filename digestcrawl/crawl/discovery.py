"""Bounded sitemap discovery: which child sitemaps of an index a source may still fetch.

Each document is fetched once per crawl, known by its ``request_url`` (query kept, session ids,
tracking parameters and fragment dropped, so a child that carries a new session id on every
visit is one document), and at most SITEMAP_MAX_DEPTH index levels below the source's own URL
(sitemaps.org allows one level of index; the default allows one more). A child refused for either
reason is counted per source: ``dropped/sitemap_repeat``, ``dropped/sitemap_too_deep``. An index
cycle (A → B → A), an index nested 20 deep or an endless calendar of monthly indexes so stops
after a few requests.

Settings: SITEMAP_MAX_DEPTH.
"""

from __future__ import annotations

from collections import defaultdict

from scrapy.crawler import Crawler

from digestcrawl.crawl.urls import request_url


class SitemapDiscovery:
    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        self._seen: dict[str, set[str]] = defaultdict(set)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SitemapDiscovery:
        return cls(crawler.settings.getint("SITEMAP_MAX_DEPTH"))

    def start(self, source: str, url: str) -> None:
        """The source's own URL (depth 0): an index that lists it again is a cycle."""
        self._seen[source].add(request_url(url))

    def refusal(self, source: str, url: str, depth: int) -> str | None:
        """Why the child ``url`` at ``depth`` (1: listed by the source's own document) is not
        fetched, or None after marking it seen."""
        if depth > self.max_depth:
            return "sitemap_too_deep"
        key = request_url(url)
        if key in self._seen[source]:
            return "sitemap_repeat"
        self._seen[source].add(key)
        return None

    def clear(self) -> None:
        self._seen.clear()
