"""Settings live in one place: digestcrawl/settings.py declares every one our code reads, once, with
its default and a comment; README.md's table says the same; only settings.py reads the
environment; the distributed profile follows its flag from any source."""

from __future__ import annotations

import ast
import os
import re
import runpy
from pathlib import Path
from typing import Any

import pytest
import scrapy_redis.defaults
from scrapy.settings import Settings, default_settings
from scrapy.utils.test import get_crawler

from digestcrawl.crawl.distributed.profile import DistributedProfile
from digestcrawl.digest.publish import RenderOptions
from digestcrawl.digest.summarize import LLMConfig
from tests.conftest import ROOT, project_settings

SETTINGS_FILE = ROOT / "digestcrawl" / "settings.py"
CODE = [path for folder in ("digestcrawl", "pipelines", "spiders") for path in sorted((ROOT / folder).rglob("*.py"))]
# Settings of the libraries we configure: Scrapy's, scrapy-redis's, scrapy-playwright's.
LIBRARY = ({name for name in vars(default_settings) if name.isupper()}
           | {name for name in vars(scrapy_redis.defaults) if name.isupper()} | {"REDIS_URL"})
LIBRARY_PREFIXES = ("PLAYWRIGHT_",)
READ = re.compile(r"""settings(?:\.get\w*\(\s*|\[\s*)["']([A-Z][A-Z0-9_]+)["']""")
READ_WITH_DEFAULT = re.compile(r"""settings\.get\w*\(\s*["'][A-Z][A-Z0-9_]+["']\s*,""")
ENVIRONMENT = re.compile(r"os\.environ|os\.getenv|environ\.get")
ENV_NAME = re.compile(r"""os\.environ\.get\(\s*["']([A-Z0-9_]+)["']""")
# Defaults that depend on the machine: what the README says instead, and the value expected.
COMPUTED = {"EXTRACTION_PROCESSES": ("CPU cores − 1, at least 1", max(1, (os.cpu_count() or 1) - 1))}


def is_project(name: str) -> bool:
    return name not in LIBRARY and not name.startswith(LIBRARY_PREFIXES)


def declarations() -> dict[str, ast.stmt]:
    """Top-level assignments of digestcrawl/settings.py, by name."""
    found: dict[str, ast.stmt] = {}
    for node in ast.parse(SETTINGS_FILE.read_text("utf-8")).body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        for target in targets:
            if isinstance(target, ast.Name) and target.id.isupper():
                assert target.id not in found, f"{target.id} declared twice"
                found[target.id] = node
    return found


