"""The ``social`` spider: every ``category: social`` source in sources.yaml."""

from __future__ import annotations

from spiders.base import SourceSpider


class SocialSpider(SourceSpider):
    name = "social"
    categories = ("social",)
