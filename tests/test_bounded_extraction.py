"""Hostile pages served on 127.0.0.1 and crawled for real: every crawl finishes, each page ends
as a capped article or a counted shortfall, and no extraction process outlives the crawl.

The site is generated into a temporary directory (tests/hostilepages.py) and served by the
fixture web's server: a 50k-link page, 100k nested divs, a 50 MB page, a megabyte title, dates
in the year 3000, and a feed whose headline is a megabyte long.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f
from sqlalchemy import create_engine, select

from digestcrawl.store.models import ArticleRow
from spiders.news import NewsSpider
from tests.conftest import FIXTURE_WINDOW, ROOT, run_crawl, scrapy_command
from tests.fixtureweb.server import FixtureWeb
from tests.hostilepages import LEAD, article, huge_title, many_links, nested_divs, padded
from tests.processes import alive, command_line, cpu_seconds, descendants

MEGABYTE = 1024 * 1024
PUBLISHED = "Mon, 19 Jan 2026 02:30:00 GMT"  # inside FIXTURE_WINDOW
FUTURE = "Fri, 01 Jan 3000 00:00:00 GMT"
# Bounded polls: generous for a busy machine; a healthy run takes a fraction.
START_TIMEOUT = 120.0
EXIT_TIMEOUT = 30.0


def rss(items: list[tuple[str, str, str]], extra: str = "") -> str:
    body = "".join(f"<item><title>{title}</title><link>{link}</link><pubDate>{date}</pubDate>{extra}</item>"
                   for title, link, date in items)
    return f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>h</title>{body}</channel></rss>'


def serve(root: Path, pages: dict[str, str], feeds: dict[str, str]) -> FixtureWeb:
    """Write ``pages`` and ``feeds`` (``{{site:hostile}}`` allowed) as site ``hostile``."""
    site = root / "hostile"
    site.mkdir(parents=True)
    for name, content in {**pages, **feeds}.items():
        (site / name).write_text(content, "utf-8")
    return FixtureWeb(root)


def write_sources(web: FixtureWeb, path: Path, *entries: str) -> Path:
    path.write_text("sources:\n" + "".join(f"  - {{{web.render_text(e)}}}\n" for e in entries), "utf-8")
    return path


def feed_source(name: str, feed: str = "feed.rss.xml", follow: bool = True) -> str:
    return (f"name: {name}, kind: feed, category: news, locale: en, follow: {str(follow).lower()}, "
            f'url: "{{{{site:hostile}}}}/{feed}"')


def feed_of(*names: str, date: str = PUBLISHED) -> str:
    return rss([(f"Qwen {name}", f"{{{{site:hostile}}}}/{name}", date) for name in names])


def stored(database_url: str) -> dict[str, ArticleRow]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = {row.url.rsplit("/", 1)[-1]: row for row in conn.execute(select(ArticleRow))}
    engine.dispose()
    return rows  # type: ignore[return-value]


@pytest.fixture
def hostile_web(tmp_path: Path) -> Iterator[FixtureWeb]:
    future = '<meta property="article:published_time" content="3000-01-01T00:00:00Z">'
    pages = {
        "links.html": many_links(50_000),
        "nested.html": nested_divs(100_000),
        "big.html": padded(50 * MEGABYTE),
        "title.html": huge_title(MEGABYTE, head='<meta property="og:site_name" content="' + "Site " * 100 + '">'),
        "future.html": article("Qwen from the year 3000", future),
    }
    feeds = {
        "feed.rss.xml": rss([(f"Qwen {n}", f"{{{{site:hostile}}}}/{n}", PUBLISHED)
                             for n in ("links.html", "nested.html", "big.html", "title.html")]
                            + [("Qwen future", "{{site:hostile}}/future.html", FUTURE)]),
        "headlines.rss.xml": rss([("Qwen " + "headline " * (MEGABYTE // 9), "{{site:hostile}}/headline.html",
                                   PUBLISHED)], extra="<author>" + "A" * 1000 + "</author>"),
    }
    with serve(tmp_path / "web", pages, feeds) as web:
        yield web


@deferred_f_from_coro_f
async def test_hostile_pages_end_capped_or_counted(hostile_web: FixtureWeb, crawl_settings: dict[str, Any],
                                                   tmp_path: Path) -> None:
    sources = write_sources(
        hostile_web, tmp_path / "sources.yaml", feed_source("hostile"),
        feed_source("headlines", "headlines.rss.xml", follow=False))
    settings = {**crawl_settings, "DIGESTCRAWL_SOURCES_FILE": str(sources), "DIGEST_ON_CLOSE": False,
                "DOWNLOAD_MAXSIZE": 64 * MEGABYTE, "DOWNLOAD_WARNSIZE": 0}
    start = time.monotonic()
    crawler = await run_crawl(NewsSpider, settings, model="qwen", **FIXTURE_WINDOW)
    assert time.monotonic() - start < 120  # minutes, unbounded
    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    assert stats["finish_reason"] == "finished"
    articles = stored(settings["STORE_URL"])
    assert set(articles) == {"links.html", "nested.html", "big.html", "title.html", "future.html", "headline.html"}

    # Too large to parse: title and lead only, counted per source.
    for name, title in (("links.html", "Qwen link farm"), ("nested.html", "Qwen nested divs"),
                        ("big.html", "Qwen padded page")):
        row = articles[name]
        assert (row.title, row.snippet, row.text, row.headline_only) == (title, LEAD, "", True), name
    assert stats["digestcrawl/source/hostile/headline_only/page_too_large"] == 3
    # A megabyte title and a 500-character site name: extracted, then capped.
    title = articles["title.html"]
    assert title.title.startswith("Qwen very long title") and len(title.title) <= 300
    # Extracted in full (its text may be stored once, under a page it copies).
    assert title.site_name is not None and len(title.site_name) <= 200 and not title.headline_only
    assert stats["digestcrawl/source/hostile/capped/title"] == 1
    assert stats["digestcrawl/source/hostile/capped/site_name"] == 1
    # The year 3000, in the page and in the feed: no date rather than a wrong one.
    future = articles["future.html"]
    assert (future.published_at, future.published_from) == (None, None)
    # A megabyte feed headline and a 1000-character author, kept from the feed entry alone.
    headline = articles["headline.html"]
    assert headline.title.startswith("Qwen headline") and len(headline.title) <= 300
    assert headline.author is not None and len(headline.author) <= 200
    assert stats["digestcrawl/source/headlines/capped/title"] == 1


@deferred_f_from_coro_f
async def test_a_page_over_the_time_limit_keeps_its_title_and_lead(tmp_path: Path, crawl_settings: dict[str, Any]
                                                                   ) -> None:
    # Under every cap, yet seconds of extraction: only the time limit stops it.
    with serve(tmp_path / "web", {"slow.html": many_links(9_000, title="Qwen slow page")},
               {"feed.rss.xml": feed_of("slow.html")}) as web:
        sources = write_sources(web, tmp_path / "sources.yaml", feed_source("slow"))
        settings = {**crawl_settings, "DIGESTCRAWL_SOURCES_FILE": str(sources), "DIGEST_ON_CLOSE": False,
                    "EXTRACTION_TIMEOUT": 0.05, "EXTRACTION_PROCESSES": 1}
        crawler = await run_crawl(NewsSpider, settings, model="qwen", **FIXTURE_WINDOW)
    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    assert stats["finish_reason"] == "finished"
    assert stats["digestcrawl/source/slow/headline_only/extraction_timeout"] == 1
    row = stored(settings["STORE_URL"])["slow.html"]
    assert (row.title, row.snippet, row.text, row.headline_only) == ("Qwen slow page", LEAD, "", True)
    assert row.published_at == datetime(2026, 1, 19, 2, 30, tzinfo=UTC)  # from the feed


# -- the crawl process ends, its extraction processes end with it ---------------------------------


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def busy_worker(crawl: subprocess.Popen[bytes]) -> set[int]:
    """Wait until an extraction worker of ``crawl`` is busy on a page (has used CPU time); the
    crawl's descendants then (forkserver, resource tracker, workers)."""
    def found() -> bool:
        assert crawl.poll() is None, "the crawl ended before its worker got busy"
        forkservers = [pid for pid in descendants(crawl.pid) if "forkserver" in command_line(pid)]
        return any(cpu_seconds(pid) > 0.3 for server in forkservers for pid in descendants(server))
    assert wait_for(found, START_TIMEOUT)
    return descendants(crawl.pid)


