"""``kind: sitemap``: a news sitemap, or a sitemap index whose sitemaps are fetched in turn
(``digestcrawl.crawl.feeds.parse_sitemap``; the spider bounds how deep and how many)."""

from __future__ import annotations

from digestcrawl.crawl.feeds import parse_sitemap
from digestcrawl.crawl.kinds.base import Document, Parsed, SourceKind


def read_sitemap(document: Document) -> Parsed:
    entries, children = parse_sitemap(document.body, document.zone, document.max_size)
    return Parsed(entries=entries, children=children)


KIND = SourceKind("sitemap", read_sitemap)
