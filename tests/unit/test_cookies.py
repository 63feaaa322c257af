"""Cookie jars bounded like a browser's (digestcrawl.crawl.guard.cookies), through the real middleware:
Set-Cookie answers in, the next request's Cookie header out."""

from __future__ import annotations

from typing import Any

import pytest
from scrapy import Request
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from digestcrawl.crawl.guard.cookies import BoundedCookiesMiddleware
from tests.conftest import project_settings

URL = "https://www.example.co.uk/a"


@pytest.fixture
def middleware() -> BoundedCookiesMiddleware:
    crawler = get_crawler(settings_dict=project_settings())
    crawler.stats.open_spider()  # type: ignore[union-attr]
    return BoundedCookiesMiddleware.from_crawler(crawler)


def receive(middleware: BoundedCookiesMiddleware, *set_cookies: str, url: str = URL) -> None:
    request = Request(url, meta={"source": "s"})
    middleware.process_response(request, Response(url, headers={"Set-Cookie": list(set_cookies)}, request=request))


def sent(middleware: BoundedCookiesMiddleware, url: str = URL) -> bytes:
    request = Request(url, meta={"source": "s"})
    middleware.process_request(request)
    return request.headers.get("Cookie") or b""


def stats(middleware: BoundedCookiesMiddleware) -> dict[str, Any]:
    return {key.removeprefix("digestcrawl/source/s/"): value
            for key, value in middleware.crawler.stats.get_stats().items()  # type: ignore[union-attr]
            if key.startswith("digestcrawl/source/s/")}


def test_a_cookie_over_4_kb_is_dropped(middleware: BoundedCookiesMiddleware) -> None:
    receive(middleware, "big=" + "v" * 4094, "fits=" + "v" * 4092)  # 4097 and 4096 bytes
    assert sent(middleware).startswith(b"fits=")
    assert stats(middleware) == {"cookies/dropped/too_large": 1}


def test_at_most_50_cookies_per_domain_the_first_kept(middleware: BoundedCookiesMiddleware) -> None:
    receive(middleware, *(f"c{i:02d}=1" for i in range(60)))
    names = {pair.split(b"=")[0] for pair in sent(middleware).split(b"; ")}
    assert names == {f"c{i:02d}".encode() for i in range(50)}
    assert stats(middleware) == {"cookies/dropped/domain_full": 10}
    receive(middleware, "c07=updated")  # a full domain still takes a new value for a kept cookie
    assert b"c07=updated" in sent(middleware)


def test_the_cookie_header_holds_at_most_8_kb(middleware: BoundedCookiesMiddleware) -> None:
    receive(middleware, *(f"c{i:02d}={'v' * 4000}" for i in range(30)))
    header = sent(middleware)
    assert len(header) <= 8192 and header.count(b"=") == 2
    assert stats(middleware) == {"cookies/not_sent": 28}


def test_public_suffixes_from_the_shipped_list(middleware: BoundedCookiesMiddleware) -> None:
    # github.io is a public suffix (the list's private section; http.cookiejar alone would take
    # it): a cookie for all of it is not kept, one for the site is.
    page = "https://me.github.io/a"
    receive(middleware, "wide=1; Domain=github.io", "site=1; Domain=me.github.io", url=page)
    assert sent(middleware, "https://other.github.io/") == b""
    assert sent(middleware, "https://blog.me.github.io/") == b"site=1"
