"""Clean an article's text fields, bound them, and enforce the crawl's date window.

Every article, from a page, a feed or an API, passes here before it is stored: over-long fields
are cut (``digestcrawl.store.caps``; stats ``digestcrawl/capped/<field>``) and implausible dates
cleared (stats ``digestcrawl/implausible_date/<published|modified>``), per source as well.

Drops (stats ``digestcrawl/dropped/<reason>``): ``empty_page`` (no title and no text),
``boilerplate_page`` (a cookie wall, bot check, login wall or error page in place of the article,
``digestcrawl.text.boilerplate``; also counted as ``digestcrawl/text/boilerplate/<kind>``),
``too_old`` / ``too_new`` (published outside the spider's since/until window).
"""

from __future__ import annotations

import logging
import re
import unicodedata

from scrapy.crawler import Crawler

from digestcrawl.context import CrawlContext
from digestcrawl.items import ItemT, RepoStats
from digestcrawl.ops.stats import count, drop
from digestcrawl.store.caps import cap_fields, drop_implausible_dates
from digestcrawl.text.boilerplate import boilerplate_kind

logger = logging.getLogger(__name__)
INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff\u00ad]")


def clean_text(text: str, keep_paragraphs: bool = False) -> str:
    text = INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    if keep_paragraphs:
        lines = (re.sub(r"[ \t\u3000\xa0]+", " ", line).strip() for line in text.splitlines())
        return "\n".join(line for line in lines if line)
    return re.sub(r"\s+", " ", text).strip()


class NormalizePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        return cls(crawler)

    def process_item(self, item: ItemT) -> ItemT:
        if isinstance(item, RepoStats):  # counters, not an article: only the store reads them
            return item
        item.title = clean_text(item.title)
        item.text = clean_text(item.text, keep_paragraphs=True)
        item.snippet = clean_text(item.snippet)
        if capped := cap_fields(item):
            logger.info("Cut %s of %s from %s to the field caps", ", ".join(capped), item.url, item.source)
        for name in capped:
            count(self.crawler, item.source, f"capped/{name}")
        if cleared := drop_implausible_dates(item):
            logger.info("Ignored the implausible %s date of %s from %s", " and ".join(cleared), item.url, item.source)
        for name in cleared:
            count(self.crawler, item.source, f"implausible_date/{name}")
        if not item.title and not item.text:
            raise drop(self.crawler, item, "empty_page")
        if kind := boilerplate_kind(item.title, item.text):
            count(self.crawler, item.source, f"boilerplate/{kind}")
            raise drop(self.crawler, item, "boilerplate_page", kind)
        if item.published is not None and not (context := CrawlContext.of(self.crawler)).in_window(item.published):
            raise drop(self.crawler, item, "too_old" if item.published < context.since else "too_new",
                       f"published {item.published.isoformat()}")
        return item
