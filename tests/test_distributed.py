"""Workers share one crawl through real Redis, storing into real PostgreSQL: two workers split
the work, a Redis restart mid-crawl loses no article, a crashed worker does not block the
digest, and an outage that lasts fails the run loudly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, func, select

from digestcrawl.ops.exitcodes import REDIS_LOST
from digestcrawl.store.models import ArticleRow, DigestRow
from tests.conftest import FIXTURE_WINDOW, ROOT, scrapy_command
from tests.fixtureweb.server import FixtureWeb
from tests.redisserver import RedisServer
from tests.test_crawl import stored

BASE_ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def crawl_command(tmp_path: Path, database: str, log: Path, source_file: Path, **settings: object) -> list[str]:
    """One worker (or the reference crawl): one request at a time, so a gated feed holds it."""
    return scrapy_command("crawl", "news", spider_args={"model": "qwen", **FIXTURE_WINDOW}, settings={
        "STORE_URL": database, "DIGESTCRAWL_SOURCES_FILE": source_file, "NETGUARD_ALLOW": "127.0.0.1",
        "DIGEST_SITE_DIR": tmp_path / "site", "LOG_FILE": log, "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0, "STORE_SPOOL_DIR": tmp_path / "spool", "REPORT_DIR": tmp_path / "reports",
        "HTTPCACHE_DIR": f"{log}.cache", "CONCURRENT_REQUESTS": 1, **settings})


def gated_sources(fixture_web: FixtureWeb, tmp_path: Path) -> tuple[Path, Path]:
    """The fixture sources, and the same with every source URL waiting at the fixture gate."""
    fixture_web.reset()
    sources = fixture_web.write_sources(tmp_path / "sources.yaml")
    gated = tmp_path / "gated.yaml"
    gated.write_text(re.sub(r"(http://127\.0\.0\.1:\d+)/", r"\1/gate/", sources.read_text("utf-8")), "utf-8")
    return sources, gated


def reference_urls(tmp_path: Path, sources: Path) -> set[str]:
    """The healthy set: what one plain crawl stores."""
    reference = f"sqlite:///{tmp_path / 'reference.sqlite3'}"
    subprocess.run(crawl_command(tmp_path, reference, tmp_path / "reference.log", sources),
                   cwd=ROOT, env=BASE_ENV, check=True, timeout=300)
    return set(stored(reference))


def distributed(redis_url: str, tmp_path: Path) -> dict[str, str]:
    return {"DIGESTCRAWL_DISTRIBUTED": "1", "REDIS_URL": redis_url, "DIGESTCRAWL_CRAWL_ID": tmp_path.name}


def worker_env(redis_url: str, tmp_path: Path) -> dict[str, str]:
    return {**BASE_ENV, **distributed(redis_url, tmp_path)}


def stored_urls_and_digests(postgres_url: str) -> tuple[list[str], int]:
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        urls = list(conn.execute(select(ArticleRow.url)).scalars().all())
        digests = conn.execute(select(func.count()).select_from(DigestRow)).scalar_one()
    engine.dispose()
    return urls, digests


def digests_written(logs: list[Path]) -> int:
    return sum(log.read_text("utf-8").count("Digest written") for log in logs)


def test_two_workers_share_one_crawl(fixture_web: FixtureWeb, redis_url: str, postgres_url: str,
                                     tmp_path: Path) -> None:
    sources, gated = gated_sources(fixture_web, tmp_path)
    expected = reference_urls(tmp_path, sources)

    # Every feed waits at the gate, and a worker runs one request at a time: once two requests
    # wait there, each worker holds one, so both provably share the work.
    # The first worker is distributed by the environment, the second by -s settings.
    logs = [tmp_path / f"worker{n}.log" for n in (1, 2)]
    workers = [subprocess.Popen(crawl_command(tmp_path, postgres_url, logs[0], gated), cwd=ROOT,
                                env=worker_env(redis_url, tmp_path)),
               subprocess.Popen(crawl_command(tmp_path, postgres_url, logs[1], gated,
                                              **distributed(redis_url, tmp_path)), cwd=ROOT, env=BASE_ENV)]
    try:
        assert fixture_web.wait_for_request("/gate/", timeout=120, count=2)
    finally:
        fixture_web.gate.set()
    for worker in workers:
        assert worker.wait(timeout=300) == 0

    urls, digests = stored_urls_and_digests(postgres_url)
    assert sorted(urls) == sorted(expected)  # complete, and no article twice
    fetched = [int(m.group(1)) for log in logs
               for m in [re.search(r"'digestcrawl/fetched': (\d+)", log.read_text("utf-8"))] if m]
    assert len(fetched) == 2 and all(n > 0 for n in fetched), fetched  # both did part of the work
    for log in logs:  # the whole profile, whatever the flag's source
        assert "'SCHEDULER': 'digestcrawl.crawl.distributed.scheduler.RedisScheduler'" in log.read_text("utf-8")
    assert digests_written(logs) == 1 and digests == 1
    assert (tmp_path / "site" / "_posts" / "2026-01-19-qwen-daily.md").is_file()


def test_redis_restart_mid_crawl_loses_no_article(fixture_web: FixtureWeb, own_redis: RedisServer,
                                                  postgres_url: str, tmp_path: Path) -> None:
    sources, gated = gated_sources(fixture_web, tmp_path)
    expected = reference_urls(tmp_path, sources)

    logs = [tmp_path / f"worker{n}.log" for n in (1, 2)]
    workers = [subprocess.Popen(crawl_command(tmp_path, postgres_url, log, gated, DIGESTCRAWL_WORKER_TTL=3),
                                cwd=ROOT, env=worker_env(own_redis.url, tmp_path)) for log in logs]
    try:
        # Each worker holds one feed at the gate; the other feeds wait in Redis's queue. Redis
        # restarts empty: the queued feeds, the dupefilter and the worker registry are gone.
        assert fixture_web.wait_for_request("/gate/", timeout=120, count=2)
        own_redis.stop()
        own_redis.start()
    finally:
        fixture_web.gate.set()
    for worker in workers:
        assert worker.wait(timeout=300) == 0

    urls, digests = stored_urls_and_digests(postgres_url)
    assert sorted(set(urls)) == sorted(expected) and len(urls) == len(expected)
    text = "".join(log.read_text("utf-8") for log in logs)
    assert "Redis lost the shared queue" in text
    assert re.search(r"'digestcrawl/redis/data_lost': [12]\b", text)
    # The worker registry went with Redis's data and is rebuilt by the workers' heartbeats: a worker
    # closing before the other's next heartbeat also writes. The writes of one day are serialised
    # upserts, so the second rewrites the same post: one digest, never a failed one.
    assert 1 <= digests_written(logs) <= 2 and digests == 1
    assert "'digestcrawl/digest/failed'" not in text


def test_crashed_worker_does_not_block_the_digest(fixture_web: FixtureWeb, redis_url: str, postgres_url: str,
                                                  tmp_path: Path) -> None:
    _, gated = gated_sources(fixture_web, tmp_path)
    logs = [tmp_path / f"worker{n}.log" for n in (1, 2)]
    # Each worker leads its own process group, so kill -9 takes its extraction workers too.
    workers = [subprocess.Popen(crawl_command(tmp_path, postgres_url, log, gated, DIGESTCRAWL_WORKER_TTL=3),
                                cwd=ROOT, env=worker_env(redis_url, tmp_path), start_new_session=True)
               for log in logs]
    crashed, survivor = workers
    try:
        assert fixture_web.wait_for_request("/gate/", timeout=120, count=2)
        os.killpg(crashed.pid, signal.SIGKILL)
        assert crashed.wait(timeout=30) == -signal.SIGKILL
    finally:
        fixture_web.gate.set()
    assert survivor.wait(timeout=300) == 0

    _, digests = stored_urls_and_digests(postgres_url)
    survivor_log = logs[1].read_text("utf-8")
    assert survivor_log.count("Digest written") == 1 and digests == 1
    assert "stopped without leaving" in survivor_log
    assert "'digestcrawl/workers/peer_expired': 1" in survivor_log


def test_redis_down_for_good_fails_loudly(fixture_web: FixtureWeb, own_redis: RedisServer, postgres_url: str,
                                          tmp_path: Path) -> None:
    _, gated = gated_sources(fixture_web, tmp_path)
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(crawl_command(tmp_path, postgres_url, log, gated, DIGESTCRAWL_WORKER_TTL=3,
                                            SCHEDULER_REDIS_DOWN_TIMEOUT=1),
                              cwd=ROOT, env=worker_env(own_redis.url, tmp_path))
    try:
        assert fixture_web.wait_for_request("/gate/", timeout=120)
        own_redis.stop()
    finally:
        fixture_web.gate.set()
    assert worker.wait(timeout=300) == REDIS_LOST

    text = log.read_text("utf-8")
    assert "'finish_reason': 'redis_lost'" in text
    assert re.search(r"ERROR.*Redis unreachable for \d+s .*redis_lost", text)
    assert "'digestcrawl/monitor/failed/redis_lost': 1" in text
    assert "Traceback" not in text
