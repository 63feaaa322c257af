"""Keep only articles about the spider's models; record which models and aliases matched.

Only the title and the extracted main text are read (a feed entry's summary when it has no
text). Drops: ``off_topic`` (no alias), ``ambiguous_alias`` (only aliases with an everyday meaning,
used in that meaning). Counts ``digestcrawl/relevant``.
Settings: RELEVANCE_MIN_SCORE.
"""

from __future__ import annotations

from scrapy.crawler import Crawler

from digestcrawl.items import Article
from digestcrawl.relevance import RelevanceMatcher
from digestcrawl.stats import count, drop


class RelevancePipeline:
    matcher: RelevanceMatcher

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.min_score = crawler.settings.getint("RELEVANCE_MIN_SCORE", 1)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RelevancePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.matcher = RelevanceMatcher(self.crawler.spider.models, self.min_score)  # type: ignore[union-attr]

    def process_item(self, item: Article) -> Article:
        # The title and the extracted main text only: the navigation, footers and related links
        # are not in the text, and a page's description is not its text. A feed entry has no
        # text: its summary stands in.
        verdict = self.matcher.judge(item.title, item.text or item.snippet)
        reason = verdict.drop_reason
        if reason:
            detail = f"everyday sense of {', '.join(verdict.ambiguous)}" if verdict.ambiguous else ""
            raise drop(self.crawler, item, reason, detail)
        item.models = {key: list(match.aliases) for key, match in verdict.matches.items()}
        item.score = {key: match.score for key, match in verdict.matches.items()}
        item.placement = {key: match.placement for key, match in verdict.matches.items()}
        item.hits = {key: match.hits for key, match in verdict.matches.items()}
        count(self.crawler, item.source, "relevant")
        return item
