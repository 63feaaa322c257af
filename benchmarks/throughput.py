"""B1 end-to-end throughput (and B5 memory): four crawlers over the same generated web.

* ``digestcrawl``: ``scrapy crawl news -a model=all`` with every pipeline on (run lock,
  normalize, relevance, dedup, SQLite store; the digest is left to B4), HTTP cache and
  incremental middleware on, from a fresh database;
* ``bare_scrapy``: benchmarks/barespider.py, feeds → pages → ``trafilatura.extract``;
* ``scrapy_alone``: the same spider extracting nothing: the floor of any Scrapy crawler here
  (its CPU per page is what Scrapy, its start included, costs before any extraction);
* ``trafilatura_cli``: ``trafilatura -i urls.txt`` (downloads in threads, extraction in the main
  process), with a settings.cfg that turns SSRF protection off and SLEEP_TIME to 0;
* ``news_please``: news-please 1.6.16 from its own venv (benchmarks/.venv-peers), RssCrawler per
  site (front page → feed link → items), no-images newspaper extractor, JSON + HTML storage.

All crawl 16 requests per domain at a time with no delay. Pages are the article pages the
local server answered during the run (the same counter for every tool), CPU and peak RSS are the
whole process tree's (benchmarks/measure.py). "Stored" is what each tool kept: digestcrawl's
database rows (after relevance and URL dedup), the others' non-empty outputs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.localweb import SINCE, SITES, UNTIL, LocalWeb
from benchmarks.measure import ProcessRun, run_measured

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
PEERS_VENV = HERE / ".venv-peers"
NEWS_PLEASE = "news-please==1.6.16"
PER_DOMAIN = 16


def _fresh(work: Path) -> Path:
    """An empty working directory: a leftover database would make digestcrawl skip stored pages."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    return work


def _row(web: LocalWeb, run: ProcessRun, stored: int, note: str = "") -> dict[str, Any]:
    counts = web.reset_counts()
    pages = counts["article"]
    return {
        "pages": pages, "stored": stored, "requests": sum(counts.values()),
        "wall_s": run.wall_seconds, "cpu_s": run.cpu_seconds,
        "pages_per_s": round(pages / run.wall_seconds, 1) if run.wall_seconds else 0.0,
        "cpu_ms_per_page": round(1000 * run.cpu_seconds / pages, 1) if pages else None,
        "cpu_s_per_stored": round(run.cpu_seconds / stored, 4) if stored else None,
        "peak_rss_mb": run.peak_rss_mb, "peak_pss_mb": run.peak_pss_mb, "processes": run.peak_processes,
        "per_process": run.roles, "returncode": run.returncode, "note": note,
    }


def digestcrawl(web: LocalWeb, work: Path) -> dict[str, Any]:
    _fresh(work)
    sources = web.write_sources(work / "sources.yaml")
    settings = {
        "DIGESTCRAWL_SOURCES_FILE": sources, "NETGUARD_ALLOW": "127.0.0.1", "AUTOTHROTTLE_ENABLED": "False",
        "DOWNLOAD_DELAY": "0", "CONCURRENT_REQUESTS_PER_DOMAIN": PER_DOMAIN, "DIGEST_ON_CLOSE": "False",
        "STORE_URL": f"sqlite:///{work / 'db.sqlite3'}", "REPORT_DIR": work / "reports",
        "STORE_SPOOL_DIR": work / "spool", "HTTPCACHE_DIR": work / "httpcache", "LOG_LEVEL": "INFO",
        "SOURCE_MAX_REQUESTS": 0,  # every generated page is measured (a full run has ~830 per site)
    }
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "model=all",
               "-a", f"since={SINCE}", "-a", f"until={UNTIL}"]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    run = run_measured(command, ROOT, {**os.environ, "PYTHONPATH": str(ROOT)}, work / "crawl.log")
    stored = 0
    for report in (work / "reports").glob("*.json"):
        stored += sum(counts.get("stored", 0) for counts in json.loads(report.read_text("utf-8"))["sources"].values())
    return _row(web, run, stored)


def bare_scrapy(web: LocalWeb, work: Path, extract: str = "trafilatura") -> dict[str, Any]:
    _fresh(work)
    out = work / "items.jsonl"
    command = [sys.executable, "-m", "scrapy", "runspider", str(HERE / "barespider.py"),
               "-a", "feeds=" + ",".join(web.feed_urls()), "-a", f"extract={extract}", "-O", str(out),
               "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={PER_DOMAIN}", "-s", "TELNETCONSOLE_ENABLED=False",
               "-s", "LOG_LEVEL=INFO"]
    # No scrapy.cfg in the working directory: no project settings apply.
    run = run_measured(command, work, {k: v for k, v in os.environ.items() if not k.startswith("SCRAPY_")},
                       work / "crawl.log")
    stored = len(out.read_text("utf-8").splitlines()) if out.exists() else 0
    return _row(web, run, stored)


TRAFILATURA_CFG = """[DEFAULT]
DOWNLOAD_TIMEOUT = 30
MAX_FILE_SIZE = 20000000
MIN_FILE_SIZE = 10
SLEEP_TIME = 0
USER_AGENTS =
COOKIE =
MAX_REDIRECTS = 2
SSRF_PROTECTION = off
INSECURE_SSL_FALLBACK = off
MIN_EXTRACTED_SIZE = 250
MIN_OUTPUT_SIZE = 1
MIN_OUTPUT_COMM_SIZE = 1
MAX_TREE_SIZE =
EXTRACTION_TIMEOUT = 30
MIN_DUPLCHECK_SIZE = 100
MAX_REPETITIONS = 2
EXTENSIVE_DATE_SEARCH = on
EXTERNAL_URLS = off
"""


