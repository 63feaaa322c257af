"""Stop drills (issue 20): real `scrapy crawl` and `scrapy daily` processes stopped by SIGINT or
SIGTERM while a request is held open by the fixture web's gate, or while the closing digest waits
on an LLM that never answers. Every stop runs the close path (stats, run report, monitors), exits
128 + the signal, writes no post for a partial crawl, and the next run stores the exact reference
set of tests/fixtureweb/expected.yaml. A second signal ends the process within 5 s and leaves the
previous post as it was; what a killed digest left in the site goes at the next digest.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from scrapy.settings import Settings

from digestcrawl.digest import build_digests
from tests.conftest import FIXTURE_WINDOW, ROOT, project_settings, scrapy_command
from tests.fixtureweb.server import FixtureWeb
from tests.processes import Output
from tests.test_crawl import EXPECTED, expected, stored

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
DAY = "2026-01-19"  # the fixture window's digest day
PREVIOUS_POST = "---\ntitle: the previous post\n---\nIt must stand.\n"


def news_reference(web: FixtureWeb, sources: Path) -> set[str]:
    """The URLs a complete news crawl stores: expected.yaml's links of the news sources."""
    news = {s["name"] for s in yaml.safe_load(sources.read_text("utf-8"))["sources"] if s["category"] == "news"}
    links = [entry for entry in EXPECTED["links"] if entry["source"] in news]
    return set().union(*(expected(web, kind, links=links) for kind in ("stored", "duplicate_of", "headline_only")))


def gated(web: FixtureWeb, tmp_path: Path) -> tuple[Path, Path]:
    """The fixture sources, and the same with every source URL held at the fixture web's gate."""
    web.reset()
    sources = web.write_sources(tmp_path / "sources.yaml")
    held = tmp_path / "gated.yaml"
    held.write_text(re.sub(r"(http://127\.0\.0\.1:\d+)/", r"\1/gate/", sources.read_text("utf-8")), "utf-8")
    return sources, held


def settings(tmp_path: Path, sources: Path, **more: object) -> dict[str, object]:
    return {"STORE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "DIGESTCRAWL_SOURCES_FILE": sources,
            "NETGUARD_ALLOW": "127.0.0.1", "DIGEST_SITE_DIR": tmp_path / "site", "AUTOTHROTTLE_ENABLED": False,
            "DOWNLOAD_DELAY": 0, "STORE_SPOOL_DIR": tmp_path / "spool", "REPORT_DIR": tmp_path / "reports",
            "HTTPCACHE_DIR": tmp_path / "cache", "EXTRACTION_PROCESSES": 0, "TELNETCONSOLE_ENABLED": False,
            "LOG_LEVEL": "INFO", **more}


