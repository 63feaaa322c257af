"""Scrapy commands: ``scrapy digest``, ``scrapy report``."""
