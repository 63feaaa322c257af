"""``scrapy crawl``, with exit codes a scheduler can act on (digestcrawl.ops.exitcodes): non-zero
when every source failed, when the digest failed, or when the run was refused as already
running. Everything else is Scrapy's own command."""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.crawler import Crawler
from scrapy.spiders import Spider

from digestcrawl.ops.exitcodes import announce, exit_code


class Command(ScrapyCrawl):
    crawler: Crawler | None = None

    def _create_crawler(self, spidercls: type[Spider] | str) -> Crawler:
        self.crawler = super()._create_crawler(spidercls)
        return self.crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        super().run(args, opts)
        if self.exitcode == 0 and self.crawler is not None and self.crawler.stats is not None:
            self.exitcode = announce(exit_code([self.crawler.stats.get_stats()]))
