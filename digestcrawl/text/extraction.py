"""Article pages → clean text and metadata.

The HTML is parsed once: every pass reads the same tree (metadata, visible text, trafilatura's
passes, which copy it before cleaning it, and readability, given a copy since it mutates its
tree; a copy costs a third of a parse). htmldate alone, on the few pages whose date is still
unknown after the text is read, parses the page its own way (it reads the markup's comments).
The precision pass sees the tree without the link lists beside the article (``_asides``), put
back after it.

Structured data (JSON-LD, meta tags) is read first, as it is what publishers declare on purpose;
trafilatura then extracts the body text (``_body_text``: one fast pass, and another only on
pages that show a failure). Dates record where they came from (``digestcrawl.text.dates.ORIGINS``):
``jsonld``, ``meta``, ``url``, else a guess, ``text`` (the date written next to the headline or
above the article) or ``htmldate`` (its reading of the markup).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from copy import copy, deepcopy
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from html import unescape
from typing import Any

import htmldate
import trafilatura
from htmldate.utils import load_html as load_markup
from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HTMLParser, HtmlProcessingInstruction, fromstring
from trafilatura.external import try_readability
from trafilatura.settings import Document, Extractor
from trafilatura.utils import is_dubious_html, repair_faulty_html

from digestcrawl.text.chars import HAN, KANA, squash_line_spaces, squash_spaces
from digestcrawl.text.dates import (
    Dated,
    best_date,
    dates_in_text,
    in_stated_offset,
    parse_datetime,
    stated_offset,
    url_date,
    written_in,
)
from digestcrawl.text.page import ExtractedPage
from digestcrawl.text.relevance import fold

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
# A text mostly in table rows is a layout table's; a block found inside it by the fallback
# extractors replaces it when it holds this share of it.
LAYOUT_TABLE_SHARE = 0.5
LAYOUT_BLOCK_SHARE = 0.5
INNER_BLOCK_SHARE = 0.2
INSIDE_SHARE = 0.95
TABLE_SPACING = re.compile(r"[\s|]+")
# trafilatura writes a table row as "| cell | cell |" and a pipe inside a cell as "\|".
CELL_BORDER = re.compile(r"\s*(?<!\\)\|\s*")
# A text with table rows gives way to readability's reading of the page when the cells that
# reading leaves out are at least this share links' text (related lists, ads, menus in a layout
# table; a data table's cells are not links), and when that reading holds this share of it.
LEFT_OUT_LINKED_SHARE = 0.3
READABLE_SHARE = 0.5
BLOCK_TAGS = frozenset({"p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6",
                        "blockquote", "pre", "table", "ul", "ol", "dd", "dt"})
# A text under this share of the page's paragraph-long runs missed the article's container.
SPARSE_SHARE = 0.15
# extract_head reads this many characters of a page: the <head> of any real page, inline styles
# and scripts included.
HEAD_SIZE = 256 * 1024
MAX_URL_CHARS = 2048  # the longest URL the database stores
TITLE_OPENED = re.compile(r"<title\b[^>]*>([^<]*)", re.IGNORECASE)
# trafilatura's parser options, with lxml.html's element classes chosen in C: lxml.html's own
# lookup calls Python for every element any pass touches (a twentieth of extraction's CPU), to
# give form elements classes no pass uses.
PARSER = HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True,
                    remove_pis=True)
PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(
    element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity))
# trafilatura's precision pass is given the page without the elements beside the article (the
# smallest element holding CONTAINER_SHARE of its paragraph-long text) and its ancestors whose
# text is at least ASIDE_LINK_SHARE links': its pruning runs regular expressions on every
# element it is given. Handing it the article's element alone changes what it finds (zh dev
# halves 0.990 / 0.976 -> 0.980 / 0.970); this leaves its output unchanged on every development page.
CONTAINER_SHARE = 0.97
ASIDE_LINK_SHARE = 0.5
LINKS_TEXT = etree.XPath(".//a//text()")


# Elements whose text no reader sees as the page's.
UNSEEN = frozenset({"script", "style", "noscript", "template", "select", "option", "textarea", "title"})
# A run of text this long (UTF-8 bytes) outside a link is a paragraph's, not a menu's: their sum
# is what the page offers as main text, whatever its markup (<p>, table cells, <br> lines).
PARAGRAPH_RUN_BYTES = 80
# A date is read from the text this close to the headline or to the article's first line:
# after the headline (a byline, a source, "发布时间：") or just before it or the article.
DATE_AFTER_CHARS = 160
DATE_BEFORE_CHARS = 40
# The title's first part (before "_site", " - site", "| site") must be found in the page this
# far to stand for the headline.
HEADLINE_SHARE = 0.5
TITLE_PARTS = re.compile(r"\s*(?:[_|｜]|\s[-–—]\s)\s*")


@dataclass
class PageText:
    """What a reader sees of a page, read once from its tree."""

    text: str  # visible text, whitespace-folded, in reading order
    headings: list[str]
    paragraph_bytes: int
    first_paragraph: str  # the start of the first paragraph-long run
    # Menus, footers and related lists beside the article: the precision pass is run without
    # them (trafilatura's pruning runs regular expressions on every element it is given).
    asides: list[HtmlElement]

    @classmethod
    def read(cls, tree: HtmlElement) -> PageText:
        parts: list[str] = []
        runs: list[tuple[HtmlElement, int]] = []  # (the element holding it, a paragraph-long run's bytes)
        first_run = ""
        body = tree.find("body")
        top = body if body is not None else tree
        for element in top.iter():
            tag, text, tail = element.tag, element.text, element.tail
            if text and isinstance(tag, str) and tag not in UNSEEN:
                parts.append(text)
                if tag != "a" and (size := _run_bytes(text)):
                    runs.append((element, size))
                    first_run = first_run or text
            if tail:
                parts.append(tail)
                holder = element.getparent()
                if holder is not None and (size := _run_bytes(tail)):
                    runs.append((holder, size))
                    first_run = first_run or tail
        headings = [_clean(h.text_content()) for h in tree.iter("h1", "h2")]
        return cls(_clean(" ".join(parts)), [h for h in headings if len(h) >= 4], sum(size for _, size in runs),
                   _clean(first_run)[:30], _asides(_container(top, runs), top))

    def date_near(self, title: str, article: str, zone: tzinfo) -> datetime | None:
        """The date written right after the headline (or just before it), else just before the
        article's first line: where pages put a byline, a source and "发布时间". Dates further
        away are a related story's, a comment's or one the article mentions."""
        found = dates_in_text(self.text, zone)
        if not found:
            return None
        for start, end in self._headline(title):
            after = [moment for at, _, moment in found if end <= at < end + DATE_AFTER_CHARS]
            before = [moment for _, until, moment in found if start - DATE_BEFORE_CHARS <= until <= start]
            if after or before:
                return after[0] if after else before[-1]
        for first_line in (_clean(article.strip().partition("\n")[0])[:30], self.first_paragraph):
            begins = self.text.find(first_line) if len(first_line) >= 4 else -1
            # A byline may open the first paragraph itself.
            before = [moment for at, _, moment in found if begins - DATE_AFTER_CHARS <= at <= begins]
            opening = [moment for at, _, moment in found if begins < at <= begins + DATE_BEFORE_CHARS]
            if begins >= 0 and (before or opening):
                return before[-1] if before else opening[0]
        return None

    def _headline(self, title: str) -> list[tuple[int, int]]:
        """Where the headline stands in the text (start, end), first occurrences first: a
        heading that the title contains, else the longest start of the title's first part."""
        for heading in self.headings:
            if heading in title and (start := self.text.find(heading)) >= 0:
                return self._occurrences(heading, start)
        first = TITLE_PARTS.split(title, maxsplit=1)[0]
        low, high = 0, len(first)
        while low < high:  # the longest prefix found (every shorter one is found too)
            middle = (low + high + 1) // 2
            if first[:middle] in self.text:
                low = middle
            else:
                high = middle - 1
        if low < 4 or low < HEADLINE_SHARE * len(first):
            return []
        return self._occurrences(first[:low], self.text.find(first[:low]))

    def _occurrences(self, needle: str, start: int, most: int = 3) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        while start >= 0 and len(found) < most:
            found.append((start, start + len(needle)))
            start = self.text.find(needle, start + len(needle))
        return found


