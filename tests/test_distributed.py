"""Two workers share one crawl through real Redis, storing into real PostgreSQL."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, func, select

from digestcrawl.storage import ArticleRow, DigestRow
from tests.conftest import FIXTURE_WINDOW, ROOT, scrapy_command
from tests.fixtureweb.server import FixtureWeb
from tests.test_crawl import stored


def test_two_workers_share_one_crawl(fixture_web: FixtureWeb, redis_url: str, postgres_url: str,
                                     tmp_path: Path) -> None:
    fixture_web.reset()
    sources = fixture_web.write_sources(tmp_path / "sources.yaml")
    reference = f"sqlite:///{tmp_path / 'reference.sqlite3'}"

    # Every feed waits at the gate, and a worker runs one request at a time: once two requests
    # wait there, each worker holds one, so both provably share the work.
    gated = tmp_path / "gated.yaml"
    gated.write_text(re.sub(r"(http://127\.0\.0\.1:\d+)/", r"\1/gate/", sources.read_text("utf-8")), "utf-8")

    def command(database: str, log: Path, source_file: Path = sources) -> list[str]:
        return scrapy_command("crawl", "news", spider_args={"model": "qwen", **FIXTURE_WINDOW}, settings={
            "DATABASE_URL": database, "DIGESTCRAWL_SOURCES_FILE": source_file, "NETGUARD_ALLOW": "127.0.0.1",
            "DIGEST_SITE_DIR": tmp_path / "site", "LOG_FILE": log, "AUTOTHROTTLE_ENABLED": False,
            "DOWNLOAD_DELAY": 0, "SPOOL_DIR": tmp_path / "spool", "REPORT_DIR": tmp_path / "reports",
            "HTTPCACHE_DIR": f"{log}.cache", "CONCURRENT_REQUESTS": 1})

    base_env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(command(reference, tmp_path / "reference.log"), cwd=ROOT, env=base_env, check=True, timeout=300)
    expected = set(stored(reference))

    worker_env = {**base_env, "DIGESTCRAWL_DISTRIBUTED": "1", "REDIS_URL": redis_url,
                  "DIGESTCRAWL_CRAWL_ID": tmp_path.name}
    logs = [tmp_path / f"worker{n}.log" for n in (1, 2)]
    workers = [subprocess.Popen(command(postgres_url, log, gated), cwd=ROOT, env=worker_env) for log in logs]
    try:
        assert fixture_web.wait_for_request("/gate/", timeout=120, count=2)
    finally:
        fixture_web.gate.set()
    for worker in workers:
        assert worker.wait(timeout=300) == 0

    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        urls = conn.execute(select(ArticleRow.url)).scalars().all()
        digests = conn.execute(select(func.count()).select_from(DigestRow)).scalar_one()
    engine.dispose()
    assert sorted(urls) == sorted(expected)  # complete, and no article twice
    fetched = [int(m.group(1)) for log in logs
               for m in [re.search(r"'digestcrawl/fetched': (\d+)", log.read_text("utf-8"))] if m]
    assert len(fetched) == 2 and all(n > 0 for n in fetched), fetched  # both did part of the work
    written = sum(log.read_text("utf-8").count("Digest written") for log in logs)
    assert written == 1 and digests == 1
    assert (tmp_path / "site" / "_posts" / "2026-01-19-qwen-daily.md").is_file()
