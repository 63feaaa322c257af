"""robots.txt as RFC 9309 reads a server error: a host whose robots.txt answers 5xx (after
Scrapy's retries) is disallowed entirely for the crawl (§2.3.1.4), where Scrapy's
``RobotsTxtMiddleware`` would parse the error page and allow everything.

:class:`RobotsTxtMiddleware` is registered in place of Scrapy's. The host is counted once as
``robots/unavailable`` (globally and for the source whose request asked for robots.txt) with one
WARNING line. Each request robots.txt forbids (for either reason) fails with
:class:`RobotsRefusal`, Scrapy's ``IgnoreRequest`` under its own type, so the spider counts
``dropped/robots`` by type rather than by message text. Other answers, and network errors, are
Scrapy's: a 4xx allows everything.

Settings: ROBOTSTXT_OBEY, ROBOTSTXT_PARSER, ROBOTSTXT_USER_AGENT (Scrapy's).
"""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.downloadermiddlewares import robotstxt
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.robotstxt import RobotParser

from digestcrawl.ops.stats import count

logger = logging.getLogger(__name__)

DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"


class RobotsRefusal(IgnoreRequest):
    """A request robots.txt forbids (Scrapy's message, "Forbidden by robots.txt")."""


class RobotsTxtMiddleware(robotstxt.RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, with a 5xx robots.txt read as "Disallow: /" and its
    refusals raised as :class:`RobotsRefusal`."""

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        # Scrapy's check (its log line and robotstxt/forbidden stat), re-raised under our type.
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest as exc:
            raise RobotsRefusal(*exc.args) from exc

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status >= 500:
            count(self.crawler, request.meta.get("source", "unknown"), "robots/unavailable")
            logger.warning("robots.txt of %s answered %d: the host is disallowed for this crawl "
                           "(RFC 9309 §2.3.1.4); refused %s", netloc, response.status, request.url[:500])
            response = response.replace(body=DISALLOW_ALL)
        await super()._parse_robots(response, netloc, request)
