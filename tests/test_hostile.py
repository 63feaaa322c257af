"""The hostile web (tests/hostileweb): a real crawl over every bad shape finishes in bounded
time, logs no traceback, reads no local file, and counts what became of each case."""

from __future__ import annotations

import json
import os
import re
import subprocess
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import ROOT, scrapy_command
from tests.hostileweb.server import CASES, NEVER_COPIES, STORED, WINDOW, HostileWeb

# Every slow case is bounded by DOWNLOAD_TIMEOUT (and one retry); the crawl must end well within this.
CRAWL_LIMIT_SECONDS = 300
EGRESS = ROOT / "tests" / "egress"
# Outcomes that must also be said in the log, naming the case's URL.
NOTICED = ("dropped/", "errors/", "capped/", "headline_only/")


@pytest.fixture(scope="module")
def hostile_crawl(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("hostile")
    with HostileWeb() as web:
        sources = web.write_sources(tmp / "sources.yaml")
        settings = {
            "DIGESTCRAWL_SOURCES_FILE": sources,
            "STORE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
            "DIGEST_SITE_DIR": tmp / "site",
            "HTTPCACHE_ENABLED": False,
            "STORE_SPOOL_DIR": tmp / "spool",
            "REPORT_DIR": tmp / "reports",
            "NETGUARD_ALLOW": "127.0.0.1/32",
            "AUTOTHROTTLE_ENABLED": False,
            "DOWNLOAD_DELAY": 0,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
            "DOWNLOAD_TIMEOUT": 5,
            "RETRY_TIMES": 1,
            "LOG_FILE": tmp / "crawl.log",
            "TELNETCONSOLE_ENABLED": False,
        }
        command = scrapy_command("crawl", "news", spider_args={"model": "qwen", **WINDOW}, settings=settings)
        # Every DNS lookup or connection to a non-loopback target is written to the egress log
        # (tests/egress); an empty tldextract cache cannot hide a fetch of the public suffix list.
        (tmp / "tldextract").mkdir()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(EGRESS), os.environ.get("PYTHONPATH")])),
               "DIGESTCRAWL_TEST_EGRESS_LOG": str(tmp / "egress.log"), "TLDEXTRACT_CACHE": str(tmp / "tldextract")}
        finished = subprocess.run(command, capture_output=True, text=True, timeout=CRAWL_LIMIT_SECONDS, check=False,
                                  env=env)
        requests = list(web.requests)
    [report_file] = sorted((tmp / "reports").glob("news-*.json"))
    engine = create_engine(f"sqlite:///{tmp / 'db.sqlite3'}")
    with engine.connect() as conn:
        rows = [dict(row._mapping) for row in conn.execute(text("SELECT * FROM articles"))]
    engine.dispose()
    return {
        "process": finished,
        "log": (tmp / "crawl.log").read_text("utf-8", "replace"),
        "report": json.loads(report_file.read_text("utf-8")),
        "rows": rows,
        "requests": requests,
        "posts": sorted((tmp / "site" / "_posts").glob("*.md")),
        "egress": (tmp / "egress.log").read_text("utf-8") if (tmp / "egress.log").exists() else None,
    }


def test_no_traceback_and_a_post(hostile_crawl: dict[str, Any]) -> None:
    log = hostile_crawl["log"]
    assert "Traceback" not in log, log[log.find("Traceback") - 2000 :][:6000]
    assert "Unhandled error" not in log
    assert hostile_crawl["posts"], "the day's digest must be written despite hostile titles"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_case_counted(hostile_crawl: dict[str, Any], case: Any) -> None:
    events = hostile_crawl["report"]["sources"].get(case.name, {})
    # Stored in full, or as a copy of another case's page (the hostile pages share their text).
    counted = events.get("stored", 0) + events.get("copies", 0) if case.expect == STORED else events.get(case.expect, 0)
    assert counted >= 1, f"{case.name} ({case.doc}): expected {case.expect}, got {events}"
    if case.expect.startswith(NOTICED):
        # A page is named by its URL, a source document's outcome by the source's name.
        name = case.path if case.kind == "page" else case.name
        lines = [line for line in hostile_crawl["log"].splitlines() if re.search(rf"{name}\b", line)]
        assert lines, f"no log line names {name}"


