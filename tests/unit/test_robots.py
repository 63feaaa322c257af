"""The robots.txt middleware's refusals have their own type, which the spider counts."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.robotstxt import ProtegoRobotParser
from scrapy.utils.test import get_crawler

from digestcrawl.crawl.guard.robots import DISALLOW_ALL, RobotsRefusal, RobotsTxtMiddleware


def middleware() -> RobotsTxtMiddleware:
    return RobotsTxtMiddleware.from_crawler(get_crawler(settings_dict={"ROBOTSTXT_OBEY": True}))


def test_a_forbidden_request_is_refused_as_robots_refusal() -> None:
    parser = ProtegoRobotParser(b"User-agent: *\nDisallow: /private/\n", None)
    with pytest.raises(RobotsRefusal, match=r"robots\.txt") as refused:
        middleware().process_request_2(parser, Request("https://news.example/private/a"))
    assert isinstance(refused.value, IgnoreRequest)  # still Scrapy's refusal for everything else


def test_an_allowed_request_passes() -> None:
    parser = ProtegoRobotParser(b"User-agent: *\nDisallow: /private/\n", None)
    middleware().process_request_2(parser, Request("https://news.example/public/a"))
    middleware().process_request_2(None, Request("https://news.example/private/a"))  # no robots.txt


def test_a_5xx_robots_txt_refuses_as_robots_refusal() -> None:
    parser = ProtegoRobotParser(DISALLOW_ALL, None)
    with pytest.raises(RobotsRefusal):
        middleware().process_request_2(parser, Request("https://news.example/"))
