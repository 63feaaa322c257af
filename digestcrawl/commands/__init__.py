"""Scrapy commands: ``scrapy digest``, ``scrapy daily``, ``scrapy migrate``, and ``scrapy crawl``
(Scrapy's own, with exit codes for schedulers)."""
