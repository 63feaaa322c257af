"""The floor for a Scrapy crawler: read the RSS feeds, fetch each item, ``trafilatura.extract``.

No relevance, dedup, storage, date windows or politeness extras: what any Scrapy-based news
crawler pays at least. Run with ``scrapy runspider benchmarks/barespider.py -a feeds=URL,URL``
from a directory without a scrapy.cfg (so no project settings apply). With ``-a extract=none``
it extracts nothing (trafilatura is not even imported): what Scrapy alone costs, fetching.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, feeds: str = "", extract: str = "trafilatura", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.feeds = [url for url in feeds.split(",") if url]
        if extract not in ("trafilatura", "none"):
            raise ValueError(f"extract: trafilatura or none, not {extract!r}")
        self.extract = extract == "trafilatura"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.feeds:
            yield scrapy.Request(url, callback=self.parse_feed)

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        for link in response.xpath("//item/link/text()").getall():
            yield response.follow(link.strip(), callback=self.parse_page)

    def parse_page(self, response: Response) -> Iterator[dict[str, str]]:
        if not self.extract:
            yield {"url": response.url}
            return
        import trafilatura  # here: the floor without extraction does not pay for its import

        text = trafilatura.extract(response.text, url=response.url)
        if text:
            yield {"url": response.url, "text": text}