def trafilatura_cli(web: LocalWeb, work: Path) -> dict[str, Any]:
    _fresh(work)
    (work / "urls.txt").write_text("\n".join(web.article_urls()) + "\n", encoding="utf-8")
    (work / "settings.cfg").write_text(TRAFILATURA_CFG, encoding="utf-8")
    out = work / "out"
    command = [str(Path(sys.executable).parent / "trafilatura"), "-i", "urls.txt", "-o", "out",
               "--config-file", "settings.cfg", "--parallel", str(PER_DOMAIN)]
    run = run_measured(command, work, None, work / "crawl.log")
    # Past 1,000 files the CLI writes into numbered subdirectories.
    stored = sum(1 for p in out.rglob("*") if p.is_file() and p.stat().st_size) if out.exists() else 0
    return _row(web, run, stored, "URL list (no feed parsing)")


def ensure_news_please(install: bool) -> Path | None:
    """news-please's executable in its own venv; created (pip) when missing and ``install``."""
    executable = PEERS_VENV / "bin" / "news-please"
    if executable.exists() or not install:
        return executable if executable.exists() else None
    install_peer([NEWS_PLEASE, "jieba", "tinysegmenter"])
    return executable if executable.exists() else None


def install_peer(packages: list[str]) -> bool:
    """pip-install a peer's packages into benchmarks/.venv-peers (created when missing)."""
    if not (PEERS_VENV / "bin" / "pip").exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
    result = subprocess.run([str(PEERS_VENV / "bin" / "pip"), "install", "-q", *packages],
                            capture_output=True, text=True)
    if result.returncode != 0:
        print(f"peer install failed ({' '.join(packages)}): {result.stderr[-500:]}", file=sys.stderr)
    return result.returncode == 0


def _news_please_config(executable: Path, work: Path) -> Path:
    """news-please's own default config with the few changes an offline, fair run needs."""
    [default] = (executable.parent.parent / "lib").glob("python*/site-packages/newsplease/config/config.cfg")
    text = default.read_text(encoding="utf-8")
    changes = {
        r"^default = .*$": "default = RssCrawler",
        r"^number_of_parallel_crawlers = .*$": f"number_of_parallel_crawlers = {len(SITES)}",
        r"^working_path = .*$": f"working_path = {work / 'repo'}",
        # newspaper would download every image of every page: not offline, not what we measure.
        r"^extractors = .*$": "extractors = ['newspaper_extractor_no_images', 'readability_extractor', "
                              "'date_extractor', 'lang_detect_extractor']",
        r"^CONCURRENT_REQUESTS_PER_DOMAIN=.*$": f"CONCURRENT_REQUESTS_PER_DOMAIN={PER_DOMAIN}",
    }
    for pattern, replacement in changes.items():
        text, found = re.subn(pattern, replacement, text, flags=re.MULTILINE)
        assert found, pattern
    config = work / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.cfg").write_text(text, encoding="utf-8")
    return config


def news_please(web: LocalWeb, work: Path, executable: Path | None) -> dict[str, Any]:
    if executable is None:
        return {"skipped": f"news-please not installed in {PEERS_VENV.relative_to(ROOT)} (no install in this mode)"}
    _fresh(work)
    config = _news_please_config(executable, work)
    # Every site's pages are articles: its link-ratio heuristics would reject pages whose
    # "more stories" cards are linked headlines, so the condition is og:type alone.
    sites = [{"url": web.base(site.name) + "/", "crawler": "RssCrawler", "pass_heuristics_condition": "og_type"}
             for site in SITES]
    (config / "sitelist.hjson").write_text(json.dumps({"base_urls": sites}, indent=1), encoding="utf-8")
    run = run_measured([str(executable), "-c", str(config), "-no-confirm"], work, None, work / "crawl.log")
    stored = sum(1 for _ in (work / "repo" / "data").rglob("*.json"))
    return _row(web, run, stored, "front page → feed; 3 extractors")


def scrapy_alone(web: LocalWeb, work: Path) -> dict[str, Any]:
    return bare_scrapy(web, work, extract="none")


RUNNERS: dict[str, Callable[[LocalWeb, Path], dict[str, Any]]] = {
    "digestcrawl": digestcrawl, "bare_scrapy": bare_scrapy, "scrapy_alone": scrapy_alone,
    "trafilatura_cli": trafilatura_cli,
}
# Issue 25's targets: pages/s against the peers, and CPU per fetched page.
TARGETS = {"vs_bare_scrapy": 2.0, "vs_news_please": 8.0}
CPU_MS_PER_PAGE_TARGET = 6.0


def run(web: LocalWeb, work: Path, install_peers: bool, with_news_please: bool = True) -> dict[str, Any]:
    """Every crawler on the same served web, one after the other; ratios against digestcrawl."""
    web.reset_counts()
    results: dict[str, Any] = {name: runner(web, work / name) for name, runner in RUNNERS.items()}
    if with_news_please:
        results["news_please"] = news_please(web, work / "news_please", ensure_news_please(install_peers))
    else:
        results["news_please"] = {"skipped": "not run in this mode"}
    ours = results["digestcrawl"]["pages_per_s"]
    # Scrapy alone is a floor, not a peer: no ratio.
    ratios = {f"vs_{name}": round(ours / row["pages_per_s"], 2) for name, row in results.items()
              if name not in ("digestcrawl", "scrapy_alone") and row.get("pages_per_s")}
    return {"crawlers": results, "ratios": ratios, "targets": TARGETS,
            "cpu_ms_per_page_target": CPU_MS_PER_PAGE_TARGET}