def _container(top: HtmlElement, runs: list[tuple[HtmlElement, int]]) -> HtmlElement:
    """The smallest element under ``top`` holding CONTAINER_SHARE of the runs' bytes (``top``
    when no child does): where the article is, whatever its markup calls it."""
    held: dict[HtmlElement, int] = defaultdict(int)
    for holder, size in runs:
        held[holder] += size
        for ancestor in holder.iterancestors():
            held[ancestor] += size
    needed = CONTAINER_SHARE * sum(size for _, size in runs)
    container = top
    while needed and (inner := next((child for child in container if held.get(child, 0) >= needed), None)) is not None:
        container = inner
    return container


def _asides(container: HtmlElement, top: HtmlElement) -> list[HtmlElement]:
    """The elements beside ``container`` and its ancestors up to ``top`` whose text is mostly
    links' (menus, footers, related lists), without text of their own after them."""
    asides: list[HtmlElement] = []
    element = container
    while element is not top and (parent := element.getparent()) is not None:
        for sibling in parent:
            if sibling is element or not isinstance(sibling.tag, str) or (sibling.tail or "").strip():
                continue
            text = len(sibling.text_content())
            if text and len("".join(LINKS_TEXT(sibling))) >= ASIDE_LINK_SHARE * text:
                asides.append(sibling)
        element = parent
    return asides


