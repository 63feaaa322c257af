"""Scrapy commands: ``scrapy digest``, ``scrapy daily``, ``scrapy migrate``, ``scrapy extract``
(a page read the crawl's way, for debugging a source), and ``scrapy crawl`` (Scrapy's own, with
exit codes for schedulers)."""
