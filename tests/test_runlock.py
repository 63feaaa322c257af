"""Runs never overlap: a second crawl of the same spider, model and day is refused; a run that
dies or loses its database leaves a lock that expires, since only a live run's heartbeat keeps it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from digestcrawl.ops.exitcodes import ALREADY_RUNNING
from digestcrawl.store.engine import ensure_schema, make_engine
from digestcrawl.store.models import RunLockRow
from digestcrawl.store.runlock import RunLocks
from tests.conftest import FIXTURE_WINDOW, ROOT, scrapy_command
from tests.fixtureweb.server import FixtureWeb

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def crawl_command(sources: Path, database_url: str, log: Path, **settings: object) -> list[str]:
    return scrapy_command("crawl", "news", spider_args={"model": "qwen", **FIXTURE_WINDOW}, settings={
        "STORE_URL": database_url, "DIGESTCRAWL_SOURCES_FILE": sources, "NETGUARD_ALLOW": "127.0.0.1",
        "LOG_FILE": log, "DIGEST_ON_CLOSE": False, "STORE_SPOOL_DIR": log.parent / "spool",
        "REPORT_DIR": log.parent / "reports", "HTTPCACHE_DIR": log.parent / "httpcache", **settings})


def gated_sources(fixture_web: FixtureWeb, path: Path) -> Path:
    fixture_web.reset()
    path.write_text(f'sources:\n  - {{name: gated, kind: feed, category: news, locale: zh-TW, '
                    f'url: "{fixture_web.url("udn", "gate/rssfeed/news.rss.xml")}"}}\n', "utf-8")
    return path


def test_second_concurrent_run_is_refused(fixture_web: FixtureWeb, tmp_path: Path) -> None:
    sources = gated_sources(fixture_web, tmp_path / "sources.yaml")
    database_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    first = subprocess.Popen(crawl_command(sources, database_url, tmp_path / "first.log"), cwd=ROOT, env=ENV)
    try:
        # The first run has opened (and so holds the lock) once its feed request waits at the gate.
        assert fixture_web.wait_for_request("/gate/", timeout=120)
        # The refused run would write the day's post on close, from whatever is stored so far.
        second = subprocess.run(crawl_command(sources, database_url, tmp_path / "second.log", DIGEST_ON_CLOSE=True,
                                              DIGEST_SITE_DIR=tmp_path / "site"), cwd=ROOT, env=ENV, timeout=120)
        assert second.returncode == ALREADY_RUNNING
        log = (tmp_path / "second.log").read_text("utf-8")
        assert "Refusing to run news for qwen on 2026-01-19: already running" in log
        assert "'finish_reason': 'already_running'" in log
        assert "Exit code 5: the crawl is already running" in log
        assert "No digest from a refused run" in log
        assert not (tmp_path / "site").exists()
        assert "Monitor failed" not in log  # a refused run crawled nothing: nothing to judge
        assert sum(r.path.startswith("/gate/") for r in fixture_web.requests) == 1  # the refused run fetched nothing
    finally:
        fixture_web.gate.set()
        first.wait(timeout=120)
    assert first.returncode == 0
    assert "'finish_reason': 'finished'" in (tmp_path / "first.log").read_text("utf-8")
    engine = make_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(RunLockRow)).scalar_one() == 0  # released
    engine.dispose()


def test_lock_of_a_dead_run_expires(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    ensure_schema(engine)
    day = date(2026, 1, 19)
    live, dead = RunLocks(engine, timedelta(hours=6)), RunLocks(engine, timedelta(hours=-1))
    assert live.acquire("news", ["qwen"], day, "host-a:1") is None
    held = live.acquire("news", ["qwen", "llama"], day, "host-b:2")
    assert held is not None and held.holder == "host-a:1" and held.model == "qwen"
    # All or nothing: host-b took no lock for llama either.
    assert live.acquire("news", ["llama"], day, "host-c:3") is None
    # A run whose lock has expired (it died without releasing) is taken over.
    assert dead.acquire("social", ["qwen"], day, "host-d:4") is None
    assert live.acquire("social", ["qwen"], day, "host-e:5") is None
    assert live.acquire("social", ["qwen"], day, "host-f:6") is not None
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


def test_short_lock_expires_unless_its_heartbeat_refreshes_it(database_url: str) -> None:
    engine = make_engine(database_url)
    ensure_schema(engine)
    locks, day, start = RunLocks(engine, timedelta(seconds=1)), date(2026, 1, 19), datetime.now(UTC)
    at = {n: start + timedelta(seconds=n) for n in (0.5, 0.9, 1.5, 1.8, 2.0)} | {0: start}
    try:
        assert locks.acquire("news", ["qwen", "llama"], day, "live:1", now=at[0]) is None
        held = locks.acquire("news", ["llama"], day, "other:2", now=at[0.5])
        assert held is not None and held.holder == "live:1"
        # A live run's heartbeat extends the lock past its first TTL: still held at 1.5 s.
        assert locks.refresh("news", ["qwen", "llama"], day, "live:1", now=at[0.9]) == 2
        assert locks.acquire("news", ["qwen"], day, "other:2", now=at[1.5]) is not None
        # The holder is gone without releasing (killed, or its database was down): one TTL after
        # its last heartbeat, the next run takes the lock.
        assert locks.acquire("news", ["qwen", "llama"], day, "next:3", now=at[2.0]) is None
        # The old holder's heartbeat no longer extends what it lost.
        assert locks.refresh("news", ["qwen", "llama"], day, "live:1", now=at[2.0]) == 0
        assert locks.acquire("news", ["qwen"], day, "other:2", now=at[2.0]) is not None
        locks.release("news", ["qwen", "llama"], day, "next:3")
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(RunLockRow)).scalar_one() == 0
    finally:
        engine.dispose()


def take(locks: RunLocks, day: date, holder: str, start: threading.Barrier) -> str | None:
    """Acquire once every thread is ready; the holder found in the way, if any."""
    start.wait()
    held = locks.acquire("news", ["qwen", "llama"], day, holder)
    return held.holder if held else None


def test_workers_of_one_crawl_starting_together_share_the_lock(database_url: str) -> None:
    """Distributed workers share one holder id: whichever inserts the lock row first, the other
    takes it as its own, and a run of another crawl is refused whoever won."""
    engine = make_engine(database_url)
    ensure_schema(engine)
    locks, day = RunLocks(engine, timedelta(seconds=60)), date(2026, 1, 19)
    try:
        for round_ in range(5):
            holders = ["crawl:a", "crawl:a", "crawl:b"] if round_ % 2 else ["crawl:a", "crawl:a"]
            start = threading.Barrier(len(holders))
            with ThreadPoolExecutor(len(holders)) as pool:
                results = list(pool.map(lambda holder, barrier=start: take(locks, day, holder, barrier), holders))
            winners = {h for h, r in zip(holders, results, strict=True) if r is None}
            assert len(winners) == 1, results  # one crawl holds the lock, all of its workers with it
            assert results.count(None) == holders.count(winners.pop())
            for holder in set(holders):
                locks.release("news", ["qwen", "llama"], day, holder)
    finally:
        engine.dispose()


def lock_row(database_url: str) -> RunLockRow | None:
    engine = make_engine(database_url)
    with engine.connect() as conn:
        row = conn.execute(select(RunLockRow)).first()
    engine.dispose()
    return row  # type: ignore[return-value]


def poll(condition: object, timeout: float = 60.0) -> bool:
    """Wait until ``condition()`` holds, checking every 0.1 s, for at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_run_that_lost_its_database_does_not_lock_out_the_next(fixture_web: FixtureWeb, tmp_path: Path) -> None:
    """The fault drill of issue 13: the database goes down mid-crawl, so the run cannot release
    its lock; once the database is back the next run must proceed (it used to wait 6 hours)."""
    sources = gated_sources(fixture_web, tmp_path / "sources.yaml")
    database = tmp_path / "db.sqlite3"
    database_url = f"sqlite:///{database}"
    fast = {"RUN_LOCK_TTL": 1, "STORE_BUSY_TIMEOUT": 0.05, "STORE_RETRY_TIMES": 0, "EXTRACTION_PROCESSES": 0}
    first = subprocess.Popen(crawl_command(sources, database_url, tmp_path / "first.log", **fast), cwd=ROOT, env=ENV)
    blocker = None
    try:
        assert fixture_web.wait_for_request("/gate/", timeout=120)
        acquired = lock_row(database_url)
        assert acquired is not None
        # Alive at the gate, the first run keeps its lock well past one TTL by heartbeat.
        assert poll(lambda: (row := lock_row(database_url)) is not None
                    and row.expires_at > acquired.acquired_at + timedelta(seconds=2.5))
        second = subprocess.run(crawl_command(sources, database_url, tmp_path / "second.log", **fast),
                                cwd=ROOT, env=ENV, timeout=120)
        assert second.returncode == ALREADY_RUNNING
        # The database goes down (locked for writers) before the first run fetches anything.
        blocker = sqlite3.connect(database, timeout=30)
        blocker.execute("BEGIN EXCLUSIVE")
        fixture_web.gate.set()
        assert first.wait(timeout=120) == 0
    finally:
        fixture_web.gate.set()
        if first.poll() is None:
            first.kill()
            first.wait()
        if blocker is not None:
            blocker.rollback()  # the database is back
            blocker.close()
    log = (tmp_path / "first.log").read_text("utf-8")
    assert "Run lock heartbeat failed" in log
    assert "Could not release the run lock of news" in log
    assert "spooled" in log and "Traceback" not in log
    stale = lock_row(database_url)
    assert stale is not None  # not released, but only a heartbeat's TTL from expiring
    assert stale.expires_at <= datetime.now(UTC) + timedelta(seconds=1)
    assert poll(lambda: datetime.now(UTC) > stale.expires_at, timeout=5)
    third = subprocess.run(crawl_command(sources, database_url, tmp_path / "third.log", **fast),
                           cwd=ROOT, env=ENV, timeout=120)
    assert third.returncode == 0
    log = (tmp_path / "third.log").read_text("utf-8")
    assert "'finish_reason': 'finished'" in log
    assert "Replayed" in log and "0 still pending" in log
    assert lock_row(database_url) is None  # released this time


def test_daily_command_crawls_every_category_then_writes_one_digest(fixture_web: FixtureWeb, tmp_path: Path) -> None:
    fixture_web.reset()
    sources = fixture_web.write_sources(tmp_path / "sources.yaml")
    command = scrapy_command("daily", spider_args={"model": "qwen", **FIXTURE_WINDOW}, settings={
        "STORE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "DIGESTCRAWL_SOURCES_FILE": sources,
        "NETGUARD_ALLOW": "127.0.0.1", "DIGEST_SITE_DIR": tmp_path / "site", "LOG_FILE": tmp_path / "log",
        "STORE_SPOOL_DIR": tmp_path / "spool", "REPORT_DIR": tmp_path / "reports", "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0})
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("Summary:\n  qwen 2026-01-19: ")
    log = (tmp_path / "log").read_text("utf-8")
    assert log.count("'finish_reason': 'finished'") == 4  # news, social, finance, releases
    assert sorted(p.name for p in (tmp_path / "site" / "_posts").iterdir()) == ["2026-01-19-qwen-daily.md"]
