"""The article pipelines tell articles from repository counters by the item's class, not by
whether it has a field named title."""

from __future__ import annotations

import dataclasses
from datetime import date

from itemadapter import ItemAdapter

from digestcrawl.items import Article, RepoStats, is_article

ARTICLE = Article(url="https://news.example/a", source="s", category="news", title="")
READING = RepoStats(repo="Qwen/Qwen3", model="qwen", source="hf", url="https://hf.example/Qwen/Qwen3",
                    day=date(2026, 1, 19), downloads=1)


def test_an_article_in_any_item_type_is_one() -> None:
    assert is_article(ItemAdapter(ARTICLE))
    assert is_article(ItemAdapter(dataclasses.asdict(ARTICLE)))


def test_repository_counters_are_not_articles() -> None:
    assert not is_article(ItemAdapter(READING))
