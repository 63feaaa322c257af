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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from digestcrawl.store.engine import make_engine
from digestcrawl.store.models import ArticleRow
from tests.conftest import FIXTURE_WINDOW, ROOT, checkout, fixture_environment, scrapy_command
from tests.fixtureweb.server import FixtureWeb
from tests.processes import Output

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Scrapyd:
    url: str
    home: Path  # where it runs: its jobs' working directory, a checkout of the project's files


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scrapyd]:
    """Scrapyd started as README says: in the checkout, with deploy/scrapyd.conf linked there; only
    its port is the test's (~/.scrapyd.conf, which Scrapyd reads after it)."""
    home = checkout(tmp_path_factory.mktemp("scrapyd") / "checkout")
    (home / "scrapyd.conf").symlink_to(Path("deploy") / "scrapyd.conf")
    port = free_port()
    (home / ".scrapyd.conf").write_text(f"[scrapyd]\nhttp_port = {port}\n")
    # Jobs run in Scrapyd's own processes, out of reach of the tests' socket guard: by default
    # they see no sources at all (a job crawls only what its schedule.json settings name).
    (home / "no-sources.yaml").write_text("sources: []\n")
    env = {**os.environ, "HOME": str(home), "DIGESTCRAWL_SOURCES_FILE": str(home / "no-sources.yaml"),
           "DIGESTCRAWL_STORE_URL": f"sqlite:///{home / 'default.sqlite3'}", "DIGEST_SITE_DIR": str(home / "site"),
           "DIGESTCRAWL_SPOOL_DIR": str(home / "spool"), "DIGESTCRAWL_REPORT_DIR": str(home / "reports")}
    server = subprocess.Popen([str(BIN / "scrapyd")], cwd=home, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env=env)
    assert server.stdout is not None
    # Read all along: a full pipe would block Scrapyd's logging, and with it Scrapyd.
    output = Output(server.stdout)
    if not output.wait_for("Site starting on"):
        server.kill()
        pytest.fail(f"scrapyd did not start: {output.text()[-2000:]}")
    assert output.wait_for(f"Site starting on {port}")  # the test's port, from ~/.scrapyd.conf
    try:
        yield Scrapyd(f"http://127.0.0.1:{port}", home)
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


def deploy(scrapyd: Scrapyd, tmp_path: Path) -> None:
    """scrapyd-deploy to the test's Scrapyd (a target of its own, in the user-level scrapy.cfg
    that scrapyd-deploy also reads); the egg lands under the checkout's data/scrapyd/."""
    (tmp_path / "xdg").mkdir()
    (tmp_path / "xdg" / "scrapy.cfg").write_text(f"[deploy:local-test]\nurl = {scrapyd.url}/\nproject = digestcrawl\n")
    user_config = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    deployed = subprocess.run([str(BIN / "scrapyd-deploy"), "local-test", "-p", "digestcrawl"], cwd=ROOT,
                              capture_output=True, text=True, env=user_config)
    assert deployed.returncode == 0 and '"status": "ok"' in deployed.stdout + deployed.stderr, deployed.stderr
    assert call(scrapyd.url, "listspiders.json?project=digestcrawl")["spiders"] == ["finance", "news", "releases",
                                                                                  "social"]
    assert list((scrapyd.home / "data" / "scrapyd" / "eggs" / "digestcrawl").glob("*.egg"))


def wait_for(scrapyd: Scrapyd, jobs: list[str]) -> None:
    deadline = time.monotonic() + 300
    while True:  # Scrapyd reports job state only by polling listjobs.json
        finished = {job["id"] for job in call(scrapyd.url, "listjobs.json?project=digestcrawl")["finished"]}
        if set(jobs) <= finished:
            return
        assert time.monotonic() < deadline, "jobs did not finish"
        time.sleep(0.5)


