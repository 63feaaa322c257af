"""Resume without loss: a JOBDIR crawl killed with a feed in flight, or resumed from a damaged
queue, still stores the reference set, every source requested again; a distributed worker killed
with a request in flight loses it to no one (real Redis, real PostgreSQL)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

from redis import Redis
from scrapy_redis import picklecompat

from tests.conftest import FIXTURE_WINDOW, ROOT, scrapy_command
from tests.fixtureweb.server import SITE_ROOT, FixtureWeb
from tests.test_crawl import stored
from tests.test_distributed import (
    crawl_command,
    distributed,
    gated_sources,
    reference_urls,
    stored_urls_and_digests,
    worker_env,
)

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
FEED = "rssfeed/news.rss.xml"


def crawl(tmp_path: Path, sources: Path, database: str, log: str, **extra: object) -> list[str]:
    """One request at a time, so requests wait in the JOBDIR queue when the crawl stops."""
    return scrapy_command("crawl", "news", spider_args={"model": "qwen", **FIXTURE_WINDOW}, settings={
        "STORE_URL": f"sqlite:///{tmp_path / database}", "DIGESTCRAWL_SOURCES_FILE": sources,
        "NETGUARD_ALLOW": "127.0.0.1", "DIGEST_ON_CLOSE": False, "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS": 1, "STORE_SPOOL_DIR": tmp_path / "spool",
        "REPORT_DIR": tmp_path / "reports", "HTTPCACHE_DIR": f"{tmp_path / database}-cache",
        "LOG_FILE": tmp_path / log, **extra})


def reference(fixture_web: FixtureWeb, tmp_path: Path) -> tuple[Path, set[str]]:
    fixture_web.reset()
    sources = fixture_web.write_sources(tmp_path / "sources.yaml")
    subprocess.run(crawl(tmp_path, sources, "reference.sqlite3", "reference.log"), cwd=ROOT, env=ENV, check=True,
                   timeout=300)
    return sources, set(stored(f"sqlite:///{tmp_path / 'reference.sqlite3'}"))


def test_killed_with_a_feed_in_flight_resume_requests_it_again(fixture_web: FixtureWeb, tmp_path: Path) -> None:
    sources, expected = reference(fixture_web, tmp_path)
    gated = tmp_path / "gated.yaml"
    gated.write_text(sources.read_text("utf-8").replace(fixture_web.url("udn", FEED),
                                                        fixture_web.url("udn", f"gate/{FEED}")), "utf-8")
    fixture_web.reset()
    first = subprocess.Popen(crawl(tmp_path, gated, "db.sqlite3", "first.log", JOBDIR=tmp_path / "job"), cwd=ROOT,
                             env=ENV, start_new_session=True)
    try:
        assert fixture_web.wait_for_request("/gate/", timeout=120)
        os.killpg(first.pid, signal.SIGKILL)  # the crawl and its extraction workers
        assert first.wait(timeout=60) == -signal.SIGKILL
    finally:
        fixture_web.gate.set()
    assert set(stored(f"sqlite:///{tmp_path / 'db.sqlite3'}")) < expected

    fixture_web.reset()
    fixture_web.gate.set()
    subprocess.run(crawl(tmp_path, gated, "db.sqlite3", "second.log", JOBDIR=tmp_path / "job"), cwd=ROOT, env=ENV,
                   check=True, timeout=300)

    assert sorted(stored(f"sqlite:///{tmp_path / 'db.sqlite3'}")) == sorted(expected)  # all, none twice
    assert any(r.path == f"/gate/{FEED}" for r in fixture_web.requests)
    log = (tmp_path / "second.log").read_text("utf-8")
    assert "WARNING: JOBDIR request queue cannot be trusted (the run that wrote it did not close" in log
    assert "'digestcrawl/jobdir/queue_set_aside': 1" in log
    assert len(list((tmp_path / "job").glob("requests.queue.unreadable-*"))) == 1


def test_truncated_queue_is_set_aside_and_the_crawl_starts_fresh(fixture_web: FixtureWeb, tmp_path: Path) -> None:
    sources, expected = reference(fixture_web, tmp_path)
    fixture_web.reset()
    # Closed cleanly after two pages (Scrapy saved the queue's state), requests still queued.
    subprocess.run(crawl(tmp_path, sources, "db.sqlite3", "first.log", JOBDIR=tmp_path / "job",
                         CLOSESPIDER_PAGECOUNT=2), cwd=ROOT, env=ENV, check=True, timeout=300)
    assert "'finish_reason': 'closespider_pagecount'" in (tmp_path / "first.log").read_text("utf-8")
    queue_files = [p for p in (tmp_path / "job" / "requests.queue").rglob("*")
                   if p.is_file() and p.name not in ("active.json", "info.json") and p.stat().st_size > 16]
    assert queue_files
    for path in queue_files:  # a disk that filled up, a copy cut short
        path.write_bytes(path.read_bytes()[:-9])

    subprocess.run(crawl(tmp_path, sources, "db.sqlite3", "second.log", JOBDIR=tmp_path / "job"), cwd=ROOT, env=ENV,
                   check=True, timeout=300)

    assert sorted(stored(f"sqlite:///{tmp_path / 'db.sqlite3'}")) == sorted(expected)
    log = (tmp_path / "second.log").read_text("utf-8")
    assert "WARNING: JOBDIR request queue cannot be trusted" in log
    assert "Traceback" not in log
    assert list((tmp_path / "job").glob("requests.queue.unreadable-*"))


def test_request_of_a_killed_worker_is_crawled_by_another(fixture_web: FixtureWeb, redis_url: str,
                                                          postgres_url: str, tmp_path: Path) -> None:
    sources, gated = gated_sources(fixture_web, tmp_path)
    expected = reference_urls(tmp_path, sources)
    logs = [tmp_path / f"worker{n}.log" for n in (1, 2)]
    # One request at a time each, every feed held at the gate: once two wait there, each worker
    # holds one. Each worker leads its own process group, so kill -9 takes its extraction workers.
    workers = [subprocess.Popen(crawl_command(tmp_path, postgres_url, log, gated, DIGESTCRAWL_WORKER_TTL=3),
                                cwd=ROOT, env=worker_env(redis_url, tmp_path), start_new_session=True)
               for log in logs]
    killed, survivor = workers
    try:
        assert fixture_web.wait_for_request("/gate/", timeout=120, count=2)
        os.killpg(killed.pid, signal.SIGKILL)
        assert killed.wait(timeout=30) == -signal.SIGKILL
    finally:
        fixture_web.gate.set()
    assert survivor.wait(timeout=300) == 0

    urls, digests = stored_urls_and_digests(postgres_url)
    assert sorted(urls) == sorted(expected)  # the killed worker's feed too, and no article twice
    log = logs[1].read_text("utf-8")
    assert re.search(r"WARNING: Re-queued \d+ request\(s\) taken by 1 worker\(s\) of crawl", log)
    assert re.search(r"'digestcrawl/redis/requeued': [1-9]", log)
    assert digests == 1 and "Traceback" not in log


def in_flight(server: Redis, queue: str) -> set[str]:
    """The URLs of the requests workers of a crawl have taken and not released."""
    return {picklecompat.loads(member)["url"] for holder in server.smembers(f"{queue}:processing")
            for member in server.zrange(f"{queue}:processing:{holder.decode()}", 0, -1)}


def test_a_killed_worker_had_released_what_it_stored(redis_url: str, postgres_url: str, tmp_path: Path) -> None:
    """A worker releases each request once its items are stored: killed with one article held
    at the gate, it holds that one and none of those it stored; the next worker stores the whole
    reference set."""
    site = tmp_path / "web"
    shutil.copytree(SITE_ROOT, site)
    feed = site / "udn" / "rssfeed" / "news.rss.xml"
    article = "news/story/7240/9269350.html"
    feed.write_text(feed.read_text("utf-8").replace(f"<link>{{{{site:udn}}}}/{article}",
                                                    f"<link>{{{{site:udn}}}}/gate/{article}"), "utf-8")
    queue = f"digestcrawl:{distributed(redis_url, tmp_path)['DIGESTCRAWL_CRAWL_ID']}:news:requests"
    server = Redis.from_url(redis_url)
    with FixtureWeb(root=site) as web:
        sources = web.write_sources(tmp_path / "sources.yaml")
        web.gate.set()
        expected = reference_urls(tmp_path, sources)
        web.reset()
        logs = [tmp_path / f"worker{n}.log" for n in (1, 2)]
        command = [crawl_command(tmp_path, postgres_url, log, sources, DIGESTCRAWL_WORKER_TTL=3) for log in logs]
        killed = subprocess.Popen(command[0], cwd=ROOT, env=worker_env(redis_url, tmp_path), start_new_session=True)
        try:
            assert web.wait_for_request(f"/gate/{article}", timeout=120)
            # The pages it downloaded before are extracted and stored meanwhile; each is then
            # released. Without release they would stay in flight: the deadline fails the test.
            deadline = time.monotonic() + 60
            while True:
                stored_now = set(stored_urls_and_digests(postgres_url)[0])
                fetched = stored_now & {web.url(r.site, r.path) for r in web.requests}
                held = in_flight(server, queue)
                if len(fetched) >= 2 and not held & stored_now:
                    break
                assert time.monotonic() < deadline, sorted(held & stored_now)
                time.sleep(0.2)
            os.killpg(killed.pid, signal.SIGKILL)
            assert killed.wait(timeout=30) == -signal.SIGKILL
        finally:
            web.gate.set()
        assert web.url("udn", f"gate/{article}") in in_flight(server, queue)

        assert subprocess.run(command[1], cwd=ROOT, env=worker_env(redis_url, tmp_path), timeout=300).returncode == 0
    urls, _ = stored_urls_and_digests(postgres_url)
    assert sorted(urls) == sorted(expected)
    assert re.search(r"'digestcrawl/redis/requeued': [1-9]", logs[1].read_text("utf-8"))
    assert not in_flight(server, queue)  # the finished worker holds nothing
    server.close()