def start(*args: str, **setting: object) -> tuple[subprocess.Popen[str], Output]:
    """A scrapy command whose log (stderr) the test reads as it is written."""
    process = subprocess.Popen(scrapy_command(*args, spider_args={"model": "qwen", **FIXTURE_WINDOW},
                                              settings=setting), cwd=ROOT, env=ENV, text=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    return process, Output(process.stderr)


@pytest.fixture
def previous_post(tmp_path: Path) -> Path:
    """The day's post of an earlier run, which no partial crawl or forced stop may replace."""
    post = tmp_path / "site" / "_posts" / f"{DAY}-qwen-daily.md"
    post.parent.mkdir(parents=True)
    post.write_text(PREVIOUS_POST, "utf-8")
    return post


def signal_seen(process: subprocess.Popen[str], output: Output, signum: signal.Signals) -> None:
    """Send ``signum`` and wait until the process logs that it received it."""
    process.send_signal(signum)
    assert output.wait_for(f"Received {signum.name}")


def end(process: subprocess.Popen[str], gate: threading.Event | None = None) -> None:
    """Whatever the test found: the held requests released and the process gone."""
    if gate is not None:
        gate.set()
    if process.poll() is None:
        process.kill()


def stopped_cleanly(log: str, signame: str, code: int, reason: str) -> None:
    """The close path ran and the last line says why the command exits ``code``."""
    assert f"Received {signame}, shutting down gracefully" in log
    assert f"Spider closed ({reason})" in log
    assert f"'finish_reason': '{reason}'" in log  # Scrapy's stats dump
    assert "Per-source summary" in log
    assert "Traceback" not in log
    assert log.rstrip().splitlines()[-1].endswith(f"Exit code {code}: stopped by {signame}")


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_mid_crawl_closes_writes_no_post_and_the_next_run_loses_nothing(
        fixture_web: FixtureWeb, tmp_path: Path, previous_post: Path, signum: signal.Signals, code: int) -> None:
    sources, held = gated(fixture_web, tmp_path)
    process, output = start("crawl", "news", **settings(tmp_path, held))
    try:
        assert fixture_web.wait_for_request("/gate/")  # the crawl is mid-flight
        signal_seen(process, output, signum)
        fixture_web.gate.set()  # the held requests end; the graceful stop waits for them
        assert process.wait(timeout=120) == code
    finally:
        end(process, fixture_web.gate)
    log = output.text()
    stopped_cleanly(log, signum.name, code, "shutdown")
    assert "No digest from a partial crawl (finish_reason shutdown)" in log
    assert previous_post.read_text("utf-8") == PREVIOUS_POST
    [report] = (tmp_path / "reports").glob("news-*.json")
    assert json.loads(report.read_text("utf-8"))["reason"] == "shutdown"
    # The next run stores the exact reference set: nothing the stopped run held is lost.
    fixture_web.reset()
    again = subprocess.run(scrapy_command("crawl", "news", spider_args={"model": "qwen", **FIXTURE_WINDOW},
                                          settings=settings(tmp_path, sources, DIGEST_ON_CLOSE=False)),
                           cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert set(stored(str(settings(tmp_path, sources)["STORE_URL"]))) == news_reference(fixture_web, sources)


def test_a_partial_crawl_writes_its_post_with_digest_on_partial(
        fixture_web: FixtureWeb, tmp_path: Path, previous_post: Path) -> None:
    _, held = gated(fixture_web, tmp_path)
    process, output = start("crawl", "news", **settings(tmp_path, held, DIGEST_ON_PARTIAL=True))
    try:
        assert fixture_web.wait_for_request("/gate/")
        signal_seen(process, output, signal.SIGTERM)
        fixture_web.gate.set()
        assert process.wait(timeout=120) == 143
    finally:
        end(process, fixture_web.gate)
    stopped_cleanly(output.text(), "SIGTERM", 143, "shutdown")
    assert previous_post.read_text("utf-8") != PREVIOUS_POST  # rewritten from what was stored


def test_sigterm_mid_daily_stops_every_crawl_and_writes_no_post(
        fixture_web: FixtureWeb, tmp_path: Path, previous_post: Path) -> None:
    _, held = gated(fixture_web, tmp_path)
    process, output = start("daily", **settings(tmp_path, held))
    try:
        # news, social and finance each mid-flight (releases has no source here)
        for path in ("/gate/rssfeed/news.rss.xml", "/gate/api/v1/search_by_date.json", "/gate/news/rssindex.rss.xml"):
            assert fixture_web.wait_for_request(path)
        signal_seen(process, output, signal.SIGTERM)
        fixture_web.gate.set()
        assert process.wait(timeout=120) == 143
    finally:
        end(process, fixture_web.gate)
    log = output.text()
    # Every crawl closed (those held at the gate by the signal) and was reported.
    assert log.count("Spider closed (") == log.count("Per-source summary") == 4
    assert log.count("Spider closed (shutdown)") == 3
    assert "Partial crawls: no digest written" in log
    assert log.rstrip().splitlines()[-1].endswith("Exit code 143: stopped by SIGTERM")
    assert previous_post.read_text("utf-8") == PREVIOUS_POST


@pytest.fixture
def silent_llm() -> Iterator[socket.socket]:
    """An LLM endpoint that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(120)
        yield listener


def one_feed(web: FixtureWeb, path: Path) -> Path:
    web.reset()
    path.write_text(f'sources:\n  - {{name: udn, kind: feed, category: news, locale: zh-TW, '
                    f'url: "{web.url("udn", "rssfeed/news.rss.xml")}"}}\n', "utf-8")
    return path


def llm(listener: socket.socket) -> dict[str, object]:
    host, port = listener.getsockname()
    return {"DIGEST_SUMMARIZER": "llm", "LLM_API_KEY": "test-key", "LLM_BASE_URL": f"http://{host}:{port}/v1",
            "LLM_MODEL": "local-test", "LLM_TIMEOUT": 90, "LLM_DEADLINE": 90}


@pytest.mark.parametrize("command", [("crawl", "news"), ("daily",)])
def test_sigterm_during_the_digest_lets_it_finish_then_exits_143(
        fixture_web: FixtureWeb, tmp_path: Path, silent_llm: socket.socket, command: tuple[str, ...]) -> None:
    sources = one_feed(fixture_web, tmp_path / "sources.yaml")
    process, output = start(*command, **settings(tmp_path, sources, **llm(silent_llm)))
    try:
        connection, _ = silent_llm.accept()  # the digest waits on the LLM
        signal_seen(process, output, signal.SIGTERM)
        connection.close()  # the LLM fails: the digest falls back to extractive and is written
        silent_llm.close()
        assert process.wait(timeout=120) == 143
    finally:
        end(process)
    log = output.text()
    if command == ("daily",):  # its crawls had closed; the digests run after them
        assert "Received SIGTERM, finishing the digests" in log
        assert log.rstrip().splitlines()[-1].endswith("Exit code 143: stopped by SIGTERM")
    else:  # the signal came while the spider closed: the close path still ran to its end
        stopped_cleanly(log, "SIGTERM", 143, "finished")
        assert list((tmp_path / "reports").glob("news-*.json"))
    assert "Digest written: qwen 2026-01-19" in log
    assert (tmp_path / "site" / "_posts" / f"{DAY}-qwen-daily.md").is_file()


@pytest.mark.parametrize("command", [("crawl", "news"), ("daily",)])
def test_a_second_signal_forces_the_stop_within_5s_and_leaves_the_previous_post(
        fixture_web: FixtureWeb, tmp_path: Path, silent_llm: socket.socket, previous_post: Path,
        command: tuple[str, ...]) -> None:
    sources = one_feed(fixture_web, tmp_path / "sources.yaml")
    process, output = start(*command, **settings(tmp_path, sources, **llm(silent_llm)))
    try:
        connection, _ = silent_llm.accept()  # the digest waits on the LLM
        signal_seen(process, output, signal.SIGTERM)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 143
        connection.close()
    finally:
        end(process)
    log = output.text()
    assert log.rstrip().splitlines()[-1].endswith("Exit code 143: stopped by SIGTERM")
    assert previous_post.read_text("utf-8") == PREVIOUS_POST
    assert not [p for p in previous_post.parent.iterdir() if p != previous_post]


def test_a_second_signal_mid_crawl_forces_the_stop_within_5s(
        fixture_web: FixtureWeb, tmp_path: Path, previous_post: Path) -> None:
    _, held = gated(fixture_web, tmp_path)
    # An extraction worker process too: it must not hold the exit either.
    process, output = start("crawl", "news", **settings(tmp_path, held, EXTRACTION_PROCESSES=1))
    try:
        assert fixture_web.wait_for_request("/gate/")
        signal_seen(process, output, signal.SIGTERM)  # the graceful stop waits for the held requests
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 143
    finally:
        end(process, fixture_web.gate)
    log = output.text()
    assert "Received SIGTERM twice, forcing unclean shutdown" in log
    assert log.rstrip().splitlines()[-1].endswith("Exit code 143: stopped by SIGTERM")
    assert previous_post.read_text("utf-8") == PREVIOUS_POST


STAGE_AND_WAIT = """
import sys
from pathlib import Path
from digestcrawl.digest.publish import StagedFiles, post_paths
from datetime import date
paths = post_paths(Path(sys.argv[1]), "qwen", date(2026, 1, 19))
files = StagedFiles().__enter__()
files.add(paths.image, b"new image")
files.add(paths.post, b"new post")
print("staged", flush=True)
sys.stdin.read()  # held here until the test kills the process
"""


def test_files_a_killed_digest_staged_are_removed_by_the_next_digest(
        tmp_path: Path, previous_post: Path) -> None:
    site = tmp_path / "site"
    writer = subprocess.Popen([sys.executable, "-c", STAGE_AND_WAIT, str(site)], cwd=ROOT, env=ENV, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert writer.stdout is not None and writer.stdout.readline() == "staged\n"
    writer.kill()
    writer.wait(timeout=30)
    left = sorted(p for p in site.rglob(".*.tmp"))
    assert len(left) == 2 and any(p.parent.name == "_posts" for p in left)
    # A digest in progress in a live process keeps its files.
    live = previous_post.with_name(f".{previous_post.name}.{os.getpid()}.abcdefgh.tmp")
    live.write_text("in progress", "utf-8")
    build_digests(Settings(project_settings(STORE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
                                            DIGEST_SITE_DIR=str(site))), [("qwen", date.fromisoformat(DAY))])
    assert sorted(p for p in site.rglob(".*.tmp")) == [live]
    assert previous_post.read_text("utf-8") == PREVIOUS_POST


def run(*args: str, spider_args: dict[str, Any] | None = None, **setting: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(scrapy_command(*args, spider_args={"model": "qwen", **FIXTURE_WINDOW, **(spider_args or {})},
                                         settings=setting), cwd=ROOT, env=ENV, capture_output=True, text=True,
                          timeout=300)


def errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if " ERROR: " in line]


@pytest.mark.parametrize("command", [("crawl", "news"), ("daily",)])
def test_a_bad_argument_is_one_line_and_exit_1(tmp_path: Path, command: tuple[str, ...]) -> None:
    empty = tmp_path / "sources.yaml"
    empty.write_text("sources: []\n", "utf-8")
    result = run(*command, spider_args={"model": "nosuch"}, **settings(tmp_path, empty))
    assert result.returncode == 1
    [line] = errors(result)
    assert "model: unknown ['nosuch']; known: qwen, " in line
    assert "Traceback" not in result.stderr and "never retrieved" not in result.stderr


@pytest.fixture
def closed_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def unwritable_directory(tmp_path: Path) -> Path:
    """A directory no database file can be created in (root ignores modes: /proc then)."""
    if os.geteuid() == 0:
        return Path("/proc")
    directory = tmp_path / "readonly"
    directory.mkdir()
    directory.chmod(0o555)
    return directory


@pytest.mark.parametrize("command", [("crawl", "news"), ("daily",)])
@pytest.mark.parametrize("case", ["bad_url", "missing_directory", "read_only", "refused_with_password"])
def test_a_database_that_cannot_be_used_is_one_line_and_exit_1(
        tmp_path: Path, closed_port: int, command: tuple[str, ...], case: str) -> None:
    url, shown, cause = {
        "bad_url": ("not-a-valid-url", "not-a-valid-url", "Could not parse SQLAlchemy URL"),
        "missing_directory": (f"sqlite:///{tmp_path / 'typo' / 'db.sqlite3'}", str(tmp_path / "typo"),
                              "does not exist"),
        "read_only": (f"sqlite:///{unwritable_directory(tmp_path) / 'db.sqlite3'}", "db.sqlite3",
                      "unable to open database file"),
        "refused_with_password": (f"postgresql+psycopg://digest:s3cret@127.0.0.1:{closed_port}/digest",
                                  f"postgresql+psycopg://digest:***@127.0.0.1:{closed_port}/digest",
                                  "Connection refused"),
    }[case]
    empty = tmp_path / "sources.yaml"
    empty.write_text("sources: []\n", "utf-8")
    result = run(*command, **settings(tmp_path, empty, STORE_URL=url))
    assert result.returncode == 1, result.stderr[-3000:]
    [line] = errors(result)
    assert shown in line and cause in line, line
    assert "s3cret" not in result.stderr
    assert "Traceback" not in result.stderr and "never retrieved" not in result.stderr
    assert "spool" not in result.stderr
    assert not (tmp_path / "typo").exists()


def test_a_new_sqlite_file_is_named_on_the_first_run(tmp_path: Path) -> None:
    empty = tmp_path / "sources.yaml"
    empty.write_text("sources: []\n", "utf-8")
    database = tmp_path / "new.sqlite3"
    result = run("crawl", "news", **settings(tmp_path, empty, STORE_URL=f"sqlite:///{database}"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"INFO: Creating a new SQLite database at {database}" in result.stderr
    assert database.is_file()
    again = run("crawl", "news", **settings(tmp_path, empty, STORE_URL=f"sqlite:///{database}"))
    assert again.returncode == 0 and "Creating a new SQLite database" not in again.stderr
