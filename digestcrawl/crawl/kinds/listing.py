"""``kind: listing``: an HTML page of article links, read with the source's CSS ``selectors``."""

from __future__ import annotations

from datetime import tzinfo
from urllib.parse import urljoin

from parsel import Selector

from digestcrawl.crawl.feeds import Entry, plain_text
from digestcrawl.crawl.kinds.base import Document, Options, Parsed, SourceKind
from digestcrawl.text.dates import parse_datetime
from digestcrawl.text.encoding import decode_html


class Selectors(Options):
    """CSS selectors (with ``::attr()`` / ``::text``) for a listing page."""

    item: str
    url: str
    title: str
    published: str | None = None
    snippet: str | None = None


def parse_listing(html: str, base_url: str, selectors: Selectors, zone: tzinfo) -> list[Entry]:
    """A listing page read with the source's CSS selectors."""
    page = Selector(text=html)
    entries = []
    for card in page.css(selectors.item):
        href = card.css(selectors.url).get()
        if not href:
            continue
        title = plain_text(" ".join(card.css(selectors.title).getall()))
        published = card.css(selectors.published).get() if selectors.published else None
        snippet = " ".join(card.css(selectors.snippet).getall()) if selectors.snippet else ""
        entries.append(Entry(url=urljoin(base_url, href.strip()), title=title,
                             snippet=plain_text(snippet), published=parse_datetime(published, zone)))
    return entries


def read_listing(document: Document) -> Parsed:
    html, _ = decode_html(document.body, document.content_type)
    return Parsed(entries=parse_listing(html, document.url, document.options, document.zone))


KIND = SourceKind("listing", read_listing, option="selectors")
