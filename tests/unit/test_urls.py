from __future__ import annotations

import pytest

from digestcrawl.crawl.urls import canonical_url, request_url, unwrap_bing


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


ARTICLE = "https://a.com/news/x.html?id=7&lang=zh"


@pytest.mark.parametrize("variant", [
    "https://a.com/news/x.html?lang=zh&id=7",  # parameter order
    "https://a.com/news/x.html?id=7&lang=zh#comments",  # fragment
    "https://a.com/news/x.html?id=7&lang=zh&utm_source=rss&utm_medium=feed&UTM_Campaign=q",
    "https://a.com/news/x.html?ref=twitter&id=7&lang=zh&ref_src=twsrc",
    "https://a.com/news/x.html?fbclid=IwAR0&gclid=Cj0&spm=a2c6h.1&id=7&lang=zh",
    "https://a.com/news/x.html?id=7&sessionid=9f8e&lang=zh&PHPSESSID=ab12&sid=77&jsessionid=1",
    "https://a.com/news/x.html?_=1768790000123&id=7&lang=zh",  # jQuery's cache-buster
    "https://a.com/news/x.html;jsessionid=0A1B2C3D?id=7&lang=zh",  # a session id in the path
    "HTTPS://A.COM/news/x.html?id=7&lang=zh",
])
def test_variants_of_one_page_are_requested_as_one_url(variant: str) -> None:
    assert request_url(variant) == request_url(ARTICLE) == "https://a.com/news/x.html?id=7&lang=zh"


@pytest.mark.parametrize(("first", "second"), [
    ("https://a.com/x?A=1", "https://a.com/x?a=1"),  # a key's case is the site's to decide
    ("https://a.com/x?id=7", "https://a.com/x?id=8"),
    ("https://a.com/x?page=2", "https://a.com/x"),
    ("https://a.com/X", "https://a.com/x"),
])
def test_different_pages_stay_apart(first: str, second: str) -> None:
    assert request_url(first) != request_url(second)


@pytest.mark.parametrize(("link", "expected"), [
    ("http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=9&url=https%3a%2f%2fm.com%2fa%3fx%3d1&c=5",
     "https://m.com/a?x=1"),
    ("http://www.bing.com/news/apiclick.aspx?url=javascript%3Aalert(1)",
     "http://www.bing.com/news/apiclick.aspx?url=javascript%3Aalert(1)"),
    ("https://m.com/a", "https://m.com/a"),
])
def test_unwrap_bing(link: str, expected: str) -> None:
    assert unwrap_bing(link) == expected
