"""A consent wall served by three hosts under their own headlines is dropped, every page of it;
an article syndicated to the same three hosts is stored once, with two copies."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.project import get_project_settings
from sqlalchemy import create_engine, text

from digestcrawl.items import Article
from spiders.news import NewsSpider
from tests.tinyweb import Page, TinyWeb

HOSTS = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
RSS = "application/rss+xml"
# No phrase of boilerplate.PHRASES: only its repetition across hosts gives it away.
CONSENT = ("Before you continue to {host}: we and {vendors} vendors store and access information on your "
           "device, such as unique identifiers, to measure content performance and develop services. You "
           "can change your choice at any time in the privacy centre. Agree. Manage options.")
WALL_TITLES = ("千問App月活破億 春節後開放第三方", "Qwen3-Max tops the open-model leaderboard",
               "阿里千問下載量斷層領跑")
STORY_TITLE = "千問App接入淘寶支付寶 月活躍用戶突破1億"
STORY = ("阿里巴巴旗下AI助手千問App宣布，自1月15日起全面接入淘寶、支付寶、飛豬與高德地圖，"
         "用戶只要一句指令，就能完成點餐、訂票、下單到付款的整套流程。千問App月活躍用戶已突破1億，"
         "春節過後將開放第三方服務商入駐，國際版預計在今年內上線。")


def page(title: str, body: str) -> Page:
    return Page(f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1><p>{body}</p>"
                "</article></body></html>")


def rss(*items: tuple[str, str]) -> Page:
    entries = "".join(f"<item><title>{title}</title><link>{url}</link>"
                      "<pubDate>Mon, 19 Jan 2026 10:30:00 +0800</pubDate></item>" for title, url in items)
    return Page(f'<?xml version="1.0"?><rss version="2.0"><channel><title>f</title>{entries}</channel></rss>',
                content_type=RSS)


@pytest.mark.parametrize("written_first", [False, True], ids=["together", "two-walls-stored-first"])
@deferred_f_from_coro_f
async def test_a_wall_on_three_hosts_is_dropped_and_a_syndicated_story_is_one_article_and_copies(
        tmp_path: Path, crawl_settings: dict[str, Any], written_first: bool) -> None:
    """``two-walls-stored-first``: the third host serves its wall only once the first two have
    gone through every pipeline (stored), so they must be deleted; else they may still wait in
    the store's batch."""
    webs = [TinyWeb(host=host) for host in HOSTS]
    stored_walls = threading.Event()
    sources = ["sources:"]
    for n, (web, wall_title) in enumerate(zip(webs, WALL_TITLES, strict=True)):
        wall = page(wall_title, CONSENT.format(host=web.url("/"), vendors=100 + n))
        if written_first and n == 2:
            wall.wait_for = stored_walls
        web.pages.update({
            "/wall.html": wall,
            "/story.html": page(STORY_TITLE, STORY),
            "/feed.xml": rss((wall_title, web.url("/wall.html")), (STORY_TITLE, web.url("/story.html"))),
        })
        sources.append(f'  - {{name: outlet{n}, kind: feed, category: news, url: "{web.url("/feed.xml")}"}}')
    (tmp_path / "sources.yaml").write_text("\n".join(sources) + "\n")
    settings = {**crawl_settings, "DIGESTCRAWL_SOURCES_FILE": str(tmp_path / "sources.yaml"),
                "NETGUARD_ALLOW": [f"{host}/32" for host in HOSTS], "ROBOTSTXT_OBEY": False,
                "DIGEST_ON_CLOSE": False}
    project = get_project_settings()
    project.setdict(settings, priority="cmdline")
    crawler = Crawler(NewsSpider, project)
    scraped_walls: list[str] = []

    def scraped(item: Article) -> None:
        if item.url.endswith("/wall.html"):
            scraped_walls.append(item.url)
            if len(scraped_walls) == 2:
                stored_walls.set()

    crawler.signals.connect(scraped, signal=signals.item_scraped)
    with webs[0], webs[1], webs[2]:
        await crawler.crawl_async(model="qwen", since="2000-01-01")

    assert all(web.hits_of("/wall.html") and web.hits_of("/story.html") for web in webs)
    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    assert stats["digestcrawl/boilerplate/repeated_wall"] == stats["digestcrawl/dropped/boilerplate_page"] == 3
    assert all(stats[f"digestcrawl/source/outlet{n}/dropped/boilerplate_page"] == 1 for n in range(3))
    assert stats["digestcrawl/stored"] == 1 and stats["digestcrawl/copies"] == 2
    engine = create_engine(crawl_settings["STORE_URL"])
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT url, title, text FROM articles ORDER BY url")).all()
        links = conn.execute(text("SELECT original_url FROM duplicates")).scalars().all()
        mentions = conn.execute(text("SELECT count(*) FROM mentions")).scalar_one()
    engine.dispose()
    if written_first:
        assert len(scraped_walls) == 2  # went through the store, and were deleted after
    assert [row.url.rsplit("/", 1)[1] for row in rows] == ["story.html"] * 3  # no wall stored
    assert {row.title for row in rows} == {STORY_TITLE}
    [original] = [row.url for row in rows if row.text]
    assert links == [original, original] and mentions == 3
