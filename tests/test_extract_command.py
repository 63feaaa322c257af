"""`scrapy extract` (issue 15): saved files, stdin JSON lines and fixture-web URLs through the
crawl's own reading path, as a subprocess; refused, missing and malformed inputs give an
``error`` field and exit status 1, never a crash."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, scrapy_command
from tests.fixtureweb.server import FixtureWeb

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
PAGES = Path("tests") / "pages"


def extract(*args: str, stdin: str | None = None, log: Path | None = None, **settings: object
            ) -> tuple[int, list[dict[str, Any]]]:
    """Exit status and the JSON objects printed by ``scrapy extract ARGS --json``."""
    extra = {"LOG_FILE": log} if log else {"LOG_LEVEL": "ERROR"}
    result = subprocess.run(scrapy_command("extract", *args, "--json", settings={**extra, **settings}),
                            cwd=ROOT, env=ENV, input=stdin, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result.returncode, [json.loads(line) for line in result.stdout.splitlines()]


def test_files_with_their_url() -> None:
    code, pages = extract(str(PAGES / "en-utc-instant.html"), "--url", "https://news.example/2019/11/18/wework/",
                          "--zone", "America/New_York")
    assert code == 0
    [page] = pages
    assert page["url"] == "https://news.example/2019/11/18/wework/"
    assert page["title"] == "New York investigating WeWork"
    assert page["text"].startswith("The attorney general of New York is investigating WeWork")
    # In the page's own day: the first ten characters are the day of its URL.
    assert (page["published"], page["published_from"]) == ("2019-11-18T22:05:46-05:00", "jsonld")
    assert (page["encoding"], page["lang"]) == ("utf-8", "en")


def test_stdin_lines_in_order_with_errors_in_place(tmp_path: Path) -> None:
    lines = [
        {"path": str(PAGES / "zh-table-layout.gb2312.html"), "url": None},
        {"path": str(tmp_path / "missing.html"), "url": None},
        "not json",
        {"path": str(PAGES / "zh-no-wrapper.gbk.html"), "url": "http://ccc.example/2004/09/17/a.asp"},
        {"path": None, "url": "ftp://example.com/page.html"},
        {"path": str(tmp_path / "api.html"), "url": None},  # issue 20: JSON saved as a page
    ]
    (tmp_path / "api.html").write_text('{"title": "Qwen3", "text": "通義千問發布新版本"}', encoding="utf-8")
    stdin = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    code, pages = extract("-", "--zone", "Asia/Shanghai", stdin=stdin)
    assert code == 1
    assert [page["input"] for page in pages] == [str(PAGES / "zh-table-layout.gb2312.html"),
                                                  str(tmp_path / "missing.html"), "stdin line 3",
                                                  str(PAGES / "zh-no-wrapper.gbk.html"), "stdin line 5",
                                                  str(tmp_path / "api.html")]
    table, missing, not_json, wrapperless, ftp, api = pages
    assert (table["published"], table["published_from"], table["encoding"], table["lang"]) == (
        "2005-03-11T12:12:00+08:00", "text", "gb18030", "zh-Hans")
    assert "相关报道" not in table["text"] and "使用4周后" in table["text"]
    assert "cannot read" in missing["error"] and "not a JSON line" in not_json["error"]
    assert (wrapperless["published"], wrapperless["published_from"]) == ("2004-09-17T00:00:00+08:00", "url")
    assert "error" in ftp
    assert api["error"] == "not HTML: a JSON document" and "text" not in api


def test_urls_through_the_net_guard(fixture_web: FixtureWeb, tmp_path: Path) -> None:
    story = fixture_web.url("udn", "news/story/7240/9268811.html")
    code, pages = extract(story, "http://10.1.2.3/private.html", fixture_web.url("udn", "private/page.html"),
                          fixture_web.url("udn", "news/story/none.html"), log=tmp_path / "log",
                          NETGUARD_ALLOW="127.0.0.1")
    assert code == 1
    fetched, private, robots, missing = pages
    assert "error" not in fetched, fetched
    assert fetched["url"] == story and fetched["title"].startswith("阿里千問App大改版")
    assert (fetched["published"], fetched["published_from"], fetched["lang"]) == (
        "2026-01-15T10:26:00+08:00", "jsonld", "zh-Hant")
    assert fetched["text"] and "error" not in fetched
    assert private["error"].startswith("refused (refused_address)")
    assert "robots.txt" in robots["error"]
    assert missing["error"] == "HTTP 404"
    # The refused address was never asked for; nothing was stored or reported.
    assert not any(request.path.startswith("/private/") for request in fixture_web.requests)
    log = (tmp_path / "log").read_text("utf-8")
    assert "Refused http://10.1.2.3/private.html" in log