@contextmanager
def _set_aside(elements: list[HtmlElement]) -> Iterator[None]:
    """The tree without ``elements`` (each taken out with its tail), put back in place after."""
    places = [(parent, parent.index(element), element) for element in elements
              if (parent := element.getparent()) is not None]
    for parent, _, element in places:
        parent.remove(element)
    try:
        yield
    finally:
        for parent, index, element in reversed(places):
            parent.insert(index, element)


def _run_bytes(text: str) -> int:
    """The UTF-8 bytes of ``text`` stripped when it is a paragraph-long run, else 0."""
    # A character is at most 3 bytes of UTF-8: shorter strings are no run, unencoded.
    if len(text) * 3 < PARAGRAPH_RUN_BYTES:
        return 0
    size = len(text.strip().encode())
    return size if size >= PARAGRAPH_RUN_BYTES else 0


def extract_page(html: str, url: str, zone: tzinfo) -> ExtractedPage | None:
    """Extract an article page; None when the HTML cannot be parsed at all."""
    tree = _parse(html)
    if tree is None:
        return None
    # Dates written without an offset are on the page's own clock when it states one.
    stated = _stated_offset(tree)
    zone = stated or zone
    page, article_body, declared_language = _metadata(tree, url, zone, stated)
    seen = PageText.read(tree)
    text = _body_text(tree, url, page.title, seen)
    if text.startswith("| ") or "\n| " in text:
        text = _without_linked_cells(tree, text, page.title)
    # The publisher's own articleBody wins only when extraction clearly missed the article.
    if isinstance(article_body, str) and len(article_body.strip()) > 2 * len(text):
        text = article_body.strip()
    page.text = text.strip()
    page.language = guess_language(text or page.title, declared_language)
    if page.published is None:
        page.dated(_guessed_date(html, seen, page.title, page.text, zone))
    return page


def extract_head(html: str, url: str, zone: tzinfo) -> ExtractedPage | None:
    """A page's title and lead (and its declared dates) without its text, from its first
    HEAD_SIZE characters: for a page not to be extracted in full. Parses at most that much and
    runs neither trafilatura nor htmldate, so it costs milliseconds whatever the page."""
    head = html[:HEAD_SIZE]
    tree = _parse(head)
    if tree is None:
        return None
    stated = _stated_offset(tree)
    page, _, declared_language = _metadata(tree, url, stated or zone, stated)
    if not page.title:  # a <title> longer than the head, which the parser drops unclosed
        opened = TITLE_OPENED.search(head)
        page.title = _clean(unescape(opened.group(1))) if opened else ""
    page.language = guess_language(page.title, declared_language)
    return page


def _metadata(tree: HtmlElement, url: str, zone: tzinfo, stated: tzinfo | None
              ) -> tuple[ExtractedPage, Any, str | None]:
    """What a page declares (JSON-LD, meta tags, its <title>) and its URL's date, as a page
    without text; also its JSON-LD articleBody and declared language. Naive dates are read in
    ``zone``; UTC instants are put on the page's ``stated`` clock."""
    ld = _json_ld_article(tree)
    meta = _meta(tree)
    canonical = meta.get("canonical") or meta.get("og:url")
    # A canonical URL longer than any we store is not one.
    canonical = canonical if canonical and len(canonical) <= MAX_URL_CHARS else None
    published = best_date([_declared([("jsonld", ld.get("datePublished"))]
                                     + [("meta", meta.get(k)) for k in PUBLISHED_META], zone),
                           url_date([url, canonical], zone)], zone, stated=stated)
    modified = _declared([("jsonld", ld.get("dateModified"))] + [("meta", meta.get(k)) for k in MODIFIED_META],
                         zone)
    page = ExtractedPage(
        title=_clean(ld.get("headline") or meta.get("og:title") or _title_tag(tree)),
        text="",
        canonical=canonical,
        author=_name(ld.get("author")) or meta.get("author"),
        site_name=_name(ld.get("publisher")) or meta.get("og:site_name"),
        description=meta.get("description") or meta.get("og:description"),
    )
    page.dated(published)
    if modified is not None:
        page.modified, page.modified_from = in_stated_offset(modified.moment, stated), modified.origin
    return page, ld.get("articleBody"), meta.get("lang")


