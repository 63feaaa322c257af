"""The main job on the built-in offline defaults.

Serves the fixture web (tests/fixtureweb) on 127.0.0.1, runs `scrapy crawl` for the news, social,
finance and releases spiders for `qwen` over the fixture's week (its sources and the first-party
ones: Hugging Face, GitHub releases, arXiv, AI press, an official blog), which also writes the 2026-01-19 digest
(the closing pipeline) into a Jekyll site made from the shipped skeleton; then `scrapy digest` writes
the five days with news (2026-01-15 … 2026-01-19), so the site has a storyline across days, and the
site is built when Jekyll is installed (with its search index when Pagefind is). It prints the
per-source summary, where the post is, how to open the site, how long the five days' digests and
build took, and the `scrapy digest` command (with the demo's database) that regenerates the post. Everything
goes under data/demo/, recreated on every run so the figures are the same each time; the default
database (data/digestcrawl.sqlite3) is left alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digestcrawl.digest.publish import jekyll_build, search_index  # noqa: E402
from digestcrawl.extensions.report import format_table  # noqa: E402
from tests.fixtureweb.server import FIRST_PARTY_TEMPLATE, FixtureWeb  # noqa: E402

OUT = ROOT / "data" / "demo"
DATABASE = OUT / "digestcrawl.sqlite3"
SITE = OUT / "site"
WINDOW = ["-a", "since=2026-01-12T00:00:00+08:00", "-a", "until=2026-01-20T00:00:00+08:00"]
DAYS = "2026-01-15..2026-01-19"  # the fixture web's days with news about the model


def crawl(spider: str, web_sources: Path) -> dict[str, dict[str, int]]:
    settings = {
        "STORE_URL": f"sqlite:///{DATABASE}",
        "DIGESTCRAWL_SOURCES_FILE": str(web_sources),
        "NETGUARD_ALLOW": "127.0.0.1",
        "DIGEST_SITE_DIR": str(SITE),
        "REPORT_DIR": str(OUT / "reports" / spider),
        "STORE_SPOOL_DIR": str(OUT / "spool"),
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


def digest_days() -> None:
    """Every day of the demo's news into the site: the storyline and the day links need them."""
    command = [sys.executable, "-m", "scrapy", "digest", "--model", "qwen", "--date", DAYS, "--site", str(SITE),
               "-s", f"STORE_URL=sqlite:///{DATABASE}", "-s", f"LOG_FILE={OUT / 'digest.log'}"]
    print(f"digesting {DAYS} …", flush=True)
    subprocess.run(command, cwd=ROOT, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                   stdout=subprocess.DEVNULL)


def write_sources(web: FixtureWeb, path: Path) -> None:
    """The fixture web's sources and its first-party ones, in one file."""
    web.write_sources(path)
    sources = yaml.safe_load(path.read_text(encoding="utf-8"))["sources"]
    sources += yaml.safe_load(web.render_text(FIRST_PARTY_TEMPLATE.read_text(encoding="utf-8")))["sources"]
    path.write_text(yaml.safe_dump({"sources": sources}, allow_unicode=True, sort_keys=False), encoding="utf-8")


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    with FixtureWeb() as web:
        sources_file = OUT / "sources.yaml"
        write_sources(web, sources_file)
        table: dict[str, dict[str, int]] = {}
        for spider in ("news", "social", "finance", "releases"):
            table.update(crawl(spider, sources_file))
    started = time.monotonic()
    digest_days()
    print("\nPer-source summary (qwen, 2026-01-12 … 2026-01-19):\n")
    print(format_table(dict(sorted(table.items()))))
    posts = sorted((SITE / "_posts").glob("*.md"))
    if not posts:
        print("\nNo digest post was written (see data/demo/*.log).")
        return
    print(f"\nDigest post: {posts[-1].relative_to(ROOT)}")
    for image in sorted((SITE / "assets" / "img" / "posts").glob("*.png")):
        print(f"Infographic: {image.relative_to(ROOT)}")
    print(f"Database: {DATABASE.relative_to(ROOT)}; logs: data/demo/*.log")
    site = SITE.relative_to(ROOT)
    build = jekyll_build(SITE)
    index = search_index(build.destination) if build is not None and build.ok else None
    took = time.monotonic() - started
    if build is None:
        print("\nJekyll is not installed (apt-get install jekyll ruby-jekyll-feed ruby-jekyll-seo-tag): "
              f"the site in {site} was not built.")
    elif not build.ok:
        sys.exit(f"\njekyll build failed:\n{build.output[-2000:]}")
    else:
        warned = "".join(f"\n  {line}" for line in build.warnings) or " none"
        print(f"\nSite built: {build.destination.relative_to(ROOT)} (Jekyll warnings:{warned})")
        if index is None:
            print("  no search index: pip install -r requirements.txt (pagefind-bin-extended)")
        elif not index.ok:
            sys.exit(f"\npagefind failed:\n{index.output[-2000:]}")
        else:
            print(f"  search index: {(build.destination / 'pagefind').relative_to(ROOT)}")
        posts_built = len(list((SITE / "_posts").glob("*-qwen-daily.md")))
        print(f"  {posts_built} days of posts digested, built and indexed in {took:.1f} s")
        print(f"  open it in a browser: {(build.destination / 'index.html').as_uri()}")
        print(f"  or serve it: jekyll serve --source {site} --destination {site}/_site  "
              "(then http://127.0.0.1:4000/)")
    day = posts[-1].name[:10]
    print("\nRegenerate this post from the demo's database (and rebuild the site):")
    print(f"  .venv/bin/scrapy digest --model qwen --date {day} --site {site} --build "
          f"-s STORE_URL=sqlite:///{DATABASE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
