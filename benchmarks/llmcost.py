"""B4 LLM cost of one digest on the fixture day (qwen, 2026-01-19).

The fixture web (tests/fixtureweb) is crawled by the news, social and finance spiders into a
fresh SQLite database (no digest on close). Then ``DigestBuilder`` writes the digest through the
real openai client against tests/llmserver.py (a local Chat Completions server that answers with
grounded JSON): LLM calls, prompt and completion tokens are taken from the summarizer's result
and the server's request log. A second, unchanged build must make no call (the answer cache).

Prompt size is compared with the deduplicated source text of the stories the digest shows:
titles and texts of the original articles (syndicated copies left out, identical texts once),
both counted with digestcrawl's own token estimate (1 per CJK character, 1.3 per Latin word).
The server's ``usage`` figures (characters / 2) are reported beside it. The merge check's call
(titles of loosely held story members, ``LLMSummarizer.check_merges``) counts in calls and prompt
tokens like the digest's; the breakdown shows it apart.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.measure import run_measured

ROOT = Path(__file__).resolve().parent.parent
DAY = date(2026, 1, 19)
WINDOW = {"since": "2026-01-12T00:00:00+08:00", "until": "2026-01-20T00:00:00+08:00"}
TARGETS = {"calls_over_stories": 2, "rerun_calls": 0, "prompt_over_source": 1.3}


def crawl_fixture(work: Path) -> str:
    """Crawl the fixture web with all three spiders; returns the database URL."""
    from tests.fixtureweb.server import FixtureWeb

    shutil.rmtree(work, ignore_errors=True)  # a fresh database: the crawl must store everything
    work.mkdir(parents=True)
    database_url = f"sqlite:///{work / 'db.sqlite3'}"
    with FixtureWeb() as web:
        sources = web.write_sources(work / "sources.yaml")
        for spider in ("news", "social", "finance"):
            command = [sys.executable, "-m", "scrapy", "crawl", spider, "-a", "model=qwen",
                       *(arg for key, value in WINDOW.items() for arg in ("-a", f"{key}={value}"))]
            for name, value in {"STORE_URL": database_url, "DIGESTCRAWL_SOURCES_FILE": sources,
                                "NETGUARD_ALLOW": "127.0.0.1", "AUTOTHROTTLE_ENABLED": "False",
                                "DOWNLOAD_DELAY": "0", "DIGEST_ON_CLOSE": "False",
                                "REPORT_DIR": work / "reports", "STORE_SPOOL_DIR": work / "spool",
                                "HTTPCACHE_DIR": work / "httpcache"}.items():
                command += ["-s", f"{name}={value}"]
            run = run_measured(command, ROOT, {**os.environ, "PYTHONPATH": str(ROOT)}, work / f"{spider}.log")
            if run.returncode != 0:
                raise RuntimeError(f"fixture crawl {spider} failed: see {work / f'{spider}.log'}")
    return database_url


def _source_text(stories: list[Any]) -> str:
    from digestcrawl.text.dedup import fingerprint

    seen: set[str] = set()
    parts: list[str] = []
    for story in stories:
        for article in story.articles:
            body = article.text or article.snippet
            key = fingerprint(body or article.title)
            if article.duplicate_of or key in seen:
                continue
            seen.add(key)
            parts += [article.title, body]
    return "\n".join(parts)


# An article part runs from its delimiter line to the next delimiter (digestcrawl.digest.summarize.prompt).
ARTICLE_BLOCK = re.compile(r"^<<<ARTICLE (\d+)>>>\n(.*?)(?=^<<<|\Z)", re.DOTALL | re.MULTILINE)


def prompt_breakdown(requests: list[dict[str, Any]], stories: list[Any]) -> dict[str, int]:
    """Where the prompt tokens go: system prompt, task and figures, article blocks (originals vs
    syndicated copies), the remaining framing, and the merge check's whole request."""
    from digestcrawl.digest.summarize import estimate_tokens

    copies = {a.id for story in stories for a in story.articles if a.duplicate_of}
    parts = {"system": 0, "task_and_figures": 0, "original_articles": 0, "syndicated_copies": 0, "framing": 0,
             "merge_check": 0}
    for body in requests:
        if body.get("response_format", {}).get("json_schema", {}).get("name") == "merge_verdicts":
            parts["merge_check"] += sum(estimate_tokens(m["content"]) for m in body["messages"])
            continue
        for message in body["messages"]:
            content = message["content"]
            if message["role"] == "system":
                parts["system"] += estimate_tokens(content)
                continue
            task, _, data = content.partition("<<<STORY")
            parts["task_and_figures"] += estimate_tokens(task)
            blocks = 0
            for article_id, block in ARTICLE_BLOCK.findall(data):
                cost = estimate_tokens(block)
                blocks += cost
                parts["syndicated_copies" if int(article_id) in copies else "original_articles"] += cost
            parts["framing"] += max(0, estimate_tokens("<<<STORY" + data) - blocks)
    return parts


def run(work: Path) -> dict[str, Any]:
    from scrapy.settings import Settings

    from digestcrawl.digest import DigestBuilder
    from digestcrawl.digest.summarize import estimate_tokens
    from tests.llmserver import LLMServer

    database_url = crawl_fixture(work / "crawl")
    captured: list[tuple[Any, Any]] = []
    with LLMServer() as server:
        settings = Settings()
        settings.setmodule("digestcrawl.settings")  # the defaults, which components do not repeat
        settings.setdict({"STORE_URL": database_url, "DIGEST_SITE_DIR": str(work / "site"),
                          "LLM_BASE_URL": server.base_url, "LLM_API_KEY": "test-key", "LLM_MODEL": "local-test",
                          "DIGEST_TIMEZONE": "Asia/Taipei", "DIGEST_LANGUAGE": "zh-TW",
                          "DIGEST_SITE_SKELETON": False})
        runs = []
        for _ in range(2):
            builder = DigestBuilder.from_settings(settings)
            summarize = builder.summarizer.summarize

            def spy(digest: Any, summarize: Any = summarize) -> Any:
                result = summarize(digest)
                captured.append((digest, result))
                return result

            builder.summarizer.summarize = spy  # type: ignore[method-assign]
            before = server.calls
            try:
                outcome = builder.build("qwen", DAY)
            finally:
                builder.close()
            runs.append((outcome, server.calls - before))
        requests = list(server.requests)
    (outcome, calls), (_, rerun_calls) = runs
    digest, result = captured[0]
    source = _source_text(digest.stories)
    prompt_estimate = sum(estimate_tokens(m["content"]) for body in requests for m in body["messages"])
    source_estimate = estimate_tokens(source)
    return {
        "stories_total": outcome.stories, "stories_summarized": len(digest.stories), "articles": outcome.articles,
        "generator": result.generator, "calls": calls, "rerun_calls": rerun_calls,
        "prompt_tokens_usage": result.prompt_tokens, "completion_tokens_usage": result.completion_tokens,
        "prompt_tokens_estimate": prompt_estimate, "source_tokens_estimate": source_estimate,
        "source_chars": len(source),
        "prompt_over_source": round(prompt_estimate / source_estimate, 3) if source_estimate else None,
        "prompt_breakdown": prompt_breakdown(requests, digest.stories),
        "calls_limit": len(digest.stories) + TARGETS["calls_over_stories"], "targets": TARGETS,
    }
