"""Clean an article's text fields and enforce the crawl's date window.

Drops (stats ``digestcrawl/dropped/<reason>``): ``empty_page`` (no title and no text),
``too_old`` / ``too_new`` (published outside the spider's since/until window).
"""

from __future__ import annotations

import re
import unicodedata

from scrapy.crawler import Crawler

from digestcrawl.items import Article
from digestcrawl.stats import drop

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

    def process_item(self, item: Article) -> Article:
        item.title = clean_text(item.title)
        item.text = clean_text(item.text, keep_paragraphs=True)
        item.snippet = clean_text(item.snippet)
        if not item.title and not item.text:
            raise drop(self.crawler, item, "empty_page")
        spider = self.crawler.spider
        if item.published is not None and not spider.in_window(item.published):  # type: ignore[union-attr]
            since = spider.args.since  # type: ignore[union-attr]
            raise drop(self.crawler, item, "too_old" if item.published < since else "too_new",
                       f"published {item.published.isoformat()}")
        return item
