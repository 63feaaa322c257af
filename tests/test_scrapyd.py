"""Deploy to a real Scrapyd on 127.0.0.1 with scrapyd-deploy, schedule the crawls, get the digest."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import tomllib
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from digestcrawl.store.engine import make_engine
from digestcrawl.store.models import ArticleRow
from tests.conftest import FIXTURE_WINDOW, ROOT
from tests.fixtureweb.server import FixtureWeb

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("scrapyd")
    port = free_port()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        f"bind_address = 127.0.0.1\nhttp_port = {port}\n"
        f"eggs_dir = {home / 'eggs'}\nlogs_dir = {home / 'logs'}\ndbs_dir = {home / 'dbs'}\nitems_dir =\n"
        "max_proc = 4\npoll_interval = 0.5\n")
    # Jobs run in Scrapyd's own processes, out of reach of the tests' socket guard: by default
    # they see no sources at all (a job crawls only what its schedule.json settings name).
    (home / "no-sources.yaml").write_text("sources: []\n")
    env = {**os.environ, "DIGESTCRAWL_SOURCES_FILE": str(home / "no-sources.yaml"),
           "DIGESTCRAWL_STORE_URL": f"sqlite:///{home / 'default.sqlite3'}", "DIGEST_SITE_DIR": str(home / "site"),
           "DIGESTCRAWL_SPOOL_DIR": str(home / "spool"), "DIGESTCRAWL_REPORT_DIR": str(home / "reports")}
    server = subprocess.Popen([str(BIN / "scrapyd")], cwd=home, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env=env)
    assert server.stdout is not None
    for line in server.stdout:  # blocks until Scrapyd says it listens
        if "Site starting on" in line:
            break
    else:
        pytest.fail("scrapyd did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def call(base: str, endpoint: str, **form: str | list[str]) -> dict[str, Any]:
    data = urllib.parse.urlencode(form, doseq=True).encode() if form else None
    with urllib.request.urlopen(f"{base}/{endpoint}", data=data, timeout=30) as response:
        answer: dict[str, Any] = json.loads(response.read())
    assert answer["status"] == "ok", answer
    return answer


def test_egg_carries_spiders_pipelines_templates_and_config(tmp_path: Path) -> None:
    egg = tmp_path / "digestcrawl.egg"
    subprocess.run([str(BIN / "scrapyd-deploy"), "--build-egg", str(egg)], cwd=ROOT, check=True,
                   capture_output=True)
    names = set(zipfile.ZipFile(egg).namelist())
    assert {"spiders/news.py", "spiders/base.py", "pipelines/store.py", "pipelines/dedup.py",
            "templates/post.md.j2", "templates/headings.yaml", "templates/extractive.yaml",
            "digestcrawl/conf/models.yaml", "digestcrawl/conf/sources.yaml", "digestcrawl/conf/entities.yaml",
            "digestcrawl/settings.py"} <= names
    # The egg's metadata is pyproject.toml's, not scrapyd-deploy's placeholder ('project', 1.0).
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    metadata = zipfile.ZipFile(egg).read("EGG-INFO/PKG-INFO").decode()
    assert f"Name: {project['name']}\n" in metadata and f"Version: {project['version']}\n" in metadata


def test_deploy_schedule_and_digest(scrapyd: str, fixture_web: FixtureWeb, tmp_path: Path) -> None:
    fixture_web.reset()
    # A deploy target of our own, in the user-level scrapy.cfg that scrapyd-deploy also reads.
    (tmp_path / "xdg").mkdir()
    (tmp_path / "xdg" / "scrapy.cfg").write_text(f"[deploy:local-test]\nurl = {scrapyd}/\nproject = digestcrawl\n")
    user_config = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    deployed = subprocess.run([str(BIN / "scrapyd-deploy"), "local-test", "-p", "digestcrawl"], cwd=ROOT,
                              capture_output=True, text=True, env=user_config)
    assert deployed.returncode == 0 and '"status": "ok"' in deployed.stdout + deployed.stderr, deployed.stderr
    assert call(scrapyd, "listspiders.json?project=digestcrawl")["spiders"] == ["finance", "news", "releases",
                                                                              "social"]

    sources = fixture_web.write_sources(tmp_path / "sources.yaml")
    database_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    settings = [f"STORE_URL={database_url}", f"DIGESTCRAWL_SOURCES_FILE={sources}", "NETGUARD_ALLOW=127.0.0.1",
                f"DIGEST_SITE_DIR={tmp_path / 'site'}", f"STORE_SPOOL_DIR={tmp_path / 'spool'}",
                f"REPORT_DIR={tmp_path / 'reports'}", "AUTOTHROTTLE_ENABLED=False", "DOWNLOAD_DELAY=0"]
    jobs = [call(scrapyd, "schedule.json", project="digestcrawl", spider=spider, model="qwen", setting=settings,
                 **FIXTURE_WINDOW)["jobid"] for spider in ("news", "social", "finance")]

    deadline = time.monotonic() + 300
    while True:  # Scrapyd reports job state only by polling listjobs.json
        finished = {job["id"] for job in call(scrapyd, "listjobs.json?project=digestcrawl")["finished"]}
        if set(jobs) <= finished:
            break
        assert time.monotonic() < deadline, "jobs did not finish"
        time.sleep(0.5)

    logs = [urllib.request.urlopen(f"{scrapyd}/logs/digestcrawl/{spider}/{job}.log", timeout=30).read().decode()
            for spider, job in zip(("news", "social", "finance"), jobs, strict=True)]
    for log in logs:
        assert "'finish_reason': 'finished'" in log and "Traceback" not in log
    engine = make_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ArticleRow)).scalar_one() == 25
    engine.dispose()
    post = tmp_path / "site" / "_posts" / "2026-01-19-qwen-daily.md"
    assert post.is_file() and "QWEN 每日動態 - 2026-01-19" in post.read_text("utf-8")
    assert (tmp_path / "site" / "assets" / "img" / "posts" / "2026-01-19-qwen-infographic.png").is_file()
    # The site skeleton, read from inside the zipped egg, and the model's page.
    assert (tmp_path / "site" / "_layouts" / "post.html").is_file()
    assert (tmp_path / "site" / "models" / "qwen.md").is_file()


def test_schedule_script_schedules_every_category(scrapyd: str) -> None:
    """deploy/schedule-daily.sh (what cron and the systemd timer run) against the real server."""
    before = len(call(scrapyd, "listjobs.json?project=digestcrawl")["pending"])
    result = subprocess.run(["bash", str(ROOT / "deploy" / "schedule-daily.sh")], capture_output=True, text=True,
                            env={**os.environ, "SCRAPYD_URL": scrapyd, "MODEL": "qwen", "SINCE": "2099-01-01"},
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count('"status": "ok"') == 4
    jobs = call(scrapyd, "listjobs.json?project=digestcrawl")
    scheduled = [j["spider"] for j in jobs["pending"] + jobs["running"] + jobs["finished"]]
    assert {"news", "social", "finance", "releases"} <= set(scheduled) and len(jobs["pending"]) >= before
