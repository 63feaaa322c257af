"""Scrapy commands: ``scrapy digest``, ``scrapy daily``, ``scrapy migrate``."""
