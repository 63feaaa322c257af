"""README's first command (after setup): the offline main job, end to end."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

# What the demo prints and README shows: the digest command for the demo's own database.
REGENERATE = (".venv/bin/scrapy digest --model qwen --date 2026-01-19 --site data/demo/site --build "
              "-s STORE_URL=sqlite:///data/demo/digestcrawl.sqlite3")


@pytest.fixture(scope="module")
def demo_output() -> str:
    result = subprocess.run([sys.executable, "scripts/demo.py"], cwd=ROOT, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_demo_crawls_the_fixture_web_and_writes_the_digest(demo_output: str) -> None:
    out = demo_output
    header = next(line for line in out.splitlines() if line.startswith("source "))
    assert header.split()[:6] == ["source", "fetched", "entries", "relevant", "duplicate", "stored"]
    table = out.split(header + "\n", 1)[1].split("\n\n", 1)[0]
    rows = {line.split()[0]: line for line in table.splitlines()}
    assert {"udn", "gnews", "hn", "reddit", "yahoo_ticker", "cmnews"} <= set(rows)
    assert "robots 1" in rows["udn"] and "malformed_feed 1" in rows["broken"]
    assert "Digest post: data/demo/site/_posts/2026-01-19-qwen-daily.md" in out
    assert (ROOT / "data/demo/site/_posts/2026-01-19-qwen-daily.md").is_file()
    assert (ROOT / "data/demo/site/assets/img/posts/2026-01-19-qwen-infographic.png").is_file()
    # The site is made from the shipped skeleton and built, and the demo says how to open it.
    site = ROOT / "data/demo/site"
    assert (site / "_config.yml").is_file() and (site / "models/qwen.md").is_file()
    if shutil.which("jekyll"):
        assert "Site built: data/demo/site/_site (Jekyll warnings: none)" in out
        assert f"open it in a browser: {(site / '_site/index.html').as_uri()}" in out
        assert "jekyll serve --source data/demo/site --destination data/demo/site/_site" in out
        assert (site / "_site/qwen/daily/2026/01/19/qwen-daily.html").is_file()
    assert f"  {REGENERATE}\n" in out


def test_the_printed_digest_command_regenerates_the_demo_post(demo_output: str) -> None:
    """Right after the demo, README's `scrapy digest` finds the demo's articles (in the demo's
    database, not the default one) and writes the same post again."""
    assert REGENERATE in (ROOT / "README.md").read_text("utf-8")
    post = ROOT / "data/demo/site/_posts/2026-01-19-qwen-daily.md"
    before = post.read_text("utf-8")
    post.unlink()
    args = shlex.split(REGENERATE.removeprefix(".venv/bin/scrapy "))
    run = subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert re.search(r"qwen 2026-01-19: \d+ articles in", run.stdout), run.stdout
    assert post.read_text("utf-8") == before


# The post checker's classes that issue 22's items 2, 4, 5 and 6 hold (Taiwan usage, attribution,
# clean text, dated sources); the others are the post composition's (items 1, 3 and 7).
HELD = {"label", "conversion", "simplified", "undated", "out_of_window"}
FINDING = re.compile(r"^data/demo/site/_posts/2026-01-19-qwen-daily\.md:(\d+): (\w+): .+$")


def check_demo_post() -> tuple[int, list[tuple[int, str]]]:
    """`scrapy digest --check` on the demo post, with the demo's store and sources."""
    run = subprocess.run([sys.executable, "-m", "scrapy", "digest", "--check",
                          "data/demo/site/_posts/2026-01-19-qwen-daily.md",
                          "-s", "STORE_URL=sqlite:///data/demo/digestcrawl.sqlite3",
                          "-s", "DIGESTCRAWL_SOURCES_FILE=data/demo/sources.yaml"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    lines = run.stdout.splitlines()
    assert all(FINDING.match(line) for line in lines), lines
    assert run.returncode == (1 if lines else 0), run.stderr[-2000:]
    return run.returncode, [(int(m[1]), m[2]) for m in map(FINDING.match, lines) if m]


def test_the_checker_holds_the_demo_posts_text_names_and_dates(demo_output: str) -> None:
    _, findings = check_demo_post()
    assert [f for f in findings if f[1] in HELD] == []


def test_the_checker_finds_nothing_in_the_demo_post(demo_output: str) -> None:
    code, findings = check_demo_post()
    assert (code, findings) == (0, [])
