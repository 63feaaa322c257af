"""Keep only articles about the spider's models; record which models and aliases matched.

Only the title and the extracted main text are read (a feed entry's summary when it has no
text). Drops: ``off_topic`` (no alias), ``ambiguous_alias`` (only aliases with an everyday meaning,
used in that meaning); never an item from a watched model's own source (``Article.first_party``:
kept for that model, placed ``owner``, counted ``digestcrawl/first_party``). Counts
``digestcrawl/relevant``. Items are read and written through ``ItemAdapter``; repository counters
(``RepoStats``) pass untouched.
Settings: RELEVANCE_MIN_SCORE.
"""

from __future__ import annotations

from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler

from digestcrawl.crawl import CrawlContext
from digestcrawl.items import is_article
from digestcrawl.ops.stats import count, drop
from digestcrawl.text import RelevanceMatcher


class RelevancePipeline:
    matcher: RelevanceMatcher

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.min_score = crawler.settings.getint("RELEVANCE_MIN_SCORE")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RelevancePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.matcher = RelevanceMatcher(CrawlContext.of(self.crawler).models, self.min_score)

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        if not is_article(adapter):
            return item
        # The title and the extracted main text only: the navigation, footers and related links
        # are not in the text, and a page's description is not its text. A feed entry has no
        # text: its summary stands in.
        judged = self.matcher.judge(adapter["title"], adapter["text"] or adapter["snippet"])
        verdict = self.matcher.owned(judged, adapter["first_party"])
        if len(verdict.matches) > len(judged.matches):
            count(self.crawler, adapter["source"], "first_party")
        reason = verdict.drop_reason
        if reason:
            detail = f"everyday sense of {', '.join(verdict.ambiguous)}" if verdict.ambiguous else ""
            raise drop(self.crawler, adapter, reason, detail)
        matches = verdict.matches.items()
        adapter["models"] = {key: list(match.aliases) for key, match in matches}
        adapter["score"] = {key: match.score for key, match in matches}
        adapter["placement"] = {key: match.placement for key, match in matches}
        adapter["hits"] = {key: match.hits for key, match in matches}
        count(self.crawler, adapter["source"], "relevant")
        return item