@pytest.fixture
def stuck_crawl(tmp_path: Path) -> Iterator[Callable[[float], subprocess.Popen[bytes]]]:
    """Starts ``scrapy crawl news`` on one page that takes an extraction worker many seconds
    (caps off), with two workers and the given EXTRACTION_TIMEOUT."""
    started: list[subprocess.Popen[bytes]] = []
    with serve(tmp_path / "web", {"stuck.html": many_links(100_000, title="Qwen stuck page")},
               {"feed.rss.xml": feed_of("stuck.html")}) as web:
        sources = write_sources(web, tmp_path / "sources.yaml", feed_source("stuck"))

        def start(timeout: float) -> subprocess.Popen[bytes]:
            command = scrapy_command("crawl", "news", spider_args={"model": "qwen", **FIXTURE_WINDOW}, settings={
                "STORE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "DIGESTCRAWL_SOURCES_FILE": sources,
                "NETGUARD_ALLOW": "127.0.0.1", "DIGEST_ON_CLOSE": False, "LOG_FILE": tmp_path / "crawl.log",
                "STORE_SPOOL_DIR": tmp_path / "spool", "REPORT_DIR": tmp_path / "reports",
                "HTTPCACHE_DIR": tmp_path / "cache", "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0,
                "EXTRACTION_PROCESSES": 2, "EXTRACTION_TIMEOUT": timeout, "EXTRACTION_MAX_LINKS": 0,
                "EXTRACTION_MAX_TAGS": 0, "EXTRACTION_MAX_BYTES": 0})
            crawl = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            started.append(crawl)
            return crawl

        try:
            yield start
        finally:
            for crawl in started:
                if crawl.poll() is None:
                    crawl.kill()
                    crawl.wait()


