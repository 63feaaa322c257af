"""Shared fixtures: the fixture web, crawls into real databases, a private PostgreSQL cluster.

Every test runs behind a socket guard: a connection to anything but loopback fails the test,
so no test can reach the internet or a private network by accident.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.utils.project import get_project_settings
from scrapy.utils.test import get_crawler
from sqlalchemy import create_engine, text

from digestcrawl import settings as project_module

if TYPE_CHECKING:
    from tests.fixtureweb.server import FixtureWeb
    from tests.redisserver import RedisServer


ROOT = Path(__file__).resolve().parent.parent
FIXTURE_WINDOW = {"since": "2026-01-12T00:00:00+08:00", "until": "2026-01-20T00:00:00+08:00"}


class NonLoopbackConnection(AssertionError):
    pass


def _check_address(address: Any) -> None:
    if isinstance(address, tuple) and address:
        host = address[0]
        try:
            ip = ipaddress.ip_address(host.split("%")[0])
        except ValueError:
            raise NonLoopbackConnection(f"test tried to connect to host name {host!r}") from None
        if not ip.is_loopback:
            raise NonLoopbackConnection(f"test tried to connect to non-loopback {host}")


@pytest.fixture(autouse=True, scope="session")
def loopback_only() -> Iterator[None]:
    original_connect, original_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _check_address(address)
        return original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _check_address(address)
        return original_connect_ex(self, address)

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex  # type: ignore[method-assign]
    yield
    socket.socket.connect, socket.socket.connect_ex = original_connect, original_connect_ex  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def fixture_web() -> Iterator[FixtureWeb]:
    from tests.fixtureweb.server import FixtureWeb

    with FixtureWeb() as web:
        yield web


@pytest.fixture
def sources_file(fixture_web: FixtureWeb, tmp_path: Path) -> Path:
    """The fixture web's sources, for a test that crawls it from a fresh start."""
    fixture_web.reset()
    path = tmp_path / "sources.yaml"
    fixture_web.write_sources(path)
    return path


@dataclass
class CrawlResult:
    stats: dict[str, Any]
    crawlers: list[Crawler] = field(default_factory=list)


@pytest.fixture
def crawl_settings(tmp_path: Path) -> dict[str, Any]:
    """Settings for a crawl into a fresh SQLite file (add DIGESTCRAWL_SOURCES_FILE)."""
    return {
        "STORE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DIGEST_SITE_DIR": str(tmp_path / "site"),
        "HTTPCACHE_DIR": str(tmp_path / "httpcache"),
        "NETGUARD_ALLOW": ["127.0.0.1/32"],
        "STORE_SPOOL_DIR": str(tmp_path / "spool"),
        "REPORT_DIR": str(tmp_path / "reports"),
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
        "STORE_RETRY_BACKOFF": 0,
        "LOG_LEVEL": "INFO",
        "TELNETCONSOLE_ENABLED": False,
    }


def scrapy_command(*args: str, spider_args: dict[str, str] | None = None,
                   settings: dict[str, object] | None = None) -> list[str]:
    """A `scrapy …` command line: positional args, then ``-a`` spider arguments, ``-s`` settings."""
    command = [sys.executable, "-m", "scrapy", *args]
    for key, value in (spider_args or {}).items():
        command += ["-a", f"{key}={value}"]
    for key, value in (settings or {}).items():
        command += ["-s", f"{key}={value}"]
    return command


def checkout(home: Path) -> Path:
    """A checkout for the deploy recipes to run in (README, "Running it every day"): the project's
    files linked, ``deploy/`` copied (its environment file is the test's to change), ``data/``
    created as ``scrapy migrate`` does."""
    home.mkdir(parents=True, exist_ok=True)
    for name in (".venv", "scrapy.cfg", "digestcrawl", "spiders", "pipelines", "templates"):
        (home / name).symlink_to(ROOT / name)
    shutil.copytree(ROOT / "deploy", home / "deploy", symlinks=True)
    (home / "data").mkdir()
    return home


def fixture_environment(home: Path, web: FixtureWeb, **more: str) -> Path:
    """The checkout's deploy/digestcrawl.env, as shipped, with the fixture web's sources and week
    (and ``more``) set after it: the values an operator edits."""
    env_file = home / "deploy" / "digestcrawl.env"
    overrides = {"MODEL": "qwen", "SINCE": FIXTURE_WINDOW["since"], "UNTIL": FIXTURE_WINDOW["until"],
                 "DIGESTCRAWL_SOURCES_FILE": str(web.write_sources(home / "data" / "sources.yaml")),
                 "DIGESTCRAWL_NETGUARD_ALLOW": "127.0.0.1", **more}
    shipped = (ROOT / "deploy" / "digestcrawl.env").read_text("utf-8")
    env_file.write_text(shipped + "".join(f"{name}={value}\n" for name, value in overrides.items()), "utf-8")
    return env_file


def project_settings(**settings: Any) -> dict[str, Any]:
    """digestcrawl.settings with ``settings`` over them, for ``get_crawler`` and ``Settings``, which
    start from Scrapy's defaults alone (components repeat no default)."""
    return {**{name: value for name, value in vars(project_module).items() if name.isupper()}, **settings}


def spider_crawler(spider_cls: type[Spider], settings: dict[str, Any], **arguments: Any) -> Crawler:
    """``get_crawler`` with the project's settings plus ``settings``, and a ``spider_cls`` spider
    made with ``arguments`` (``-a``): its crawl context is built from them on first use."""
    crawler = get_crawler(spider_cls, project_settings(**settings))
    crawler.spider = spider_cls.from_crawler(crawler, **arguments)
    return crawler


async def run_crawl(spider_cls: type[Spider], settings: dict[str, Any], **args: Any) -> Crawler:
    """One real crawl, in-process, with the project's settings plus ``settings``."""
    project = get_project_settings()
    project.setdict(settings, priority="cmdline")
    crawler = Crawler(spider_cls, project)
    await crawler.crawl_async(**args)
    return crawler


def _postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A private PostgreSQL cluster on 127.0.0.1; yields a server URL without database."""
    bindir = _postgres_bin()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed; .ci/run must install it")
        pytest.skip("PostgreSQL is not installed")
    # Not under pytest's tmp dir: the server runs as the postgres user, who cannot enter it.
    base = Path(tempfile.mkdtemp(prefix="digestcrawl-pg-"))
    data, sockets = base / "data", base / "sock"
    sockets.mkdir()
    runas = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if runas:
        shutil.chown(base, "postgres")
        shutil.chown(sockets, "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    subprocess.run([*runas, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
    subprocess.run([*runas, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-o",
                    f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([*runas, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       check=False, capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A private Redis server on 127.0.0.1 (no persistence)."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed; .ci/run must install it")
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert server.stdout is not None
    for line in server.stdout:  # blocks until Redis says it is ready
        if "Ready to accept connections" in line:
            break
    else:
        pytest.fail("redis-server did not start")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A private Redis for one test, which the test may stop and start again (empty)."""
    from tests.redisserver import RedisServer

    with RedisServer() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: str, request: pytest.FixtureRequest) -> str:
    """A fresh, empty database on the private cluster for one test."""
    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:50]
    admin = create_engine(f"{postgres_server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{postgres_server}/{name}"
