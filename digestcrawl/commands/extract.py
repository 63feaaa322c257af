"""``scrapy extract``: the crawl's own reading of a page, for a person debugging a source.

    scrapy extract page.html --url https://example.com/2026/01/19/story.html
    scrapy extract https://example.com/news/1 saved.html --json
    find saved -name '*.html' | jq -Rc '{path: ., url: null}' | scrapy extract - --json

Each input goes through what a crawl does with an article page: ``decode_html`` (header
charset, BOM, ``<meta>``, detector), the size caps (a page over them gives its title and lead
only, as in a crawl), ``extract_page`` (title, text, declared metadata, the date with its
provenance), then the field caps and date bounds of ``pipelines.normalize``. Inputs are files,
http(s) URLs, or ``-``: JSON lines ``{"path": ..., "url": ...}`` from stdin (``url`` may be
null; a line with a url and no path fetches the url). ``--url`` is the URL a file was saved
from (its date, its links); it applies to every file given.

URLs are fetched by a Scrapy crawl with the project's settings: the address guard
(``NETGUARD_*``), robots.txt, retries, Retry-After and download caps are the crawl's; the item
pipelines, the HTTP cache, the incremental check and the run report are off, so nothing is
stored or written.

Output, in input order: a readable block per page, or with ``--json`` one JSON object per line
with ``input``, ``url``, ``title``, ``text``, ``published`` (ISO 8601 in the page's own offset
when known, so that its first ten characters are the day the publisher wrote), ``published_from``
(``jsonld``, ``meta``, ``url``, ``htmldate``, ``text``, ``htmldate_text``), ``encoding``,
``lang``, and ``headline_only`` when a size cap kept the page from being read in full. An input that cannot
be read (a missing file, a refused or failed download, a binary answer, a JSON document, a bad
stdin line) has an ``error`` field instead; the others are still printed. Exit status 1 when any
input failed.

A date written without an offset is read on the page's own clock when the page states one (the
offset of its declared ISO 8601 times), else in ``--zone`` (the zone of the source the page is
from, as a crawl reads it), else in UTC.

Settings read: EXTRACTION_MAX_BYTES, EXTRACTION_MAX_TAGS, EXTRACTION_MAX_LINKS, and the crawl's download
settings for URLs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import scrapy
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import IgnoreRequest, UsageError
from scrapy.http import Response, TextResponse
from scrapy.settings import Settings
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from digestcrawl.crawl import download_error_reason, is_http
from digestcrawl.crawl.guard.netguard import GuardRefusal
from digestcrawl.items import Article
from digestcrawl.store import cap_fields, drop_implausible_dates
from digestcrawl.text import PageLimits, clean_text, decode_html, looks_json, oversize

# What a fetch must not touch: nothing is stored, cached, reported or skipped as already seen.
FETCH_SETTINGS: dict[str, Any] = {
    "ITEM_PIPELINES": {},
    "EXTENSIONS": {"digestcrawl.extensions.report.SourceReport": None},
    "HTTPCACHE_ENABLED": False,
    "INCREMENTAL_ENABLED": False,
    "DIGESTCRAWL_DISTRIBUTED": False,
    "SCHEDULER": "scrapy.core.scheduler.Scheduler",
    "DUPEFILTER_CLASS": "scrapy.dupefilters.BaseDupeFilter",
}


@dataclass
class Page:
    """One input and, once read, its bytes or why it could not be read."""

    input: str
    path: str | None = None
    url: str | None = None
    body: bytes | None = None
    content_type: str | None = None
    error: str | None = None
    result: dict[str, Any] = field(default_factory=dict)


def read_inputs(args: list[str], url: str | None, stdin: Iterator[str]) -> list[Page]:
    """The pages asked for, in order; ``-`` expands to the JSON lines of ``stdin``."""
    pages: list[Page] = []
    for arg in args:
        if arg == "-":
            pages.extend(_stdin_page(number, line) for number, line in enumerate(stdin, 1) if line.strip())
        elif is_http(arg):
            pages.append(Page(arg, url=arg))
        else:
            pages.append(Page(arg, path=arg, url=url))
    return pages


def _stdin_page(number: int, line: str) -> Page:
    try:
        entry = json.loads(line)
    except ValueError as exc:
        return Page(f"stdin line {number}", error=f"not a JSON line: {exc}")
    if not isinstance(entry, dict):
        return Page(f"stdin line {number}", error="not a JSON object")
    path, url = entry.get("path"), entry.get("url")
    if not (isinstance(path, str) and path) and not (isinstance(url, str) and is_http(url)):
        return Page(f"stdin line {number}", error='neither a "path" nor an http(s) "url"')
    if not isinstance(url, str) or not url:
        url = None
    return Page(path or url or "", path=path if isinstance(path, str) and path else None, url=url)


def read_file(page: Page) -> None:
    assert page.path is not None
    try:
        page.body = Path(page.path).read_bytes()
    except OSError as exc:
        page.error = f"cannot read {page.path}: {exc.strerror or exc}"


def extract(page: Page, zone: tzinfo, limits: PageLimits) -> dict[str, Any]:
    """The crawl's reading of one page: decode, extract (its head only over the caps), then the
    field caps and date bounds every stored article gets."""
    # Imported here: Scrapy imports every command's module whenever any command starts (a crawl
    # too), and a crawl process leaves extraction to its workers.
    from digestcrawl.text import extract_head, extract_page

    if page.error is not None or page.body is None:
        return {"input": page.input, "url": page.url, "error": page.error or "nothing read"}
    html, encoding = decode_html(page.body, page.content_type)
    if looks_json(html):  # a crawl drops it too (not_html)
        return {"input": page.input, "url": page.url, "encoding": encoding, "error": "not HTML: a JSON document"}
    url = page.url or ""
    too_large = oversize(page.body, limits)
    extracted = extract_head(html, url, zone) if too_large else extract_page(html, url, zone)
    if extracted is None:
        return {"input": page.input, "url": page.url, "encoding": encoding, "error": "not HTML: no tree to read"}
    article = Article(url=url, source="extract", category="", title=clean_text(extracted.title),
                      text=clean_text(extracted.text, keep_paragraphs=True), language=extracted.language,
                      published=extracted.published, published_from=extracted.published_from,
                      modified=extracted.modified, modified_from=extracted.modified_from)
    cap_fields(article)
    drop_implausible_dates(article)
    result: dict[str, Any] = {
        "input": page.input, "url": page.url, "title": article.title, "text": article.text,
        "published": article.published.isoformat() if article.published else None,
        "published_from": article.published_from, "encoding": encoding, "lang": article.language,
    }
    if too_large:
        result["headline_only"] = f"page_too_large: {too_large}"
    return result


class FetchSpider(scrapy.Spider):
    """Fetches the URL inputs through the crawl's downloader; keeps each answer on its Page."""

    name = "extract"

    def __init__(self, pages: list[Page], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pages = pages

    async def start(self) -> Any:
        for index, page in enumerate(self.pages):
            assert page.url is not None
            yield scrapy.Request(page.url, callback=self.fetched, errback=self.failed, dont_filter=True,
                                 cb_kwargs={"index": index}, meta={"index": index})

    def fetched(self, response: Response, index: int) -> None:
        page = self.pages[index]
        page.url = response.url
        content_type = response.headers.get(b"Content-Type")
        page.content_type = content_type.decode("latin-1") if content_type else None
        if not isinstance(response, TextResponse):
            page.error = f"binary response ({page.content_type or 'no content type'})"
            return
        page.body = response.body

    def failed(self, failure: Failure) -> None:
        page = self.pages[failure.request.meta["index"]]  # type: ignore[attr-defined]
        page.error = fetch_error(failure)


def fetch_error(failure: Failure) -> str:
    """Why a URL was not fetched, in the crawl's words."""
    if isinstance(failure.value, GuardRefusal):
        return f"refused ({failure.value.reason}): {failure.value}"
    if isinstance(failure.value, HttpError):
        return f"HTTP {failure.value.response.status}"
    if failure.check(IgnoreRequest):
        return f"not fetched: {failure.value}"
    return f"download failed ({download_error_reason(failure.value)}): {failure.getErrorMessage()}"


class Command(ScrapyCommand):
    requires_project = True

    def syntax(self) -> str:
        return "FILE_OR_URL... [--url URL] [--json] [--zone TZ]"

    def short_desc(self) -> str:
        return "Extract pages (files, URLs, or - for JSON lines) the way a crawl does"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--url", help="the URL the FILE(s) were saved from (dates, links)")
        parser.add_argument("--json", action="store_true", help="one JSON object per page, in input order")
        parser.add_argument("--zone", help="the source's time zone, for dates written without one (default UTC)")

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if not args:
            raise UsageError("give at least one FILE, URL or -")
        if opts.url is not None and not is_http(opts.url):
            raise UsageError(f"--url must be an http(s) URL, not {opts.url!r}")
        assert self.settings is not None
        # The fetch crawl must not store, cache or report anything (see FETCH_SETTINGS).
        self.settings.setdict(FETCH_SETTINGS, priority="cmdline")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        try:
            # No source, so no source's zone: dates without an offset (on a page that states
            # none) are UTC unless --zone names the source's.
            zone = ZoneInfo(opts.zone or "UTC")
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise UsageError(f"unknown time zone: {exc}") from None
        pages = read_inputs(args, opts.url, sys.stdin if "-" in args else iter(()))
        for page in pages:
            if page.path is not None and page.error is None:
                read_file(page)
        to_fetch = [page for page in pages if page.path is None and page.error is None]
        if to_fetch:
            self._fetch(to_fetch)
        limits = _limits(self.settings)
        failed = False
        try:
            for page in pages:
                result = extract(page, zone, limits)
                failed = failed or "error" in result
                print(json.dumps(result, ensure_ascii=False) if opts.json else _readable(result), flush=True)
        except BrokenPipeError:  # the reader went away (| head): nothing more to print, no traceback
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return
        self.exitcode = 1 if failed else 0

    def _fetch(self, pages: list[Page]) -> None:
        assert self.crawler_process is not None
        self.crawler_process.crawl(FetchSpider, pages=pages)
        self.crawler_process.start()


def _limits(settings: Settings) -> PageLimits:
    return PageLimits(settings.getint("EXTRACTION_MAX_BYTES"), settings.getint("EXTRACTION_MAX_TAGS"),
                      settings.getint("EXTRACTION_MAX_LINKS"))


def _readable(result: dict[str, Any]) -> str:
    lines = [f"== {result['input']}"]
    if "error" in result:
        lines.append(f"error: {result['error']}")
        return "\n".join(lines) + "\n"
    for name in ("url", "title", "published", "published_from", "encoding", "lang", "headline_only"):
        if result.get(name) is not None:
            lines.append(f"{name}: {result[name]}")
    lines.append("")
    lines.append(result.get("text") or "(no text)")
    return "\n".join(lines) + "\n"
