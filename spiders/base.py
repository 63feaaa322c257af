"""The shared spider: crawls every configured source of its categories, whatever its kind.

Arguments (``-a``): ``model`` (key, comma list or ``all``), ``since`` / ``until`` (the date
window; default the last day), ``source`` (comma list of source names; default all of the
category), validated into the crawl context (``digestcrawl.crawl.context``) by its add-on before
the crawl's components are built. Callbacks stay thin: a source document is read by its kind
(``digestcrawl.crawl.kinds``), an article page by ``digestcrawl.text.extraction``.

Each source's requests are bounded: a budget, newest entries first (``digestcrawl.crawl.budget``),
and sitemap children once each and not too deep (``digestcrawl.crawl.discovery``). Listed URLs
are requested under one form (``digestcrawl.crawl.urls.request_url``).

Settings read: those of the crawl context, DOWNLOAD_MAXSIZE (also the cap on a gzipped feed's
or sitemap's inflated size), and those of the budget and the sitemap discovery.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from functools import cached_property, partial
from typing import Any, ClassVar

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from digestcrawl.config import SourceConfig
from digestcrawl.crawl import (
    ENTRY_CHANGED,
    CrawlContext,
    Entry,
    FeedError,
    SitemapDiscovery,
    SourceBudget,
    SourceURL,
    UnchangedArticle,
    canonical_url,
    download_error_reason,
    is_http,
    newest_first,
    request_url,
    slot_key,
    source_urls,
    unwrap_bing,
)
from digestcrawl.crawl.extraction.pool import ExtractionError, ExtractionPool, ExtractionShortfall
from digestcrawl.crawl.guard.netguard import GuardRefusal
from digestcrawl.crawl.guard.robots import RobotsRefusal
from digestcrawl.crawl.kinds import KINDS, Document, Parsed, RepoReading
from digestcrawl.items import Article, RepoStats
from digestcrawl.ops.stats import count
from digestcrawl.text import (
    Dated,
    ExtractedPage,
    best_date,
    decode_html,
    looks_binary,
    looks_json,
    url_date,
)


class SourceSpider(scrapy.Spider):
    categories: ClassVar[tuple[str, ...]]

    # The -a arguments, read by the crawl context's add-on (digestcrawl.crawl.context).
    arguments: dict[str, Any]
    extraction: ExtractionPool
    budget: SourceBudget
    discovery: SitemapDiscovery

    # Article URL → latest feed-entry time seen for it in this run (several feeds may list one
    # article; it is fetched once). Across runs, and after a crash with JOBDIR, the database
    # decides what is fetched again, not Scrapy's persisted dupefilter: a request in flight when
    # the process was killed is marked seen but was never stored.
    _requested: dict[str, datetime | None]
    # Article URL → the best publication date of the entries listing it (``best_date``: the
    # same whichever listing was read first).
    _listed: dict[str, Dated]
    # Hugging Face repos read in this run: one reading each, whichever listing named it first.
    _read_repos: set[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Every -a argument is validated by CrawlArgs; Scrapyd's own (_job) pass through.
        self.arguments = {k: kwargs.pop(k) for k in list(kwargs) if not k.startswith("_") and k != "name"}
        super().__init__(*args, **kwargs)
        self._requested = {}
        self._listed = {}
        self._read_repos = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SourceSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.extraction = ExtractionPool.from_crawler(crawler)
        spider.budget = SourceBudget.from_crawler(crawler)
        spider.discovery = SitemapDiscovery.from_crawler(crawler)
        return spider

    @cached_property
    def context(self) -> CrawlContext:
        """What this crawl is for (models, window, day, sources), fixed for the crawl.
        Distributed: the Redis dupefilter, not this process, dedups requests."""
        return CrawlContext.of(self.crawler)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for problem in self.context.config_problems:
            self.logger.error("Skipping invalid source entry: %s", problem)
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("digestcrawl/config/invalid_source")
        for request in self._start_sources():
            yield request

    def restart_sources(self) -> list[scrapy.Request]:
        """The source requests again, their entries to be followed anew: the distributed
        scheduler calls this when Redis lost the shared queue (digestcrawl.crawl.distributed.scheduler)."""
        self._requested.clear()
        self._listed.clear()
        self._read_repos.clear()
        self.budget.clear()
        self.discovery.clear()
        return list(self._start_sources())

    def _start_sources(self) -> Iterator[scrapy.Request]:
        for source in self.context.sources:
            for origin in source_urls(source, self.context.models, self.context.since):
                self.discovery.start(source.name, origin.url)
                yield self._source_request(origin.url, source, origin)

    def _source_request(self, url: str, source: SourceConfig, origin: SourceURL, depth: int = 0
                        ) -> scrapy.Request:
        """A feed, sitemap, listing or API request. Always asked again, even when a resumed
        JOBDIR has seen it: revalidating it is a cheap conditional GET, losing its entries is
        not. Workers sharing a Redis queue leave it to the shared dupefilter instead, so each is
        read once per crawl. ``depth``: sitemap index levels below the source's URL."""
        meta: dict[str, Any] = {"source": source.name}
        if source.delay is not None:
            meta |= {"download_slot": slot_key(source.url), "autothrottle_dont_adjust_delay": True}
        return scrapy.Request(url, callback=self.parse_source, errback=self.request_failed,
                              headers=dict(KINDS[source.kind].headers),
                              cb_kwargs={"source": source, "origin": origin, "depth": depth}, meta=meta,
                              dont_filter=not self.context.distributed)

    def parse_source(self, response: Response, source: SourceConfig, origin: SourceURL | None = None,
                     depth: int = 0) -> Iterator[Any]:
        # Without an origin: a request queued (JOBDIR, Redis) by a version that had none.
        origin = origin or SourceURL(response.url)
        count(self.crawler, source.name, "fetched")
        kind = KINDS[source.kind]
        try:
            # A gzipped feed or sitemap inflates no larger than a download may be.
            parsed = kind.parse(Document(response.body, response.url, _content_type(response), source.zone,
                                         self.crawler.settings.getint("DOWNLOAD_MAXSIZE"),
                                         getattr(source, kind.option) if kind.option else None))
        except FeedError as exc:
            count(self.crawler, source.name, "errors/malformed_feed")
            self.logger.error("Malformed %s from source %s at %s: %s (%d entries recovered)",
                              source.kind, source.name, response.url, exc, len(exc.recovered))
            parsed = Parsed(entries=exc.recovered)
        for child in parsed.children:
            url = response.urljoin(child)
            if not self._http_only(url, source, "sitemap child"):
                continue
            if refusal := self.discovery.refusal(source.name, url, depth + 1):
                count(self.crawler, source.name, f"dropped/{refusal}")
                self.logger.info("Not following sitemap child of source %s (%s): %s", source.name, refusal, url[:200])
            elif request := self.budget.request(source, partial(self._source_request, url, source, origin, depth + 1)):
                yield request
        count(self.crawler, source.name, "entries", len(parsed.entries) + len(parsed.repos))
        yield from self._repo_items(parsed.repos, source, origin, response.url)
        first_party = _first_party(source, origin)
        # A release is titled by its tag ("v0.3.1"): its repository makes it a headline.
        repository = origin.label if source.owner_placeholder == "github_repo" else None
        for entry in newest_first(parsed.entries):  # the budget takes the newest first
            if repository and repository not in entry.title:
                entry.title = f"{repository} {entry.title}".strip()
            yield from self._follow_entry(entry, source, response.url, first_party)

    def _repo_items(self, repos: list[RepoReading], source: SourceConfig, origin: SourceURL,
                    feed_url: str) -> Iterator[Any]:
        """A repository listing (Hugging Face): one counters reading per repository (the time
        series), and an article for each repository created within the window (a new checkpoint)."""
        if origin.owner is None:  # an {hf_author} URL always has one; a fixed URL reads no model's repos
            return
        day = self.context.day
        fetched = datetime.now(UTC)
        for repo in repos:
            if repo.repo in self._read_repos:  # also in the other listing (by downloads, by date)
                continue
            self._read_repos.add(repo.repo)
            yield RepoStats(repo=repo.repo, model=origin.owner, source=source.name, url=repo.url, day=day,
                            downloads=repo.downloads, likes=repo.likes, fetched=fetched)
            if repo.created is not None and self.context.in_window(repo.created):
                yield self._repo_article(repo, source, feed_url, _first_party(source, origin), fetched)

    def _repo_article(self, repo: RepoReading, source: SourceConfig, feed_url: str, first_party: dict[str, str],
                     fetched: datetime) -> Article:
        return Article(url=repo.url, source=source.name, category=source.category, title=repo.repo,
                       locale=source.locale, publisher=source.publisher, feed_url=feed_url,
                       published=repo.created, published_from="feed", fetched=fetched, headline_only=True,
                       first_party=first_party)

    def _follow_entry(self, entry: Entry, source: SourceConfig, feed_url: str,
                      first_party: dict[str, str]) -> Iterator[Any]:
        if source.links == "bing":
            entry.url = unwrap_bing(entry.url)
        if not self._http_only(entry.url, source, "entry"):
            return
        reason = self._skip_reason(entry)
        if reason:
            count(self.crawler, source.name, f"dropped/{reason}")
            self.logger.debug("Skipping %s entry %s from %s", reason, entry.url, source.name)
            return
        if not source.follow:
            yield self._article_from_entry(entry, source, feed_url, first_party)
            return
        url = request_url(entry.url)
        changed = entry.updated or entry.published
        listed = best_date([self._listed.get(url), Dated(entry.published, "feed") if entry.published else None],
                           source.zone)
        if listed is not None:
            self._listed[url] = listed
        if url in self._requested:  # listed by another feed of this run: fetched once
            self._requested[url] = max(filter(None, (self._requested[url], changed)), default=None)
            return
        self._requested[url] = changed
        if request := self.budget.request(source, partial(self._article_request, url, source, entry, feed_url,
                                                          first_party, changed)):
            yield request

    def _article_request(self, url: str, source: SourceConfig, entry: Entry, feed_url: str,
                         first_party: dict[str, str], changed: datetime | None) -> scrapy.Request:
        return scrapy.Request(
            url, callback=self.parse_article, errback=self.request_failed, dont_filter=not self.context.distributed,
            cb_kwargs={"source": source, "entry": entry, "feed_url": feed_url, "first_party": first_party},
            # Article pages are not kept in the HTTP cache: the database knows what is stored.
            meta={"source": source.name, "playwright": source.render == "playwright", "dont_cache": True,
                  ENTRY_CHANGED: changed.isoformat() if changed else None})

    def _http_only(self, url: str, source: SourceConfig, what: str) -> bool:
        """Only http(s) URLs are scheduled; any other is dropped, counted and logged here."""
        if is_http(url):
            return True
        count(self.crawler, source.name, "dropped/bad_scheme")
        self.logger.warning("Dropped %s from source %s: %s is not an http(s) URL", what, source.name, url[:200])
        return False

    def _skip_reason(self, entry: Entry) -> str | None:
        if entry.is_ad:
            return "ad"
        if entry.published is not None and not self.context.in_window(entry.published):
            return "too_old" if entry.published < self.context.since else "too_new"
        return None

    def _article_from_entry(self, entry: Entry, source: SourceConfig, feed_url: str,
                            first_party: dict[str, str]) -> Article:
        return Article(
            url=canonical_url(entry.url), source=source.name, category=source.category,
            title=entry.title, text=entry.text, snippet=entry.snippet, locale=source.locale,
            author=entry.author, publisher=entry.publisher or source.publisher, feed_url=feed_url,
            published=entry.published, published_from="feed" if entry.published else None,
            fetched=datetime.now(UTC), headline_only=True, first_party=first_party)

    async def parse_article(self, response: Response, source: SourceConfig, entry: Entry,
                            feed_url: str, first_party: dict[str, str] | None = None) -> AsyncIterator[Article]:
        # first_party is None on a request queued (JOBDIR, Redis) by a version that had none.
        count(self.crawler, source.name, "fetched")
        if (not isinstance(response, TextResponse) or not _is_markup(_content_type(response))
                or looks_binary(response.body)):
            count(self.crawler, source.name, "dropped/binary_response")
            self.logger.warning("Binary response (%s) from %s at %s: no article",
                                _content_type(response) or "no content type", source.name, response.url)
            return
        html, _ = decode_html(response.body, _content_type(response))
        if looks_json(html):  # an API's answer served as text/html is no article text
            api = KINDS[source.kind].self_contained  # then the API's own entry is the item
            count(self.crawler, source.name, "headline_only/not_html" if api else "dropped/not_html")
            self.logger.warning("JSON served as %s from %s at %s: %s", _content_type(response) or "no content type",
                                source.name, response.url, "storing its API entry" if api else "no article")
            if api:
                yield self._article_from_entry(entry, source, feed_url, first_party or {})
            return
        page, shortfall = await self._extract(response, html, source)
        if shortfall is not None:
            reason, detail = shortfall
            if not ((page and page.title) or entry.title):
                count(self.crawler, source.name, f"dropped/{reason}")
                self.logger.warning("Page not extracted in full from %s at %s (%s: %s), and no title: no article",
                                    source.name, response.url, reason, detail)
                return
            count(self.crawler, source.name, f"headline_only/{reason}")
            self.logger.warning("Page not extracted in full from %s at %s (%s: %s): storing its title and lead only",
                                source.name, response.url, reason, detail)
            page = page or ExtractedPage(title="", text="")
        elif page is None or not (page.text or page.title):
            count(self.crawler, source.name, "dropped/empty_page")
            self.logger.warning("Empty page from %s at %s: no article", source.name, response.url)
            return
        requested = _requested_url(response)
        listed = self._listed.get(requested) or (Dated(entry.published, "feed") if entry.published else None)
        # A feed's date beats one guessed from the page, and a dated URL fixes a UTC instant's day.
        dated = best_date([Dated(page.published, page.published_from or "text") if page.published else None,
                           listed, url_date([response.url, requested], source.zone)], source.zone)
        published, published_from = (dated.moment, dated.origin) if dated else (None, None)
        yield Article(
            url=canonical_url(response.url, page.canonical), requested_url=requested, source=source.name,
            category=source.category, title=page.title or entry.title, text=page.text,
            snippet=entry.snippet or page.description or "", locale=source.locale, language=page.language,
            author=page.author or entry.author,
            site_name=page.site_name, publisher=entry.publisher or page.site_name or source.publisher,
            feed_url=feed_url,
            published=published, published_from=published_from, modified=page.modified,
            modified_from=page.modified_from, fetched=datetime.now(UTC),
            entry_changed=self._entry_changed(response), headline_only=shortfall is not None,
            first_party=first_party or {})

    async def _extract(self, response: TextResponse, html: str, source: SourceConfig
                       ) -> tuple[ExtractedPage | None, tuple[str, str] | None]:
        """The page's article (``html``: the response's decoded body); or, for a page too large
        or too slow to extract in full, its title and lead only with (reason, detail) of the
        shortfall."""
        too_large = self.extraction.oversize(response.body)
        if too_large:
            return self.extraction.head(html, response.url, source.zone), ("page_too_large", too_large)
        if not html.strip():
            return None, None
        try:
            return await self.extraction.extract(html, response.url, source.zone), None
        except ExtractionShortfall as exc:
            return self.extraction.head(html, response.url, source.zone), (exc.reason, exc.detail)
        except ExtractionError as exc:  # a page that breaks the extractor costs only itself
            return self.extraction.head(html, response.url, source.zone), ("extraction_error", exc.last_line)

    def _entry_changed(self, response: Response) -> datetime | None:
        """The latest feed-entry time of this article: this process's view when it parsed the
        feeds, else (a distributed worker that did not) what the request carried."""
        carried = response.meta.get(ENTRY_CHANGED)
        return self._requested.get(_requested_url(response)) or (datetime.fromisoformat(carried) if carried else None)

    def request_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        request = failure.request  # type: ignore[attr-defined]
        source = request.meta.get("source", "unknown")
        if failure.check(UnchangedArticle):
            count(self.crawler, source, "skipped/unchanged")
            # Not fetched: its place in the source's budget goes to the next deferred entry.
            if (deferred := self.budget.refund(source)) is not None:
                yield deferred
        elif isinstance(failure.value, GuardRefusal):
            count(self.crawler, source, f"dropped/{failure.value.reason}")
        elif failure.check(RobotsRefusal):
            count(self.crawler, source, "dropped/robots")
        elif isinstance(failure.value, HttpError):
            status = failure.value.response.status
            count(self.crawler, source, f"errors/http_{status}")
            self.logger.error("HTTP %s from source %s at %s", status, source, request.url)
        else:
            reason = download_error_reason(failure.value)
            count(self.crawler, source, f"errors/{reason}")
            self.logger.error("Download failed (%s) for source %s at %s: %s", reason, source, request.url,
                              failure.getErrorMessage())


def _first_party(source: SourceConfig, origin: SourceURL) -> dict[str, str]:
    """Model → account for the models this source URL speaks for: the one whose account it was
    expanded from, and those the source names as first-party (an official blog)."""
    owners = dict.fromkeys(source.first_party, source.publisher or source.name)
    if origin.owner is not None and origin.label is not None:
        owners[origin.owner] = origin.label
    return owners


def _is_markup(content_type: str | None) -> bool:
    """Whether a page of this Content-Type can hold an article: HTML, XML or text, or no usable
    type at all (then the body decides); never a PDF, an image or a download."""
    media = (content_type or "").split(";")[0].strip().lower()
    if "/" not in media:
        return True
    kind, _, subtype = media.partition("/")
    return kind == "text" or subtype in ("html", "xhtml+xml", "xml") or subtype.endswith("+xml")


def _requested_url(response: Response) -> str:
    """The URL the spider asked for (before any redirect): what its feeds listed."""
    return str((response.meta.get("redirect_urls") or [response.url])[0])


def _content_type(response: Response) -> str | None:
    value = response.headers.get(b"Content-Type")
    return value.decode("latin-1") if value else None
