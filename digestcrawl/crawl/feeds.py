"""Source documents → entries: RSS/Atom and news sitemaps, and what every kind shares (``Entry``,
``FeedError``, ``plain_text``, ``load_json``); the kinds themselves are ``digestcrawl.crawl.kinds``.

Pure functions over bytes or text, so they are tested on saved responses; the spiders only
call them. A document that cannot be read raises ``FeedError`` with the reason.

Feeds and sitemaps are read as real servers send them (``xml_document``): gzipped (``.xml.gz``
served without a Content-Encoding, which Scrapy's HttpCompressionMiddleware leaves alone), with
whitespace, a BOM or junk before the XML declaration (most Chinese feeds we saw start with a
newline, which XML parsers reject and which made feedparser fall back to latin-1), and in the
encoding their declaration names, read as its superset with a stray byte replaced.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import urljoin
from xml.sax import SAXException

import feedparser
from lxml import etree
from w3lib.encoding import read_bom
from w3lib.html import remove_tags, replace_entities

from digestcrawl.text.chars import squash_spaces
from digestcrawl.text.dates import parse_datetime
from digestcrawl.text.encoding import decode_html

AD_TITLE = re.compile(r"^\s*[\[【(（]?\s*(廣告|广告|AD|Ad|Sponsored|贊助|赞助|PR)\s*[\]】)）:：]", re.UNICODE)
GZIP_MAGIC = b"\x1f\x8b"
# Without DOWNLOAD_MAXSIZE, the sitemap protocol's own limit on an uncompressed file.
PROTOCOL_MAX_BYTES = 50 * 1024 * 1024
XML_DECLARATION = re.compile(r"<\?xml[^>]*?\?>")
DECLARED_ENCODING = re.compile(r"""\s+encoding\s*=\s*["'][^"']*["']""")
SITEMAP_NS = {
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
}


class FeedError(ValueError):
    """A source document that is not what its kind promises (malformed XML/JSON, wrong shape).

    ``recovered`` holds the entries a lenient parse could still read, if any.
    """

    def __init__(self, message: str, recovered: list[Entry] | None = None) -> None:
        super().__init__(message)
        self.recovered = recovered or []


@dataclass
class Entry:
    url: str
    title: str
    snippet: str = ""
    text: str = ""
    published: datetime | None = None
    publisher: str | None = None
    author: str | None = None
    updated: datetime | None = None  # the entry's own last change, when the feed says

    @property
    def is_ad(self) -> bool:
        return bool(AD_TITLE.match(self.title))


def recency(when: datetime | None) -> tuple[bool, float]:
    """Sort key: newest first, undated last."""
    return (when is None, -when.timestamp() if when else 0.0)


def plain_text(html: str | None) -> str:
    """Markup-free, entity-free, whitespace-folded text."""
    if not html:
        return ""
    return squash_spaces(replace_entities(remove_tags(html)))


def gunzip(body: bytes, max_size: int) -> bytes:
    """Inflate every gzip member of ``body``, never past ``max_size`` bytes of output (a bomb
    raises FeedError instead of taking memory). A truncated stream gives what it holds."""
    out = bytearray()
    while body[:2] == GZIP_MAGIC:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            out += inflater.decompress(body, max_size + 1 - len(out))
        except zlib.error as exc:
            raise FeedError(f"corrupt gzip: {exc}") from None
        if len(out) > max_size:
            raise FeedError(f"too large: inflates past {max_size} bytes (DOWNLOAD_MAXSIZE)")
        if not inflater.eof:
            break
        body = inflater.unused_data
    return bytes(out)


def xml_document(body: bytes, max_size: int | None = None) -> bytes:
    """A feed's or sitemap's bytes as UTF-8 XML that starts with its declaration or root.

    Gzip (by its magic bytes) is inflated up to ``max_size`` (0 or None: the sitemap protocol's
    50 MB). Anything before ``<?xml`` (or, without one, before the first tag) is cut. The text is
    decoded as ``decode_html`` does (BOM, the declaration's encoding as its superset, a stray byte
    replaced) and the declaration's encoding is dropped, since the bytes are now UTF-8.
    """
    if body[:2] == GZIP_MAGIC:
        body = gunzip(body, max_size or PROTOCOL_MAX_BYTES)
    bom_encoding, _ = read_bom(body)
    if not bom_encoding or bom_encoding == "utf-8":  # UTF-16/32 text has no ASCII "<" to look for
        head = body[:1024]
        start = head.find(b"<?xml")
        start = start if start >= 0 else head.find(b"<")
        body = body[start:] if start > 0 else body
    text, _ = decode_html(body)
    declaration = XML_DECLARATION.match(text)
    if declaration:
        text = DECLARED_ENCODING.sub("", declaration.group()) + text[declaration.end():]
    return text.encode("utf-8")


def parse_feed(body: bytes, base_url: str, zone: tzinfo, max_size: int | None = None) -> list[Entry]:
    """RSS 0.9x/1.0/2.0 and Atom. Google News titles lose their ' - Publisher' suffix.
    ``max_size`` caps a gzipped feed's inflated size (see ``xml_document``)."""
    parsed = feedparser.parse(xml_document(body, max_size), response_headers={"content-location": base_url})
    entries = []
    for item in parsed.entries:
        link = item.get("link") or ""
        if not link:
            continue
        title = plain_text(item.get("title"))
        source = item.get("source") or {}
        publisher = plain_text(source.get("title")) or None
        if publisher and title.endswith(f" - {publisher}"):
            title = title[: -len(publisher) - 3].rstrip()
        content = item.get("content") or []
        entries.append(Entry(
            url=urljoin(base_url, link.strip()),
            title=title,
            snippet=plain_text(item.get("summary"))[:1000],
            text=plain_text(content[0].get("value")) if content else "",
            published=parse_datetime(item.get("published") or item.get("updated"), zone),
            publisher=publisher,
            author=plain_text(item.get("author")) or None,
            # dict.get: feedparser's own get() maps a missing `updated` to `published`, with a warning.
            updated=parse_datetime(dict.get(item, "updated"), zone),
        ))
    error = parsed.get("bozo_exception")
    if isinstance(error, SAXException):
        raise FeedError(f"malformed XML: {error}", recovered=entries)
    if not parsed.get("version"):
        raise FeedError("not a feed: no RSS or Atom root element", recovered=entries)
    return entries


