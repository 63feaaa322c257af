"""What extracting an article page yields, and the caps on a page before it is parsed.

Apart from ``digestcrawl.text.extraction`` because the crawl process needs these and not the
extraction libraries: it receives pages from its extraction workers (unpickling an
``ExtractedPage`` imports this module) and checks a page's size before handing it over.
trafilatura, htmldate and jusText load in the workers only (9 MB and 0.15 s of a crawl's start).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from digestcrawl.text.dates import Dated


@dataclass
class ExtractedPage:
    title: str
    text: str
    canonical: str | None = None
    author: str | None = None
    site_name: str | None = None
    description: str | None = None
    language: str | None = None
    published: datetime | None = None
    published_from: str | None = None
    modified: datetime | None = None
    modified_from: str | None = None

    def dated(self, published: Dated | None) -> None:
        self.published, self.published_from = (published.moment, published.origin) if published else (None, None)


@dataclass(frozen=True)
class PageLimits:
    """Caps on a page before it is parsed (0: no cap)."""

    max_bytes: int
    max_tags: int
    max_links: int


def oversize(body: bytes, limits: PageLimits) -> str | None:
    """Why a page is too large to extract in full, or None. Counts ``<`` (tags) and ``<a``
    (links) in the raw bytes, which costs microseconds on a normal page and a few milliseconds
    on a 10 MB one: extraction time grows with both (tens of microseconds per element)."""
    if limits.max_bytes and len(body) > limits.max_bytes:
        return f"{len(body):,} bytes (cap {limits.max_bytes:,})"
    tags = body.count(b"<")
    # A link is a tag: a page with fewer tags than the link cap is not scanned for links (five
    # scans, a tenth of a millisecond of the crawl process's time per page).
    if limits.max_links and tags > limits.max_links:
        links = sum(body.count(opening) for opening in (b"<a ", b"<A ", b"<a\n", b"<a\t", b"<a\r"))
        if links > limits.max_links:
            return f"{links:,} links (cap {limits.max_links:,})"
    if limits.max_tags and tags > limits.max_tags:
        return f"{tags:,} tags (cap {limits.max_tags:,})"
    return None
