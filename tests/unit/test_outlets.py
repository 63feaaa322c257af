"""Links labelled with their page's publisher (issue 22): never the aggregator that listed them,
never 127.0.0.1 or a config name, and a Google News redirect is never a source."""

from __future__ import annotations

import pytest

from digestcrawl.digest.read.outlets import is_redirect, outlet_and_via, readable_host
from digestcrawl.digest.read.titles import title_site

SCMP = "https://www.scmp.com/tech/big-tech/article/3340218/alibabas-qwen-app-tops-100-million-monthly-users"


@pytest.mark.parametrize(("url", "feed_url", "site_name", "publisher", "in_title", "expected"), [
    # An SCMP link from Reddit was labelled [Reddit]; the Qwen blog from Hacker News [Hacker News].
    (SCMP, "https://www.reddit.com/search.json?q=qwen", "", "r/singularity", "", ("南華早報", "Reddit")),
    (SCMP, "http://127.0.0.1:8001/search.json", "", "r/singularity", "", ("南華早報", "r/singularity")),
    ("https://qwenlm.github.io/blog/qwen3-max/", "https://hn.algolia.com/api/v1/search_by_date", "",
     "Hacker News", "", ("Qwen 官方部落格", "Hacker News")),
    ("https://qwen.ai/blog?id=qwen3", "http://127.0.0.1:8002/api", "", "Hacker News", "",
     ("Qwen 官方部落格", "Hacker News")),
    # The aggregator's own page (an Ask HN post) is the aggregator's.
    ("https://news.ycombinator.com/item?id=46688470", "https://hn.algolia.com/api/v1/search", "", "Hacker News", "",
     ("Hacker News", "")),
    # Google News: the outlet its entry names, through Google News.
    ("https://news.google.com/rss/articles/CBMiX2h0", "https://news.google.com/rss/search?q=qwen", "", "自由時報", "",
     ("自由時報", "Google News")),
    # The page's own name first; the source's configured name for its own pages; never 127.0.0.1.
    ("http://127.0.0.1:8003/tech/1.html", "http://127.0.0.1:8003/sitemap.xml", "新浪科技", "", "", ("新浪科技", "")),
    ("http://127.0.0.1:8003/p/1.html", "http://127.0.0.1:8003/feed.xml", "", "zhweb", "松花江網", ("松花江網", "")),
    ("http://127.0.0.1:8004/article/1", "http://127.0.0.1:8004/list", "", "CMoney 理財寶", "", ("CMoney 理財寶", "")),
    ("https://cmnews.com.tw/article/1", "https://cmnews.com.tw/twstock/twstock_news", "", "", "",
     ("CMoney 理財寶", "")),
    ("https://blog.example.org/post", "https://blog.example.org/feed", "", "", "", ("blog.example.org", "")),
])
def test_each_link_is_labelled_with_its_publisher(url: str, feed_url: str, site_name: str, publisher: str,
                                                 in_title: str, expected: tuple[str, str]) -> None:
    assert outlet_and_via(url, feed_url, site_name, publisher, in_title) == expected


def test_redirects_and_addresses_are_never_shown() -> None:
    assert is_redirect("https://news.google.com/rss/articles/CBMiX2h0") and not is_redirect(SCMP)
    assert readable_host("http://127.0.0.1:8000/x") == "" and readable_host("http://localhost/x") == ""
    assert readable_host("https://www.scmp.com/x") == "scmp.com"


@pytest.mark.parametrize(("title", "site"), [
    ("千问App重磅升级 月活突破1亿_新浪科技_新浪网", "新浪网"),
    ("土豆不“土” 土豆無“土” - 松花江網", "松花江網"),
    ("Alibaba's Qwen app passes 100M users", ""),
])
def test_site_name_in_a_title(title: str, site: str) -> None:
    assert title_site(title) == site
