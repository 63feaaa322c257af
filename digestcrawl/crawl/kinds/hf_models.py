"""``kind: hf_models``: Hugging Face Hub models API answers → the repositories they list, with
their counters.

``GET https://huggingface.co/api/models?author=…&sort=…&direction=-1&limit=…`` answers a JSON
list of objects; without ``full``/``expand`` each carries ``id`` ("Qwen/Qwen3-8B"),
``downloads`` (the last 30 days), ``likes`` and ``createdAt`` (ISO 8601), among others (see
SOURCES.md). The spider stores one reading per repository, and an article for a repository
created within the crawl's window.
"""

from __future__ import annotations

from datetime import tzinfo

from digestcrawl.crawl.feeds import FeedError, load_json
from digestcrawl.crawl.kinds.base import Document, Parsed, RepoReading, SourceKind
from digestcrawl.text.dates import parse_datetime

HUB_URL = "https://huggingface.co/"
REPO_MAX = 200  # the repo_stats column; Hub ids are at most 96 characters
COUNT_MAX = 2**63 - 1  # a BIGINT: a larger count is no real reading


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= COUNT_MAX else None


def parse_hub_models(body: bytes, zone: tzinfo) -> list[RepoReading]:
    """The repositories of a models API answer; an entry without an ``owner/name`` id or a
    download count is skipped. FeedError when the answer is not a JSON list."""
    data = load_json(body)
    if not isinstance(data, list):
        raise FeedError(f"a JSON {type(data).__name__}, not a list of models")
    repos = []
    for item in data:
        if not isinstance(item, dict):
            continue
        repo, downloads = item.get("id"), _count(item.get("downloads"))
        if not isinstance(repo, str) or repo.count("/") != 1 or len(repo) > REPO_MAX or downloads is None:
            continue
        created = item.get("createdAt")
        repos.append(RepoReading(repo, HUB_URL + repo, downloads, _count(item.get("likes")),
                                 parse_datetime(created, zone) if isinstance(created, str) else None))
    return repos


def read_hub_models(document: Document) -> Parsed:
    return Parsed(repos=parse_hub_models(document.body, document.zone))


KIND = SourceKind("hf_models", read_hub_models, headers={"Accept": "application/json"})