def test_kill_9_leaves_no_extraction_process(stuck_crawl: Callable[[float], subprocess.Popen[bytes]]) -> None:
    crawl = stuck_crawl(600)
    left = busy_worker(crawl)
    assert len(left) >= 3  # the forkserver and two workers, at least
    crawl.send_signal(signal.SIGKILL)
    crawl.wait(timeout=EXIT_TIMEOUT)
    assert wait_for(lambda: not any(alive(pid) for pid in left), EXIT_TIMEOUT), \
        {pid: command_line(pid) for pid in left if alive(pid)}


def test_sigterm_during_a_stall_ends_in_bounded_time(stuck_crawl: Callable[[float], subprocess.Popen[bytes]],
                                                     tmp_path: Path) -> None:
    crawl = stuck_crawl(5)
    left = busy_worker(crawl)
    crawl.send_signal(signal.SIGTERM)
    # The page in flight gets its time limit, then the crawl closes: nothing extracts it again.
    crawl.wait(timeout=START_TIMEOUT)
    log = (tmp_path / "crawl.log").read_text("utf-8")
    assert "'finish_reason': 'shutdown'" in log
    assert "'digestcrawl/source/stuck/headline_only/extraction_timeout': 1" in log
    assert stored(f"sqlite:///{tmp_path / 'db.sqlite3'}")["stuck.html"].headline_only
    assert wait_for(lambda: not any(alive(pid) for pid in left), EXIT_TIMEOUT), \
        {pid: command_line(pid) for pid in left if alive(pid)}
