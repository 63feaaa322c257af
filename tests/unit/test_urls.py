from __future__ import annotations

import pytest

from digestcrawl.crawl.urls import canonical_url, unwrap_bing


@pytest.mark.parametrize(("url", "page_canonical", "expected"), [
    ("https://a.com/x.html?utm_source=rss&utm_medium=feed&id=7", None, "https://a.com/x.html?id=7"),
    ("https://a.com/x?fbclid=1&gclid=2&from=udn-rss", None, "https://a.com/x"),
    ("https://udn.com/news/amp/story/7333/9267954", None, "https://udn.com/news/story/7333/9267954"),
    ("https://a.com/amp/x", "https://a.com/x", "https://a.com/x"),
    ("https://a.com/x?b=2&a=1#frag", None, "https://a.com/x?a=1&b=2"),
    # A canonical link to another site is not trusted.
    ("https://a.com/x", "https://evil.example/y", "https://a.com/x"),
    ("https://a.com/x", "javascript:alert(1)", "https://a.com/x"),
    ("https://a.com/story?id=1", "/story?id=1", "https://a.com/story?id=1"),
])
def test_canonical_url(url: str, page_canonical: str | None, expected: str) -> None:
    assert canonical_url(url, page_canonical) == expected


@pytest.mark.parametrize(("link", "expected"), [
    ("http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=9&url=https%3a%2f%2fm.com%2fa%3fx%3d1&c=5",
     "https://m.com/a?x=1"),
    ("http://www.bing.com/news/apiclick.aspx?url=javascript%3Aalert(1)",
     "http://www.bing.com/news/apiclick.aspx?url=javascript%3Aalert(1)"),
    ("https://m.com/a", "https://m.com/a"),
])
def test_unwrap_bing(link: str, expected: str) -> None:
    assert unwrap_bing(link) == expected
