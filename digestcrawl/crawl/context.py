"""The crawl context: what one crawl is for, built once from the spider arguments and settings.

Models, date window, digest day, sources and crawl id are decided by the :class:`ContextAddon`
add-on (ADDONS). Scrapy creates the spider, then loads the add-ons, then builds the extensions,
the engine and its components: the add-on reads the spider's categories and ``-a`` arguments,
builds the context, and sets the settings it implies while they are still writable (a source's
delay as its download slot; Playwright only for a crawl that renders pages). A bad argument
raises ``ArgumentError`` there, before anything opens. Spiders, pipelines, extensions and commands
read it with :meth:`CrawlContext.of`; on a crawler made without a spider (``get_crawler``), the
context is built from ``crawler.spider`` on first use.

The digest day is fixed when the crawl starts (the last day of the window, else today, in
DIGEST_TIMEZONE): the run lock taken at the start and the digest written at close name the
same day even when a crawl runs past midnight.

Settings read: DIGESTCRAWL_MODELS_FILE, DIGESTCRAWL_SOURCES_FILE, DIGEST_TIMEZONE,
DIGESTCRAWL_DISTRIBUTED, DIGESTCRAWL_CRAWL_ID; the add-on sets DOWNLOAD_SLOTS,
DOWNLOAD_HANDLERS, PLAYWRIGHT_ABORT_REQUEST, and DIGESTCRAWL_JOB from Scrapyd's ``_job`` argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings

from digestcrawl.config import ModelConfig, SourceConfig, SourceProblem, load_models, load_sources
from digestcrawl.crawl.args import CrawlArgs
from digestcrawl.crawl.guard.netguard import BrowserGuard
from digestcrawl.crawl.urls import slot_key

PLAYWRIGHT_HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"


@dataclass(frozen=True)
class CrawlContext:
    spider: str
    args: CrawlArgs
    models: dict[str, ModelConfig]  # the crawled models, in argument order
    sources: tuple[SourceConfig, ...]  # the crawled sources
    config_problems: tuple[SourceProblem, ...]  # source entries skipped as invalid
    zone: ZoneInfo  # DIGEST_TIMEZONE
    day: date  # the day this crawl's digest is for
    distributed: bool
    crawl_id: str | None  # shared by the workers of a distributed crawl, else None

    @property
    def since(self) -> datetime:
        return self.args.since

    @property
    def until(self) -> datetime | None:
        return self.args.until

    def in_window(self, moment: datetime) -> bool:
        return moment >= self.since and (self.until is None or moment < self.until)

    @classmethod
    def build(cls, settings: BaseSettings, spider: str, categories: tuple[str, ...], raw_args: dict[str, Any],
              now: datetime | None = None) -> CrawlContext:
        """Validate ``raw_args`` (``-a`` arguments) against the configured models and the
        sources of ``categories``; raises ``digestcrawl.crawl.args.ArgumentError``."""
        now = now or datetime.now(UTC)
        zone = ZoneInfo(settings.get("DIGEST_TIMEZONE"))
        all_models = load_models(settings.get("DIGESTCRAWL_MODELS_FILE"))
        sources, problems = load_sources(settings.get("DIGESTCRAWL_SOURCES_FILE"))
        label = settings.get("DIGESTCRAWL_SOURCES_FILE") or "digestcrawl/conf/sources.yaml"
        unknown = {s.name: sorted(set(s.first_party) - set(all_models)) for s in sources}
        problems += [SourceProblem(label, name, f"field first_party: unknown models {models}")
                     for name, models in unknown.items() if models]
        mine = [s for s in sources if s.category in categories and not unknown[s.name]]
        args = CrawlArgs.parse(raw_args, list(all_models), [s.name for s in mine], zone, now)
        distributed = settings.getbool("DIGESTCRAWL_DISTRIBUTED")
        end = args.until - timedelta(microseconds=1) if args.until else now
        return cls(spider=spider, args=args, models={key: all_models[key] for key in args.models},
                   sources=tuple(s for s in mine if args.sources is None or s.name in args.sources),
                   config_problems=tuple(problems), zone=zone, day=end.astimezone(zone).date(),
                   distributed=distributed,
                   crawl_id=settings.get("DIGESTCRAWL_CRAWL_ID") if distributed else None)

    @staticmethod
    def of(crawler: Crawler) -> CrawlContext:
        """The context of ``crawler``'s crawl."""
        addon = crawler.get_addon(ContextAddon)
        context = addon.context() if addon is not None else None
        if context is None:
            raise RuntimeError(f"crawler of {crawler.spidercls.name!r} has no crawl context: its spider "
                               "is not a digestcrawl SourceSpider, or it is not created yet")
        return context


@runtime_checkable
class ArgumentSpider(Protocol):
    """A spider with a crawl context: its name, its source categories and its ``-a`` arguments."""

    name: str
    categories: ClassVar[tuple[str, ...]]
    arguments: dict[str, Any]


class ContextAddon:
    """The add-on (ADDONS) that builds a crawl's context from its spider, and finds it again."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._context: CrawlContext | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ContextAddon:
        return cls(crawler)

    def context(self) -> CrawlContext | None:
        """The crawl's context, built on the first call; None when the spider has none."""
        spider = self.crawler.spider
        if self._context is None and isinstance(spider, ArgumentSpider):
            self._context = CrawlContext.build(self.crawler.settings, spider.name, spider.categories,
                                               spider.arguments)
        return self._context

    def update_settings(self, settings: BaseSettings) -> None:
        context = self.context()  # a bad -a argument fails the crawl here, before anything opens
        if context is None:
            return
        # Scrapyd names its job only in the spider's arguments: the run lock and report need it.
        if job := getattr(self.crawler.spider, "_job", None):
            settings.set("DIGESTCRAWL_JOB", job, priority="spider")
        # A source's delay is its host's rate limit (arXiv: 1 request / 3 s): one request at a
        # time, no jitter below it, and AutoThrottle may not lower it (its requests say so).
        slots = dict(settings.getdict("DOWNLOAD_SLOTS"))
        for source in context.sources:
            if source.delay is not None:
                slots[slot_key(source.url)] = {"delay": source.delay, "concurrency": 1, "jitter": 0.0}
        settings.set("DOWNLOAD_SLOTS", slots, priority="spider")
        if any(s.render == "playwright" for s in context.sources):
            # Only a crawl that renders pages starts Playwright; the browser itself starts on
            # the first rendered request.
            settings.set("DOWNLOAD_HANDLERS", {**settings.getdict("DOWNLOAD_HANDLERS"), "http": PLAYWRIGHT_HANDLER,
                                               "https": PLAYWRIGHT_HANDLER}, priority="spider")
            BrowserGuard.install(self.crawler)  # Chromium's own requests pass the same address checks
