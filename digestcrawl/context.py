"""The crawl context: what one crawl is for, built once from the spider arguments and settings.

Models, date window, digest day, sources and crawl id are decided when the spider is created
(``SourceSpider.from_crawler`` calls :meth:`CrawlContext.attach`) and kept on the crawler, as
``crawler.crawl_context``. A crawler attribute rather than an extension: the context needs the
spider's arguments and categories, which no extension sees, and it must exist before the
pipelines and middlewares open. Pipelines, extensions and commands read it with
:meth:`CrawlContext.of`, never from spider attributes.

The digest day is fixed when the crawl starts (the last day of the window, else today, in
DIGEST_TIMEZONE): the run lock taken at the start and the digest written at close name the
same day even when a crawl runs past midnight.

Settings read: DIGESTCRAWL_MODELS_FILE, DIGESTCRAWL_SOURCES_FILE, DIGEST_TIMEZONE,
DIGESTCRAWL_DISTRIBUTED, DIGESTCRAWL_CRAWL_ID.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scrapy.crawler import Crawler

from digestcrawl.config import ModelConfig, SourceConfig, SourceProblem, load_models, load_sources
from digestcrawl.crawl.args import CrawlArgs

ATTRIBUTE = "crawl_context"


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
    def build(cls, crawler: Crawler, spider: str, categories: tuple[str, ...], raw_args: dict[str, Any],
              now: datetime | None = None) -> CrawlContext:
        """Validate ``raw_args`` (``-a`` arguments) against the configured models and the
        sources of ``categories``; raises ``digestcrawl.crawl.args.ArgumentError``."""
        settings = crawler.settings
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

    def attach(self, crawler: Crawler) -> None:
        setattr(crawler, ATTRIBUTE, self)

    @staticmethod
    def of(crawler: Crawler) -> CrawlContext:
        """The context of ``crawler``'s crawl (set when its spider was created)."""
        context = getattr(crawler, ATTRIBUTE, None)
        if not isinstance(context, CrawlContext):
            raise RuntimeError(f"crawler of {crawler.spidercls.name!r} has no crawl context: its spider "
                               "is not a digestcrawl SourceSpider, or it is not created yet")
        return context
