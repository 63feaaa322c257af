"""The main job on the built-in offline defaults.

Serves the fixture web (tests/fixtureweb) on 127.0.0.1, runs `scrapy crawl` for the news, social
and finance spiders for `qwen` over the fixture's week, which also writes the 2026-01-19 digest
(the closing pipeline), then prints the per-source summary and where the post is. Everything goes
under data/demo/, recreated on every run so the figures are the same each time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digestcrawl.report import format_table  # noqa: E402
from tests.fixtureweb.server import FixtureWeb  # noqa: E402

OUT = ROOT / "data" / "demo"
WINDOW = ["-a", "since=2026-01-12T00:00:00+08:00", "-a", "until=2026-01-20T00:00:00+08:00"]


def crawl(spider: str, web_sources: Path) -> dict[str, dict[str, int]]:
    settings = {
        "DATABASE_URL": f"sqlite:///{OUT / 'digestcrawl.sqlite3'}",
        "DIGESTCRAWL_SOURCES_FILE": str(web_sources),
        "NETGUARD_ALLOW": "127.0.0.1",
        "DIGEST_SITE_DIR": str(OUT / "site"),
        "REPORT_DIR": str(OUT / "reports" / spider),
        "SPOOL_DIR": str(OUT / "spool"),
        "LOG_FILE": str(OUT / f"{spider}.log"),
        # The fixture web is ours and local: no politeness delays needed.
        "AUTOTHROTTLE_ENABLED": "False",
        "DOWNLOAD_DELAY": "0",
    }
    command = [sys.executable, "-m", "scrapy", "crawl", spider, "-a", "model=qwen", *WINDOW]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    print(f"crawling {spider} …", flush=True)
    subprocess.run(command, cwd=ROOT, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    [report] = (OUT / "reports" / spider).glob("*.json")
    sources: dict[str, dict[str, int]] = json.loads(report.read_text(encoding="utf-8"))["sources"]
    return sources


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    with FixtureWeb() as web:
        sources_file = OUT / "sources.yaml"
        web.write_sources(sources_file)
        table: dict[str, dict[str, int]] = {}
        for spider in ("news", "social", "finance"):
            table.update(crawl(spider, sources_file))
    print("\nPer-source summary (qwen, 2026-01-12 … 2026-01-19):\n")
    print(format_table(dict(sorted(table.items()))))
    posts = sorted((OUT / "site" / "_posts").glob("*.md"))
    if posts:
        print(f"\nDigest post: {posts[-1].relative_to(ROOT)}")
        for image in sorted((OUT / "site" / "assets" / "img" / "posts").glob("*.png")):
            print(f"Infographic: {image.relative_to(ROOT)}")
    else:
        print("\nNo digest post was written (see data/demo/*.log).")
    print(f"Database: {(OUT / 'digestcrawl.sqlite3').relative_to(ROOT)}; logs: data/demo/*.log")


if __name__ == "__main__":
    main()