def test_deploy_schedule_and_digest(scrapyd: Scrapyd, fixture_web: FixtureWeb, tmp_path: Path) -> None:
    fixture_web.reset()
    deploy(scrapyd, tmp_path)

    sources = fixture_web.write_sources(tmp_path / "sources.yaml")
    database_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    settings = [f"STORE_URL={database_url}", f"DIGESTCRAWL_SOURCES_FILE={sources}", "NETGUARD_ALLOW=127.0.0.1",
                f"DIGEST_SITE_DIR={tmp_path / 'site'}", f"STORE_SPOOL_DIR={tmp_path / 'spool'}",
                f"REPORT_DIR={tmp_path / 'reports'}", "AUTOTHROTTLE_ENABLED=False", "DOWNLOAD_DELAY=0"]
    jobs = [call(scrapyd.url, "schedule.json", project="digestcrawl", spider=spider, model="qwen", setting=settings,
                 **FIXTURE_WINDOW)["jobid"] for spider in ("news", "social", "finance")]
    wait_for(scrapyd, jobs)

    logs = [urllib.request.urlopen(f"{scrapyd.url}/logs/digestcrawl/{spider}/{job}.log", timeout=30).read().decode()
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


def test_schedule_script_schedules_every_category(scrapyd: Scrapyd) -> None:
    """deploy/schedule-daily.sh (what cron and the systemd timer run) against the real server."""
    before = len(call(scrapyd.url, "listjobs.json?project=digestcrawl")["pending"])
    result = subprocess.run(["bash", str(ROOT / "deploy" / "schedule-daily.sh")], capture_output=True, text=True,
                            env={**os.environ, "SCRAPYD_URL": scrapyd.url, "MODEL": "qwen", "SINCE": "2099-01-01"},
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count('"status": "ok"') == 4
    jobs = call(scrapyd.url, "listjobs.json?project=digestcrawl")
    scheduled = [j["spider"] for j in jobs["pending"] + jobs["running"] + jobs["finished"]]
    assert {"news", "social", "finance", "releases"} <= set(scheduled) and len(jobs["pending"]) >= before


def crontab_command(crontab: Path, home: Path, marker: str) -> str:
    """The command of the crontab line holding ``marker`` (commented out or not), with the
    checkout's path filled in as README's install line does."""
    [line] = [line.lstrip("# ") for line in crontab.read_text("utf-8").splitlines()
              if marker in line and line.lstrip("# ")[:1].isdigit()]
    return line.split(None, 5)[5].replace("@CHECKOUT@", str(home))


def test_the_scrapyd_recipe_publishes_the_day_and_scrapy_jobs_shows_each_outcome(
        scrapyd: Scrapyd, fixture_web: FixtureWeb, tmp_path: Path) -> None:
    """README's Scrapyd recipe: Scrapyd from deploy/scrapyd.conf, scrapyd-deploy, the crontab's
    scheduling line under cron's bare environment with deploy/digestcrawl.env; the jobs write the
    post and build the site. A job that fails (a bad argument) is seen through `scrapy jobs`."""
    fixture_web.reset()
    deploy(scrapyd, tmp_path)
    fixture_environment(scrapyd.home, fixture_web, SCRAPYD_URL=scrapyd.url)
    command = crontab_command(scrapyd.home / "deploy" / "crontab", scrapyd.home, "schedule-daily.sh")
    cron = subprocess.run(["/usr/bin/env", "-i", f"HOME={scrapyd.home}", "SHELL=/bin/sh", "PATH=/usr/bin:/bin",
                           "/bin/sh", "-c", command], capture_output=True, text=True, timeout=60)
    assert cron.returncode == 0, cron.stderr
    answers = [json.loads(line) for line in (scrapyd.home / "data" / "schedule.log").read_text().splitlines() if line]
    jobs = [answer["jobid"] for answer in answers]
    assert len(jobs) == 4
    failing = call(scrapyd.url, "schedule.json", project="digestcrawl", spider="news", model="gpt9",
                   setting="REPORT_DIR=data/reports")["jobid"]
    wait_for(scrapyd, [*jobs, failing])

    site = scrapyd.home / "data" / "site"
    post = site / "_posts" / "2026-01-19-qwen-daily.md"
    assert post.is_file() and "QWEN 每日動態 - 2026-01-19" in post.read_text("utf-8")
    assert "2026-01-19" in (site / "_site" / "index.html").read_text("utf-8")  # built after the post
    assert list((scrapyd.home / "data" / "scrapyd" / "logs" / "digestcrawl" / "news").glob(f"{failing}.log"))

    reports = str(scrapyd.home / "data" / "reports")
    listed = subprocess.run(scrapy_command("jobs", settings={"REPORT_DIR": reports}), cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    lines = [line for line in listed.stdout.splitlines() if " job " in line]
    for job in jobs:
        [line] = [line for line in lines if f"job {job}" in line]
        assert "  0  ok " in line, listed.stdout
    [line] = [line for line in lines if f"job {failing}" in line]
    assert line.startswith("!") and "  1  error " in line, listed.stdout
    one = subprocess.run(scrapy_command("jobs", "--job", failing, settings={"REPORT_DIR": reports}), cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert one.returncode == 1 and f"job {failing}" in one.stdout and " error " in one.stdout
    [report] = (scrapyd.home / "data" / "reports").glob(f"news-*-{failing}.json")
    data = json.loads(report.read_text("utf-8"))
    assert data["exit_code"] == 1 and data["reason"] == "failed_to_start" and "gpt9" in data["error"]
