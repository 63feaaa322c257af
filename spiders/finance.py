"""The ``finance`` spider: every ``category: finance`` source in sources.yaml."""

from __future__ import annotations

from spiders.base import SourceSpider


class FinanceSpider(SourceSpider):
    name = "finance"
    categories = ("finance",)