def clean_defaults(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The settings module's values with none of the environment variables it reads set."""
    for name in ENV_NAME.findall(SETTINGS_FILE.read_text("utf-8")):
        monkeypatch.delenv(name, raising=False)
    return runpy.run_path(str(SETTINGS_FILE))


def rendered(value: object) -> str:
    return f"`{value}`" if isinstance(value, str) else f"`{value!r}`"


def readme_table() -> dict[str, tuple[str, str]]:
    """The README's settings table: name -> (default cell, description cell)."""
    section = re.search(r"^## Settings\n(.*?)^## ", (ROOT / "README.md").read_text("utf-8"), re.M | re.S)
    assert section, "README.md has no '## Settings' section"
    rows = re.findall(r"^\| `([A-Z0-9_]+)` \| (.*?) \| (.*?) \|$", section.group(1), re.M)
    names = [name for name, _, _ in rows]
    assert len(names) == len(set(names)), "a setting is listed twice"
    return {name: (default, doc) for name, default, doc in rows}


def test_every_setting_read_is_declared() -> None:
    declared = set(declarations())
    unknown = {f"{path.relative_to(ROOT)}: {name}" for path in CODE for name in READ.findall(path.read_text("utf-8"))
               if name not in declared and name not in LIBRARY and not name.startswith(LIBRARY_PREFIXES)}
    assert not unknown, f"read but declared nowhere: {sorted(unknown)}"


def test_every_project_setting_has_a_comment() -> None:
    lines = SETTINGS_FILE.read_text("utf-8").splitlines()
    undocumented = [name for name, node in declarations().items() if is_project(name)
                    and "  # " not in lines[node.lineno - 1] and not lines[node.lineno - 2].lstrip().startswith("#")]
    assert not undocumented, f"no comment above or beside: {undocumented}"


def test_readme_table_matches_the_declarations(monkeypatch: pytest.MonkeyPatch) -> None:
    values = clean_defaults(monkeypatch)
    nodes = declarations()
    project = {name for name in nodes if is_project(name)}
    table = readme_table()
    assert set(table) == project
    source = SETTINGS_FILE.read_text("utf-8")
    for name, (default, doc) in table.items():
        if name in COMPUTED:
            assert (default, values[name]) == COMPUTED[name]
        else:
            assert default == rendered(values[name]), name
        # The environment variables a default comes from are named in its row.
        for env in ENV_NAME.findall(ast.get_source_segment(source, nodes[name]) or ""):
            assert f"`{env}`" in doc, f"{name}: README does not name {env}"


@pytest.mark.parametrize("path", CODE,
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_code_repeats_no_default_and_reads_no_environment(path: Path) -> None:
    text = path.read_text("utf-8")
    assert not READ_WITH_DEFAULT.search(text), "a settings read repeats its default (digestcrawl/settings.py has it)"
    if path != SETTINGS_FILE:
        assert not ENVIRONMENT.search(text), "the environment is read in digestcrawl/settings.py only"


@pytest.mark.parametrize(("env", "expected"), [
    ({}, {"STORE_URL": "sqlite:///data/digestcrawl.sqlite3", "LLM_API_KEY": None, "DIGESTCRAWL_DISTRIBUTED": False,
          "NETGUARD_ALLOW": []}),
    ({"DATABASE_URL": "postgresql+psycopg://db/a"}, {"STORE_URL": "postgresql+psycopg://db/a"}),
    ({"DATABASE_URL": "postgresql+psycopg://db/a", "DIGESTCRAWL_STORE_URL": "postgresql+psycopg://db/b"},
     {"STORE_URL": "postgresql+psycopg://db/b"}),
    ({"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"},
     {"LLM_API_KEY": "k", "LLM_BASE_URL": "http://127.0.0.1:9/v1"}),
    ({"DIGESTCRAWL_DISTRIBUTED": "1", "DIGESTCRAWL_CRAWL_ID": "nightly", "REDIS_URL": "redis://127.0.0.1:7/1"},
     {"DIGESTCRAWL_DISTRIBUTED": True, "DIGESTCRAWL_CRAWL_ID": "nightly", "REDIS_URL": "redis://127.0.0.1:7/1"}),
    ({"DIGESTCRAWL_SPOOL_DIR": "/s", "DIGEST_SITE_DIR": "/site", "DIGESTCRAWL_REPORT_DIR": "/r"},
     {"STORE_SPOOL_DIR": "/s", "DIGEST_SITE_DIR": "/site", "REPORT_DIR": "/r"}),
    ({"DIGESTCRAWL_NETGUARD_ALLOW": "127.0.0.1,10.0.0.0/8"}, {"NETGUARD_ALLOW": ["127.0.0.1", "10.0.0.0/8"]}),
])
def test_environment_variables(env: dict[str, str], expected: dict[str, object],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    clean_defaults(monkeypatch)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    values = runpy.run_path(str(SETTINGS_FILE))
    assert {name: values[name] for name in expected} == expected


@pytest.mark.parametrize(("flag", "scheduler", "queue_key"), [
    (False, "digestcrawl.crawl.jobqueue.ResumableScheduler", None),
    (True, "digestcrawl.crawl.distributed.scheduler.RedisScheduler", "digestcrawl:nightly:%(spider)s:requests"),
    ("1", "digestcrawl.crawl.distributed.scheduler.RedisScheduler", "digestcrawl:nightly:%(spider)s:requests"),
])
def test_distributed_profile_follows_the_flag(flag: object, scheduler: str, queue_key: str | None) -> None:
    settings = get_crawler(settings_dict=project_settings(DIGESTCRAWL_DISTRIBUTED=flag,
                                                          DIGESTCRAWL_CRAWL_ID="nightly")).settings
    assert settings["SCHEDULER"] == scheduler
    assert settings.get("SCHEDULER_QUEUE_KEY") == queue_key
    if queue_key:
        assert settings["DUPEFILTER_CLASS"] == "scrapy_redis.dupefilter.RFPDupeFilter"
        assert settings["SCHEDULER_EPOCH_KEY"] == "digestcrawl:nightly:%(spider)s:epoch"
        assert settings.getbool("SCHEDULER_PERSIST")
    else:
        assert settings["SCHEDULER_EPOCH_KEY"] is None


def test_distributed_profile_yields_to_command_line_settings() -> None:
    settings = Settings(project_settings())
    settings.setdict({"DIGESTCRAWL_DISTRIBUTED": "1", "SCHEDULER_QUEUE_KEY": "mine:%(spider)s"}, priority="cmdline")
    DistributedProfile().update_settings(settings)
    assert settings["SCHEDULER"] == "digestcrawl.crawl.distributed.scheduler.RedisScheduler"
    assert settings["SCHEDULER_QUEUE_KEY"] == "mine:%(spider)s"
    assert settings["SCHEDULER_DUPEFILTER_KEY"] == "digestcrawl:default:%(spider)s:dupefilter"


def test_config_objects_default_to_the_declarations(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(clean_defaults(monkeypatch))
    assert LLMConfig.from_settings(settings) == LLMConfig()
    assert RenderOptions.from_settings(settings) == RenderOptions()


def test_a_crawl_serves_no_remote_control_port() -> None:
    """Scrapy 2.19's remote control runs the Python sent to a local port (its token written to the
    user's home): a crawl of ours builds no such extension."""
    crawler = get_crawler(settings_dict=project_settings())
    assert crawler.extensions is not None
    built = {type(extension).__name__ for extension in crawler.extensions.middlewares}
    assert "SourceReport" in built and "RemoteControl" not in built