def test_pages_stating_other_figures_are_articles_not_copies(hostile_crawl: dict[str, Any]) -> None:
    """Issue 20: 720億 and 320億 on otherwise equal pages are two articles, neither linked as a copy."""
    events = [hostile_crawl["report"]["sources"].get(name, {}) for name in NEVER_COPIES]
    assert all(e.get("stored", 0) == 1 and e.get("copies", 0) == 0 for e in events), events
    assert sum(e.get("related", 0) for e in events) == 1, events  # the second was near the first
@pytest.mark.parametrize("case", [c for c in CASES if c.requests_at_most is not None], ids=lambda c: c.name)
def test_traps_stop_after_a_few_requests(hostile_crawl: dict[str, Any], case: Any) -> None:
    """Redirect loops, sitemap index cycles, deep nesting, session ids and endless calendars end
    after a bounded number of requests (issue 20)."""
    made = [path for path in hostile_crawl["requests"] if path == case.path or path.startswith(f"{case.path}/")]
    assert 0 < len(made) <= case.requests_at_most, made


def test_url_variants_fetched_once_stored_once(hostile_crawl: dict[str, Any]) -> None:
    """One article listed under 300 URL variants (issue 20)."""
    fetched = [path for path in hostile_crawl["requests"] if path.startswith("/src/url_variants/article")]
    stored = [row["url"] for row in hostile_crawl["rows"] if "/src/url_variants/article" in row["url"]]
    assert 1 <= len(fetched) <= 20, fetched
    assert len(stored) == 1 and stored[0].endswith("/src/url_variants/article?id=7&lang=zh"), stored


def test_no_local_file_read(hostile_crawl: dict[str, Any]) -> None:
    for row in hostile_crawl["rows"]:
        blob = " ".join(str(v) for v in row.values())
        assert "root:x:0:0" not in blob
        assert not str(row["url"]).startswith(("file:", "data:", "ftp:", "gopher:", "javascript:"))
        assert not str(row.get("feed_url") or "").startswith("file:")


def test_field_caps(hostile_crawl: dict[str, Any]) -> None:
    rows = hostile_crawl["rows"]
    assert rows
    for row in rows:
        assert 0 < len(row["title"]) <= 300, row["url"]
        assert len(row["author"] or "") <= 200 and len(row["site_name"] or "") <= 200
        assert len(row["text"] or "") <= 210_000
        published = row["published_at"]
        if published is not None:
            assert "1990" <= str(published)[:4] <= "2027", (row["url"], published)


def test_no_socket_outside_the_guard(hostile_crawl: dict[str, Any]) -> None:
    """No DNS lookup or connection to anything but loopback (the first Set-Cookie once made
    tldextract fetch the public suffix list from publicsuffix.org, past Scrapy and the guard)."""
    assert hostile_crawl["egress"] is not None, "the egress recorder (tests/egress) was not loaded"
    assert hostile_crawl["egress"] == ""
    assert hostile_crawl["report"]["sources"]["cookie_flood"].get("cookies/dropped/domain_full", 0) > 0


def test_cookie_flood_is_bounded(hostile_crawl: dict[str, Any]) -> None:
    # The server answered /next only for a Cookie header of at most 8 KB (STORED says it did).
    events = hostile_crawl["report"]["sources"]["cookie_flood"]
    assert events.get("cookies/dropped/too_large") == 10
    assert events.get("cookies/dropped/domain_full") == 250
    assert events.get("cookies/not_sent", 0) >= 48
    assert hostile_crawl["requests"].count("/page/cookie_flood/next") == 1


def test_robots_5xx_disallows_the_host(hostile_crawl: dict[str, Any]) -> None:
    events = hostile_crawl["report"]["sources"]["robots_5xx"]
    assert events.get("robots/unavailable") == 1 and events.get("dropped/robots") == 1
    assert "/src/robots_5xx" not in hostile_crawl["requests"]  # robots.txt only (retried), never the feed
    assert "robots.txt of 127.0.0.1:" in hostile_crawl["log"] and "RFC 9309" in hostile_crawl["log"]
