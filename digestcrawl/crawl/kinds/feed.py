"""``kind: feed``: a site's RSS or Atom feed (``digestcrawl.crawl.feeds.parse_feed``)."""

from __future__ import annotations

from digestcrawl.crawl.feeds import parse_feed
from digestcrawl.crawl.kinds.base import Document, Parsed, SourceKind


def read_feed(document: Document) -> Parsed:
    return Parsed(entries=parse_feed(document.body, document.url, document.zone, document.max_size))


KIND = SourceKind("feed", read_feed)
