"""The ``news`` spider: every ``category: news`` source in sources.yaml."""

from __future__ import annotations

from spiders.base import SourceSpider


class NewsSpider(SourceSpider):
    name = "news"
    categories = ("news",)
