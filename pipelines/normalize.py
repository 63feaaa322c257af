"""Clean an article's text fields, bound them, and enforce the crawl's date window.

Every article, from a page, a feed or an API, passes here before it is stored: over-long fields
are cut (``digestcrawl.store.caps``; stats ``digestcrawl/capped/<field>``) and implausible dates
cleared (stats ``digestcrawl/implausible_date/<published|modified>``), per source as well.

Drops (stats ``digestcrawl/dropped/<reason>``): ``empty_page`` (no title and no text),
``boilerplate_page`` (a cookie wall, bot check, login wall or error page in place of the article,
``digestcrawl.text.boilerplate``; also counted as ``digestcrawl/boilerplate/<kind>``),
``too_old`` / ``too_new`` (published outside the spider's since/until window).
An article with no date from its page, feed entry or URL is stored but counted ``undated``
(``digestcrawl/undated``, a column of the run report): it is nobody's news of the day, and the
daily digest leaves it out (``digestcrawl.digest.read.repository``).
Items are read and written through ``ItemAdapter``; repository counters pass untouched.
"""

from __future__ import annotations

import logging
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler

from digestcrawl.crawl import CrawlContext
from digestcrawl.items import is_article
from digestcrawl.ops.stats import count, drop
from digestcrawl.store import cap_fields, drop_implausible_dates
from digestcrawl.text import boilerplate_kind, clean_text

logger = logging.getLogger(__name__)


class NormalizePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        if not is_article(adapter):  # counters, not an article: only the store reads them
            return item
        adapter["title"] = clean_text(adapter["title"])
        adapter["text"] = clean_text(adapter["text"], keep_paragraphs=True)
        adapter["snippet"] = clean_text(adapter["snippet"])
        source = adapter["source"]
        if capped := cap_fields(adapter):
            logger.info("Cut %s of %s from %s to the field caps", ", ".join(capped), adapter["url"], source)
        for name in capped:
            count(self.crawler, source, f"capped/{name}")
        if cleared := drop_implausible_dates(adapter):
            logger.info("Ignored the implausible %s date of %s from %s", " and ".join(cleared), adapter["url"], source)
        for name in cleared:
            count(self.crawler, source, f"implausible_date/{name}")
        if not adapter["title"] and not adapter["text"]:
            raise drop(self.crawler, adapter, "empty_page")
        if kind := boilerplate_kind(adapter["title"], adapter["text"]):
            count(self.crawler, source, f"boilerplate/{kind}")
            raise drop(self.crawler, adapter, "boilerplate_page", kind)
        published = adapter["published"]
        if published is None:
            count(self.crawler, source, "undated")
        elif not (context := CrawlContext.of(self.crawler)).in_window(published):
            raise drop(self.crawler, adapter, "too_old" if published < context.since else "too_new",
                       f"published {published.isoformat()}")
        return item
