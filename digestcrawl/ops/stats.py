"""Stats keys, namespaced: ``digestcrawl/<event>`` and ``digestcrawl/source/<name>/<event>``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem


def count(crawler: Crawler, source: str, event: str, amount: int = 1) -> None:
    stats = crawler.stats
    assert stats is not None
    stats.inc_value(f"digestcrawl/{event}", amount)
    stats.inc_value(f"digestcrawl/source/{source}/{event}", amount)


def drop(crawler: Crawler, item: Mapping[str, Any], reason: str, detail: str = "") -> DropItem:
    """Count a dropped item (its ``ItemAdapter``) under its reason and return the DropItem to
    raise (Scrapy logs it)."""
    count(crawler, item["source"], f"dropped/{reason}")
    message = f"{reason}: {item['url']}" + (f" ({detail})" if detail else "")
    return DropItem(message, log_level="INFO")