def parse_sitemap(body: bytes, zone: tzinfo, max_size: int | None = None) -> tuple[list[Entry], list[str]]:
    """A news sitemap's entries (news:title, news:publication_date) and, for a sitemap index,
    the child sitemaps to fetch, newest ``lastmod`` first. ``max_size`` caps a gzipped sitemap's
    inflated size."""
    document = xml_document(body, max_size)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=False, huge_tree=False)
    try:
        root = etree.fromstring(document, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise FeedError(f"not a sitemap: {exc}") from None
    tag = etree.QName(root).localname
    if tag == "sitemapindex":
        children = [("".join(child.xpath("sm:loc/text()", namespaces=SITEMAP_NS)).strip(),
                     parse_datetime("".join(child.xpath("sm:lastmod/text()", namespaces=SITEMAP_NS)).strip(), zone))
                    for child in root.xpath("sm:sitemap", namespaces=SITEMAP_NS)]
        # Newest first: a source's request budget goes to its recent sitemaps.
        return [], [loc for loc, lastmod in sorted(children, key=lambda child: recency(child[1])) if loc]
    if tag != "urlset":
        raise FeedError(f"not a sitemap: root element <{tag}>")
    entries = []
    for url in root.xpath("sm:url", namespaces=SITEMAP_NS):
        loc = "".join(url.xpath("sm:loc/text()", namespaces=SITEMAP_NS)).strip()
        if not loc:
            continue
        title = "".join(url.xpath("news:news/news:title/text()", namespaces=SITEMAP_NS))
        published = "".join(url.xpath("news:news/news:publication_date/text()", namespaces=SITEMAP_NS)
                            or url.xpath("sm:lastmod/text()", namespaces=SITEMAP_NS))
        lastmod = "".join(url.xpath("sm:lastmod/text()", namespaces=SITEMAP_NS)).strip()
        publisher = "".join(url.xpath("news:news/news:publication/news:name/text()", namespaces=SITEMAP_NS))
        entries.append(Entry(url=loc, title=plain_text(title), published=parse_datetime(published.strip(), zone),
                             publisher=publisher.strip() or None, updated=parse_datetime(lastmod, zone)))
    return entries, []


def load_json(body: bytes) -> Any:
    """An API answer's JSON; FeedError when it is not JSON (broken, not UTF-8, nested too deep)."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise FeedError(f"not JSON: {exc}") from None