def _parse(html: str) -> HtmlElement | None:
    """The page's tree; a page without <html> (a fragment, or <title> then the body) too, which
    trafilatura's loader rejects when its tree has a single child."""
    tree = _load(html)
    if tree is None and html.strip():
        tree = _load("<html>" + html)
    return tree


def _load(html: str) -> HtmlElement | None:
    """trafilatura's ``load_html`` for a decoded page, with PARSER: its repairs, and no tree for
    text that names no <html> and parses to a single element."""
    beginning = html[:50].lower()
    html = repair_faulty_html(html, beginning)
    try:
        tree = fromstring(html, parser=PARSER)
    except (ValueError, etree.LxmlError):  # a str with an XML encoding declaration, which lxml refuses
        tree = None
    if tree is None or len(tree) < 1:
        try:
            tree = fromstring(html.encode("utf-8", "surrogatepass"), parser=PARSER)
        except (ValueError, etree.LxmlError):
            return None
    return None if is_dubious_html(beginning) and len(tree) < 2 else tree


def _body_text(tree: HtmlElement, url: str, title: str, seen: PageText) -> str:
    """The article text: trafilatura's fast precision pass, unless it shows one of three
    failures, each checked by one more pass on those pages only.

    * Short (under RECHECK_BELOW_BYTES): a fast recall pass replaces it when precision kept
      under PRECISION_SHARE of it (precision dropped part of the article).
    * A layout table (most of the text is table rows: old sites lay the whole page out in one
      table, navigation included): a pass with trafilatura's fallback extractors and without
      tables finds the article's own block; kept when it holds LAYOUT_BLOCK_SHARE of the
      table's text, or INNER_BLOCK_SHARE when it lies inside the table (else the table was the
      article, a data table, or the fallbacks found something else or nothing).
    * Sparse (under SPARSE_SHARE of the page's paragraph-long text runs): the fast passes
      missed the article's container; a full pass with the fallback extractors decides.

    Fast passes skip trafilatura's fallback extractors (readability, jusText), which cost half
    the time and no accuracy on other pages.
    """
    with _set_aside(seen.asides):
        text = _without_headline(_trafilatura_text(tree, url, precision=True), title).strip()
    if len(text.encode()) < RECHECK_BELOW_BYTES:
        recall = _without_headline(_trafilatura_text(tree, url, precision=False), title).strip()
        if len(text) < PRECISION_SHARE * len(recall):
            text = recall
    if _table_share(text) > LAYOUT_TABLE_SHARE:
        block = _without_headline(_trafilatura_text(tree, url, precision=None, fast=False, tables=False),
                                  title).strip()
        share = len(block) / len(text)
        if share >= LAYOUT_BLOCK_SHARE or (share >= INNER_BLOCK_SHARE and _inside(block, text)):
            return block
        return text
    if len(text.encode()) < SPARSE_SHARE * seen.paragraph_bytes:
        full = _without_headline(_trafilatura_text(tree, url, precision=None, fast=False), title).strip()
        return full or text
    return text


def _without_linked_cells(tree: HtmlElement, text: str, title: str) -> str:
    """readability's reading of a page whose text has table rows, when the cells it leaves out
    are mostly links' text: the layout table's related-article lists, ads and menus, which
    trafilatura keeps with the table (zh dev: half B 0.948 -> 0.976). Only pages with table
    rows pay for the second reading."""
    # Links in page order, run together: a cell of a related list is several links' text.
    links = "".join(TABLE_SPACING.sub("", link.text_content()) for link in tree.iter("a"))
    readable = _without_headline(_readability_text(tree), title).strip()
    if len(readable) < READABLE_SHARE * len(text):
        return text
    folded = TABLE_SPACING.sub("", readable)
    cells = (TABLE_SPACING.sub("", cell) for line in text.splitlines() for cell in CELL_BORDER.split(line))
    left_out = [cell for cell in cells if cell and cell not in folded]
    linked = sum(len(cell) for cell in left_out if cell in links)
    return readable if left_out and linked >= LEFT_OUT_LINKED_SHARE * sum(map(len, left_out)) else text


