"""Runs never overlap: a second crawl of the same spider, model and day is refused."""

from __future__ import annotations

import os
import subprocess
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from digestcrawl.runlock import RunLocks
from digestcrawl.storage import RunLockRow, ensure_schema, make_engine
from tests.conftest import FIXTURE_WINDOW, ROOT, scrapy_command
from tests.fixtureweb.server import FixtureWeb


def crawl_command(sources: Path, database_url: str, log: Path) -> list[str]:
    return scrapy_command("crawl", "news", spider_args={"model": "qwen", **FIXTURE_WINDOW}, settings={
        "DATABASE_URL": database_url, "DIGESTCRAWL_SOURCES_FILE": sources, "NETGUARD_ALLOW": "127.0.0.1",
        "LOG_FILE": log, "DIGEST_ON_CLOSE": False, "SPOOL_DIR": log.parent / "spool",
        "REPORT_DIR": log.parent / "reports"})


def test_second_concurrent_run_is_refused(fixture_web: FixtureWeb, tmp_path: Path) -> None:
    fixture_web.reset()
    sources = tmp_path / "sources.yaml"
    sources.write_text(f'sources:\n  - {{name: gated, kind: feed, category: news, locale: zh-TW, '
                       f'url: "{fixture_web.url("udn", "gate/rssfeed/news.rss.xml")}"}}\n', "utf-8")
    database_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.Popen(crawl_command(sources, database_url, tmp_path / "first.log"), cwd=ROOT, env=env)
    try:
        # The first run has opened (and so holds the lock) once its feed request waits at the gate.
        assert fixture_web.wait_for_request("/gate/", timeout=120)
        second = subprocess.run(crawl_command(sources, database_url, tmp_path / "second.log"), cwd=ROOT, env=env,
                                timeout=120)
        assert second.returncode == 0
        log = (tmp_path / "second.log").read_text("utf-8")
        assert "Refusing to run news for qwen on 2026-01-19: already running" in log
        assert "'finish_reason': 'already_running'" in log
        assert sum(r.path.startswith("/gate/") for r in fixture_web.requests) == 1  # the refused run fetched nothing
    finally:
        fixture_web.gate.set()
        first.wait(timeout=120)
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


def test_daily_command_crawls_every_category_then_writes_one_digest(fixture_web: FixtureWeb, tmp_path: Path) -> None:
    fixture_web.reset()
    sources = fixture_web.write_sources(tmp_path / "sources.yaml")
    command = scrapy_command("daily", spider_args={"model": "qwen", **FIXTURE_WINDOW}, settings={
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "DIGESTCRAWL_SOURCES_FILE": sources,
        "NETGUARD_ALLOW": "127.0.0.1", "DIGEST_SITE_DIR": tmp_path / "site", "LOG_FILE": tmp_path / "log",
        "SPOOL_DIR": tmp_path / "spool", "REPORT_DIR": tmp_path / "reports", "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0})
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("qwen 2026-01-19: ")
    log = (tmp_path / "log").read_text("utf-8")
    assert log.count("'finish_reason': 'finished'") == 3
    assert sorted(p.name for p in (tmp_path / "site" / "_posts").iterdir()) == ["2026-01-19-qwen-daily.md"]
