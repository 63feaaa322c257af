"""Honest exits for schedulers: `scrapy crawl` and `scrapy daily` exit non-zero, with the codes
of digestcrawl.ops.exitcodes, when every source failed, when the digest failed, or when the run was
refused as already running (tests/test_runlock.py), instead of 0 after a useless run."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from digestcrawl.ops.exitcodes import ALREADY_RUNNING, DIGEST_FAILED, EVERY_SOURCE_FAILED, OK, REDIS_LOST, exit_code
from tests.conftest import FIXTURE_WINDOW, ROOT, scrapy_command
from tests.fixtureweb.server import FixtureWeb

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
SOURCE = "digestcrawl/source/"


@pytest.mark.parametrize(("runs", "digest_failed", "expected"), [
    ([{"finish_reason": "finished", SOURCE + "a/fetched": 3, SOURCE + "b/errors/download": 2}], False, OK),
    ([{"finish_reason": "finished", SOURCE + "a/errors/download": 3, SOURCE + "b/errors/http_503": 1}], False,
     EVERY_SOURCE_FAILED),
    ([{"finish_reason": "finished"}], False, OK),  # no source at all: nothing failed
    # Refused by the address guard (no NETGUARD_ALLOW) is failed too, alone or with errors.
    ([{"finish_reason": "finished", SOURCE + "a/dropped/refused_address": 3}], False, EVERY_SOURCE_FAILED),
    ([{"finish_reason": "finished", SOURCE + "a/dropped/bad_scheme": 1, SOURCE + "b/errors/download": 1}], False,
     EVERY_SOURCE_FAILED),
    ([{"finish_reason": "finished", SOURCE + "a/dropped/off_topic": 3}], False, OK),  # drops are no failure
    ([{"finish_reason": "finished", SOURCE + "a/fetched": 1, "digestcrawl/digest/failed": 1}], False, DIGEST_FAILED),
    ([{"finish_reason": "finished", SOURCE + "a/fetched": 1}], True, DIGEST_FAILED),
    ([{"finish_reason": "already_running"}], False, ALREADY_RUNNING),
    ([{"finish_reason": "redis_lost", SOURCE + "a/fetched": 1}], False, REDIS_LOST),
    ([{"finish_reason": "redis_lost", SOURCE + "a/errors/download": 1}], True, REDIS_LOST),
    # scrapy daily: one source answering in any spider is enough; a refused spider wins.
    ([{"finish_reason": "finished", SOURCE + "a/errors/download": 1},
      {"finish_reason": "finished", SOURCE + "b/fetched": 1}], False, OK),
    ([{"finish_reason": "finished", SOURCE + "a/errors/download": 1},
      {"finish_reason": "finished", SOURCE + "b/errors/download": 1}], True, EVERY_SOURCE_FAILED),
    ([{"finish_reason": "finished", SOURCE + "a/fetched": 1}, {"finish_reason": "already_running"}], True,
     ALREADY_RUNNING),
])
def test_exit_code_table(runs: list[dict[str, Any]], digest_failed: bool, expected: int) -> None:
    assert exit_code(runs, digest_failed) == expected


@pytest.mark.parametrize(("signum", "expected"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_wins_over_every_other_code(signum: int, expected: int) -> None:
    runs = [{"finish_reason": "shutdown", SOURCE + "a/errors/download": 1}, {"finish_reason": "already_running"}]
    assert exit_code(runs, digest_failed=True, signum=signum) == expected


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections (bound, never listening) for the whole test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def offline_sources(path: Path, port: int) -> Path:
    """A source per category, all on a port where nothing answers: the network is down."""
    entries = [f'  - {{name: {name}, kind: feed, category: {category}, locale: zh-TW, '
               f'url: "http://127.0.0.1:{port}/{name}.xml"}}'
               for name, category in (("n1", "news"), ("n2", "news"), ("s1", "social"), ("f1", "finance"),
                                      ("r1", "release"))]
    path.write_text("sources:\n" + "\n".join(entries) + "\n", "utf-8")
    return path


def settings(tmp_path: Path, sources: Path, **more: object) -> dict[str, object]:
    return {"STORE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "DIGESTCRAWL_SOURCES_FILE": sources,
            "NETGUARD_ALLOW": "127.0.0.1", "DIGEST_SITE_DIR": tmp_path / "site", "LOG_FILE": tmp_path / "log",
            "STORE_SPOOL_DIR": tmp_path / "spool", "REPORT_DIR": tmp_path / "reports",
            "HTTPCACHE_DIR": tmp_path / "cache",
            "EXTRACTION_PROCESSES": 0, **more}


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)


def test_crawl_with_no_network_exits_every_source_failed(tmp_path: Path, closed_port: int) -> None:
    """Issue 13: with no network `scrapy crawl news -O items.jsonl` wrote an empty file and exited 0."""
    sources = offline_sources(tmp_path / "sources.yaml", closed_port)
    result = run(scrapy_command("crawl", "news", "-O", str(tmp_path / "items.jsonl"),
                                spider_args={"model": "qwen", **FIXTURE_WINDOW}, settings=settings(tmp_path, sources)))
    assert result.returncode == EVERY_SOURCE_FAILED, result.stderr[-2000:]
    log = (tmp_path / "log").read_text("utf-8")
    assert "'finish_reason': 'finished'" in log
    assert "Monitor failed: every_source_failed: no source answered" in log
    assert log.rstrip().endswith("Exit code 3: every source failed")
    assert (tmp_path / "items.jsonl").read_text("utf-8") == ""


def test_daily_with_no_network_exits_every_source_failed(tmp_path: Path, closed_port: int) -> None:
    sources = offline_sources(tmp_path / "sources.yaml", closed_port)
    result = run(scrapy_command("daily", spider_args={"model": "qwen", **FIXTURE_WINDOW},
                                settings=settings(tmp_path, sources)))
    assert result.returncode == EVERY_SOURCE_FAILED, result.stderr[-2000:]
    log = (tmp_path / "log").read_text("utf-8")
    assert log.count("'finish_reason': 'finished'") == 4
    assert log.rstrip().endswith("Exit code 3: every source failed")


def test_daily_whose_digest_fails_exits_digest_failed(fixture_web: FixtureWeb, tmp_path: Path) -> None:
    fixture_web.reset()
    sources = tmp_path / "sources.yaml"
    sources.write_text(f'sources:\n  - {{name: udn, kind: feed, category: news, locale: zh-TW, '
                       f'url: "{fixture_web.url("udn", "rssfeed/news.rss.xml")}"}}\n', "utf-8")
    site = tmp_path / "site"
    site.write_text("a file where the site directory should be", "utf-8")  # the post cannot be written
    result = run(scrapy_command("daily", spider_args={"model": "qwen", **FIXTURE_WINDOW},
                                settings=settings(tmp_path, sources, DIGEST_SITE_DIR=site)))
    assert result.returncode == DIGEST_FAILED, result.stderr[-2000:]
    log = (tmp_path / "log").read_text("utf-8")
    assert "Digest of qwen for 2026-01-19 failed; the previous post, if any, is unchanged" in log
    assert log.rstrip().endswith("Exit code 4: the digest failed")


@pytest.mark.parametrize("command", [("crawl", "news"), ("daily",)])
def test_every_source_refused_by_the_guard_exits_every_source_failed(
        tmp_path: Path, closed_port: int, command: tuple[str, ...]) -> None:
    """Issue 20: a cron job without the allow-list had every source refused, and exited 0."""
    sources = offline_sources(tmp_path / "sources.yaml", closed_port)
    unguarded = {k: v for k, v in settings(tmp_path, sources).items() if k != "NETGUARD_ALLOW"}
    result = run(scrapy_command(*command, spider_args={"model": "qwen", **FIXTURE_WINDOW}, settings=unguarded))
    assert result.returncode == EVERY_SOURCE_FAILED, result.stderr[-2000:]
    log = (tmp_path / "log").read_text("utf-8")
    assert "refused_address" in log
    assert log.rstrip().endswith("Exit code 3: every source failed")