def _readability_text(tree: HtmlElement) -> str:
    """The text of trafilatura's readability port, a line per block (on a copy: it mutates
    its tree)."""
    summary = try_readability(deepcopy(tree))
    for element in summary.iter():
        if element.tag in BLOCK_TAGS:
            element.tail = "\n" + (element.tail or "")
    return squash_line_spaces(summary.text_content())


def _inside(block: str, text: str) -> bool:
    """Whether the lines of ``block`` are found in ``text`` (cells and spacing aside)."""
    folded = TABLE_SPACING.sub("", text)
    lines = [line for line in (TABLE_SPACING.sub("", raw) for raw in block.splitlines()) if line]
    inside = sum(len(line) for line in lines if line in folded)
    return bool(lines) and inside >= INSIDE_SHARE * sum(len(line) for line in lines)


def _table_share(text: str) -> float:
    """The share of ``text`` in table rows (trafilatura writes a row as ``| cell | cell |``)."""
    return sum(len(line) for line in text.splitlines() if line.startswith("| ")) / len(text) if text else 0.0


def _trafilatura_text(tree: HtmlElement, url: str, precision: bool | None, fast: bool = True,
                      tables: bool = True) -> str:
    """trafilatura's text in precision mode, recall mode (False) or its default (None), from
    ``tree`` (which bare_extraction copies before cleaning it)."""
    options = copy(_extractor(precision, fast, tables))
    options.url = options.source = url
    document = trafilatura.bare_extraction(tree, options=options)
    return (document.text if isinstance(document, Document) else "") or ""


@lru_cache(maxsize=8)
def _extractor(precision: bool | None, fast: bool, tables: bool) -> Extractor:
    """trafilatura's options for a pass, built once: building them reads its configuration,
    a tenth of a fast pass. Without metadata, so their date limit (today) is never used."""
    return Extractor(output_format="python", fast=fast, precision=precision is True, recall=precision is False,
                     comments=False, tables=tables, with_metadata=False)


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


def _declared(candidates: list[tuple[str, Any]], zone: tzinfo) -> Dated | None:
    """The first (origin, value) whose value parses as a plausible date: JSON-LD before meta
    tags, so the meta tags are not parsed (dateparser costs milliseconds) when JSON-LD has one."""
    for origin, value in candidates:
        parsed = parse_datetime(value, zone)
        if parsed is not None:
            return Dated(parsed, origin)
    return None


def _guessed_date(html: str, page: PageText, title: str, article: str, zone: tzinfo) -> Dated | None:
    """A date for a page that declares none and has none in its URL: the date written next to
    the headline or just above the article (``text``: where people look, and what old pages
    offer), else htmldate's reading of the markup (``<time>``, date classes and attributes).
    htmldate reads its own tree of the page, parsed once for both its searches: its parser keeps
    the markup's comments, where old CMS pages write their dates (trafilatura's drops them).

    htmldate's answer on the first of a month must be written as a full date in the page: it
    answers 2006-01-01 for a page that only says 2006. Its extensive search (any date in the
    text, ``htmldate_text``) is the last resort: it answers a related story's or a comment's
    date as readily, but on dates-dev it is right more often than no date is.
    """
    moment = page.date_near(title, article, zone)
    if moment is not None:
        return Dated(moment, "text")
    # Bytes (htmldate reads them as UTF-8 first): a str that looks like a URL it would download.
    tree = load_markup(html.encode("utf-8", "replace"))
    if tree is None:
        return None
    for extensive, origin in ((False, "htmldate"), (True, "htmldate_text")):
        found = htmldate.find_date(tree, original_date=True, extensive_search=extensive,
                                   outputformat="%Y-%m-%dT%H:%M:%S")
        guessed = parse_datetime(found, zone) if found else None
        if guessed is not None and (guessed.day != 1 or written_in(html, guessed.date())):
            return Dated(guessed, origin)
    return None


def _stated_offset(tree: HtmlElement) -> tzinfo | None:
    """The offset of the times a page declares (meta tags, <time>, JSON-LD), when not UTC."""
    return stated_offset([element.get("content") or "" for element in tree.iter("meta")]
                         + [element.get("datetime") or "" for element in tree.iter("time")]
                         + [script.text or "" for script in tree.iter("script")
                            if (script.get("type") or "").lower() == "application/ld+json"])


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
    return squash_spaces(text) if isinstance(text, str) else ""
