"""Article pages → clean text and metadata.

The HTML is parsed once. Structured data (JSON-LD, meta tags) is read from that tree first, as it
is what publishers declare on purpose; trafilatura then extracts the body text from the same
tree. Dates record where they came from: ``jsonld``, ``meta``, ``url`` or ``text``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, time, tzinfo
from html import unescape
from typing import Any

import htmldate
import trafilatura
from lxml.html import HtmlElement
from trafilatura.settings import Document
from trafilatura.utils import load_html

from digestcrawl.dates import date_from_url, parse_datetime
from digestcrawl.relevance import fold

ARTICLE_TYPES = {"article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
                 "techarticle", "report", "socialmediaposting", "webpage"}
PUBLISHED_META = ("article:published_time", "og:published_time", "datepublished", "pubdate",
                  "publishdate", "publish-date", "date", "dc.date.issued", "dcterms.created",
                  "parsely-pub-date", "sailthru.date")
MODIFIED_META = ("article:modified_time", "og:updated_time", "datemodified", "lastmod",
                 "dcterms.modified")
# Precision texts shorter than this are checked against a recall-mode pass, and replaced by it
# when they hold less than PRECISION_SHARE of its characters. Measured in UTF-8 bytes, so that
# a CJK character (three bytes, about a word's worth of text) weighs like a short word.
RECHECK_BELOW_BYTES = 1000
PRECISION_SHARE = 0.6
# extract_head reads this many characters of a page: the <head> of any real page, inline styles
# and scripts included.
HEAD_SIZE = 256 * 1024
MAX_URL_CHARS = 2048  # the longest URL the database stores
TITLE_OPENED = re.compile(r"<title\b[^>]*>([^<]*)", re.IGNORECASE)
KANA = re.compile(r"[\u3040-\u30ff]")
HAN = re.compile(r"[\u4e00-\u9fff]")


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


def extract_page(html: str, url: str, zone: tzinfo) -> ExtractedPage | None:
    """Extract an article page; None when the HTML cannot be parsed at all."""
    tree = load_html(html)
    if tree is None:
        return None
    page, article_body, declared_language = _metadata(tree, url, zone, search_text=True)
    # Extraction mutates what it is given; the metadata has been read already.
    text = _body_text(html, tree, url, page.title)
    # The publisher's own articleBody wins only when extraction clearly missed the article.
    if isinstance(article_body, str) and len(article_body.strip()) > 2 * len(text):
        text = article_body.strip()
    page.text = text.strip()
    page.language = guess_language(text or page.title, declared_language)
    return page


def extract_head(html: str, url: str, zone: tzinfo) -> ExtractedPage | None:
    """A page's title and lead (and its declared dates) without its text, from its first
    HEAD_SIZE characters: for a page not to be extracted in full. Parses at most that much and
    runs neither trafilatura nor htmldate, so it costs milliseconds whatever the page."""
    head = html[:HEAD_SIZE]
    tree = load_html(head)
    if tree is None:
        return None
    page, _, declared_language = _metadata(tree, url, zone, search_text=False)
    if not page.title:  # a <title> longer than the head, which the parser drops unclosed
        opened = TITLE_OPENED.search(head)
        page.title = _clean(unescape(opened.group(1))) if opened else ""
    page.language = guess_language(page.title, declared_language)
    return page


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
    if limits.max_links:
        links = sum(body.count(opening) for opening in (b"<a ", b"<A ", b"<a\n", b"<a\t", b"<a\r"))
        if links > limits.max_links:
            return f"{links:,} links (cap {limits.max_links:,})"
    if limits.max_tags:
        tags = body.count(b"<")
        if tags > limits.max_tags:
            return f"{tags:,} tags (cap {limits.max_tags:,})"
    return None


def _metadata(tree: HtmlElement, url: str, zone: tzinfo,
              search_text: bool) -> tuple[ExtractedPage, Any, str | None]:
    """What a page declares (JSON-LD, meta tags, its <title>), as a page without text; also its
    JSON-LD articleBody and declared language. ``search_text`` lets htmldate look for a date in
    the text when none is declared and the URL has none."""
    ld = _json_ld_article(tree)
    meta = _meta(tree)
    published, published_from = _first_date(
        [("jsonld", ld.get("datePublished"))] + [("meta", meta.get(k)) for k in PUBLISHED_META], zone)
    modified, modified_from = _first_date(
        [("jsonld", ld.get("dateModified"))] + [("meta", meta.get(k)) for k in MODIFIED_META], zone)
    if published is None:
        published, published_from = _date_fallback(tree, url, zone, search_text)
    canonical = meta.get("canonical") or meta.get("og:url")
    page = ExtractedPage(
        title=_clean(ld.get("headline") or meta.get("og:title") or _title_tag(tree)),
        text="",
        # A canonical URL longer than any we store is not one.
        canonical=canonical if canonical and len(canonical) <= MAX_URL_CHARS else None,
        author=_name(ld.get("author")) or meta.get("author"),
        site_name=_name(ld.get("publisher")) or meta.get("og:site_name"),
        description=meta.get("description") or meta.get("og:description"),
        published=published,
        published_from=published_from,
        modified=modified,
        modified_from=modified_from,
    )
    return page, ld.get("articleBody"), meta.get("lang")


def _body_text(html: str, tree: HtmlElement, url: str, title: str) -> str:
    """The article text: precision mode, unless a recall-mode pass shows it cut the article.

    Both passes skip trafilatura's fallback extractors (``fast``), which cost half the time and
    no accuracy here. A precision text well short of the recall text means precision dropped
    part of the article; only short precision texts are checked, as only they ever were so cut.
    On benchmarks/quality.py this scores F1 0.971 (precision mode with fallbacks: 0.966) at
    two thirds of the CPU; any share from 0.5 to 0.7 and any RECHECK_BELOW_BYTES from 500 to 5,000
    scores the same.
    """
    text = _without_headline(_trafilatura_text(tree, url, precision=True), title).strip()
    if len(text.encode()) < RECHECK_BELOW_BYTES:
        fresh = load_html(html)
        recall = "" if fresh is None else _without_headline(_trafilatura_text(fresh, url, precision=False), title)
        recall = recall.strip()
        if len(text) < PRECISION_SHARE * len(recall):
            return recall
    return text


def _trafilatura_text(tree: HtmlElement, url: str, precision: bool) -> str:
    document = trafilatura.bare_extraction(tree, url=url, include_comments=False, include_tables=True,
                                           with_metadata=False, fast=True, favor_precision=precision,
                                           favor_recall=not precision)
    return (document.text if isinstance(document, Document) else "") or ""


def guess_language(text: str, declared: str | None = None) -> str | None:
    """zh-Hant / zh-Hans / ja / the declared tag; script counts beat a wrong ``lang``."""
    sample = text[:2000]
    if KANA.search(sample) and len(KANA.findall(sample)) * 20 > len(sample):
        return "ja"
    han = HAN.findall(sample)
    if len(han) * 5 > len(sample):
        han_text = "".join(han)
        changed = sum(a != b for a, b in zip(han_text, fold(han_text), strict=True))
        return "zh-Hant" if changed * 25 > len(han_text) else "zh-Hans"
    if declared:
        return declared.split("-")[0].lower() or None
    return None


def _first_date(candidates: list[tuple[str, Any]], zone: tzinfo) -> tuple[datetime | None, str | None]:
    for origin, value in candidates:
        parsed = parse_datetime(value, zone)
        if parsed is not None:
            return parsed, origin
    return None, None


def _date_fallback(tree: HtmlElement, url: str, zone: tzinfo,
                   search_text: bool) -> tuple[datetime | None, str | None]:
    from_url = date_from_url(url)
    if from_url is not None:
        return datetime.combine(from_url, time(), zone), "url"
    if not search_text:
        return None, None
    found = htmldate.find_date(tree, url=url, original_date=True, extensive_search=True,
                               outputformat="%Y-%m-%dT%H:%M:%S")
    if found:
        return parse_datetime(found, zone), "text"
    return None, None


def _meta(tree: HtmlElement) -> dict[str, str]:
    values: dict[str, str] = {}
    for element in tree.iter("meta"):
        key = element.get("property") or element.get("name") or element.get("itemprop")
        content = element.get("content")
        if key and content and key.lower() not in values:
            values[key.lower()] = content.strip()
    for element in tree.iter("time"):
        if element.get("itemprop") == "datePublished" and element.get("datetime"):
            values.setdefault("datepublished", element.get("datetime", ""))
    for element in tree.iter("link"):
        if (element.get("rel") or "").lower() == "canonical" and element.get("href"):
            values.setdefault("canonical", element.get("href", ""))
    lang = tree.get("lang") or tree.get("xml:lang")
    if lang:
        values["lang"] = lang
    return values


def _json_ld_article(tree: HtmlElement) -> dict[str, Any]:
    """The first article-like JSON-LD object, flattening lists and @graph."""
    for script in tree.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except (ValueError, RecursionError):  # malformed, or nested deeper than the parser goes
            continue
        pending = [data]
        while pending:
            node = pending.pop(0)
            if isinstance(node, list):
                pending.extend(node)
            elif isinstance(node, dict):
                types = node.get("@type")
                names = {t.lower() for t in (types if isinstance(types, list) else [types]) if isinstance(t, str)}
                if names & ARTICLE_TYPES and ("headline" in node or "articleBody" in node
                                              or "datePublished" in node):
                    return node
                pending.extend(v for k, v in node.items() if k in ("@graph", "mainEntity"))
    return {}


def _name(value: Any) -> str | None:
    if isinstance(value, list):
        names = [n for n in (_name(v) for v in value) if n]
        return ", ".join(names) or None
    if isinstance(value, dict):
        value = value.get("name")
    return value.strip() if isinstance(value, str) and value.strip() else None


def _title_tag(tree: HtmlElement) -> str:
    for tag in ("title", "h1"):
        element = tree.find(f".//{tag}")
        if element is not None and element.text_content().strip():
            return element.text_content()
    return ""


def _without_headline(text: str, title: str) -> str:
    """The body, minus a first line that repeats the headline (the h1 above the article)."""
    first, _, rest = text.strip().partition("\n")
    if title and rest and _clean(first) and _clean(first) in title:
        return rest
    return text


def _clean(text: Any) -> str:
    """Whitespace-folded text; anything but a string (a JSON-LD headline may be a list) is ""."""
    return re.sub(r"\s+", " ", text).strip() if isinstance(text, str) else ""
