"""Incremental crawls: unchanged stored articles are not fetched again; changed entries are."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

from scrapy.utils.defer import deferred_f_from_coro_f
from sqlalchemy import create_engine, select

from digestcrawl.store.models import ArticleRow
from spiders.news import NewsSpider
from tests.conftest import FIXTURE_WINDOW, ROOT, run_crawl, scrapy_command
from tests.fixtureweb.server import SITE_ROOT, FixtureWeb
from tests.test_crawl import crawl_all, stored


@deferred_f_from_coro_f
async def test_unchanged_web_second_crawl_fetches_no_stored_article(
        fixture_web: FixtureWeb, crawl_settings: dict[str, Any], sources_file: Path) -> None:
    settings = {**crawl_settings, "DIGESTCRAWL_SOURCES_FILE": str(sources_file), "DIGEST_ON_CLOSE": False}
    await crawl_all(settings)
    articles = {url for url, a in stored(settings["STORE_URL"]).items() if not a["row"].headline_only}
    stored_paths = {"/" + url.split("/", 3)[3] for url in articles}
    fixture_web.reset()

    stats = await crawl_all(settings)

    requested = [r for r in fixture_web.requests if r.method == "GET"]
    assert not [r.path for r in requested if r.path in stored_paths]
    assert stats["digestcrawl/skipped/unchanged"] >= len(articles)
    # Feeds are asked conditionally and answered 304 by the server (so no body is sent).
    feeds = [r for r in requested if r.path.endswith((".xml", ".json")) and "/throttled/" not in r.path]
    assert feeds and all("If-None-Match" in r.headers or "If-Modified-Since" in r.headers for r in feeds)
    assert set(stored(settings["STORE_URL"])) == set(stored(settings["STORE_URL"]))


@deferred_f_from_coro_f
async def test_changed_feed_entry_is_fetched_again_and_updated(
        crawl_settings: dict[str, Any], tmp_path: Path) -> None:
    site = tmp_path / "web"
    shutil.copytree(SITE_ROOT, site)
    feed = site / "udn" / "rssfeed" / "news.rss.xml"
    page = site / "udn" / "news" / "story" / "7240" / "9269350.html"
    with FixtureWeb(root=site) as web:
        sources = web.write_sources(tmp_path / "sources.yaml")
        settings = {**crawl_settings, "DIGESTCRAWL_SOURCES_FILE": str(sources), "DIGEST_ON_CLOSE": False}
        await run_crawl(NewsSpider, settings, model="qwen", source="udn", **FIXTURE_WINDOW)
        url = web.url("udn", "news/story/7240/9269350.html")
        before = _row(settings["STORE_URL"], url)

        # The publisher corrects the article and its feed entry says so.
        old_date = _pub_date(feed.read_text("utf-8"), "9269350")
        feed.write_text(feed.read_text("utf-8").replace(old_date, "Mon, 19 Jan 2026 08:00:00 GMT"), "utf-8")
        correction = "<p>更正：本文已更新，補充千問企業方案的資安說明。</p></article>"
        page.write_text(page.read_text("utf-8").replace("</article>", correction), "utf-8")
        web.reset()
        await run_crawl(NewsSpider, settings, model="qwen", source="udn", **FIXTURE_WINDOW)

        stored_paths = {"/" + u.split("/", 3)[3] for u, a in stored(settings["STORE_URL"]).items()}
        fetched = [r.path for r in web.requests if r.path in stored_paths]
        assert fetched == ["/news/story/7240/9269350.html"]  # of the stored articles, only the changed one
        after = _row(settings["STORE_URL"], url)
        assert "更正：本文已更新" in after.text and "更正" not in before.text
        assert after.id == before.id and after.updated_at > before.updated_at


def _row(database_url: str, url: str) -> Any:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        row = conn.execute(select(ArticleRow.id, ArticleRow.text, ArticleRow.updated_at)
                           .where(ArticleRow.url == url)).one()
    engine.dispose()
    return row


def _pub_date(feed: str, article_id: str) -> str:
    item = next(part for part in feed.split("<item>") if article_id in part)
    return item.split("<pubDate>")[1].split("</pubDate>")[0]


def test_sigkill_then_resume_with_jobdir_stores_every_article_once(fixture_web: FixtureWeb, tmp_path: Path) -> None:
    """A crawl killed with SIGKILL while a feed is in flight, restarted with the same JOBDIR,
    ends with exactly the articles of an uninterrupted crawl, each stored once."""
    fixture_web.reset()
    healthy_sources = fixture_web.write_sources(tmp_path / "healthy.yaml")
    gated_sources = tmp_path / "gated.yaml"
    # The udn feed hangs at the gate: the first run is provably mid-crawl when it is killed.
    gated_sources.write_text(healthy_sources.read_text("utf-8").replace(
        fixture_web.url("udn", "rssfeed/"), fixture_web.url("udn", "gate/rssfeed/")), "utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def command(sources: Path, database: str, **extra: object) -> list[str]:
        return scrapy_command("crawl", "news", spider_args={"model": "qwen", **FIXTURE_WINDOW}, settings={
            "STORE_URL": f"sqlite:///{tmp_path / database}", "DIGESTCRAWL_SOURCES_FILE": sources,
            "NETGUARD_ALLOW": "127.0.0.1", "DIGEST_ON_CLOSE": False, "AUTOTHROTTLE_ENABLED": False,
            "DOWNLOAD_DELAY": 0, "STORE_SPOOL_DIR": tmp_path / "spool", "REPORT_DIR": tmp_path / "reports",
            "HTTPCACHE_DIR": f"{tmp_path / database}-cache", **extra})

    subprocess.run(command(healthy_sources, "healthy.sqlite3"), cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=300)
    expected = set(stored(f"sqlite:///{tmp_path / 'healthy.sqlite3'}"))

    resumable = command(gated_sources, "db.sqlite3", JOBDIR=tmp_path / "job")
    first = subprocess.Popen(resumable, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert fixture_web.wait_for_request("/gate/", timeout=120)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
    finally:
        fixture_web.gate.set()
    assert first.returncode == -signal.SIGKILL
    interrupted = set(stored(f"sqlite:///{tmp_path / 'db.sqlite3'}"))
    assert interrupted < expected  # the kill really cost part of the crawl

    subprocess.run(resumable, cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with engine.connect() as conn:
        urls = conn.execute(select(ArticleRow.url)).scalars().all()
    engine.dispose()
    assert sorted(urls) == sorted(expected)  # all of them, none twice
