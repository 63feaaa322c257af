from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from digestcrawl.crawl.args import ArgumentError, CrawlArgs

TAIPEI = ZoneInfo("Asia/Taipei")
NOW = datetime(2026, 1, 19, 12, 0, tzinfo=UTC)
MODELS = ["qwen", "llama", "gemini"]
SOURCES = ["udn", "gnews"]


def parse(**raw: str) -> CrawlArgs:
    return CrawlArgs.parse(raw, MODELS, SOURCES, TAIPEI, NOW)


@pytest.mark.parametrize(("raw", "models", "since", "until", "sources"), [
    ({}, MODELS, NOW - timedelta(days=1), None, None),
    ({"model": "qwen"}, ["qwen"], NOW - timedelta(days=1), None, None),
    ({"model": "qwen, llama"}, ["qwen", "llama"], NOW - timedelta(days=1), None, None),
    ({"model": "all", "since": "36h"}, MODELS, NOW - timedelta(hours=36), None, None),
    ({"since": "2026-01-12", "until": "2026-01-20"}, MODELS, datetime(2026, 1, 12, tzinfo=TAIPEI),
     datetime(2026, 1, 20, tzinfo=TAIPEI), None),
    ({"since": "2026-01-12T00:00:00+00:00", "source": "udn"}, MODELS, datetime(2026, 1, 12, tzinfo=UTC),
     None, ["udn"]),
])
def test_valid_arguments(raw: dict[str, str], models: list[str], since: datetime, until: datetime | None,
                         sources: list[str] | None) -> None:
    args = parse(**raw)
    assert list(args.models) == models and args.since == since and args.until == until
    assert (list(args.sources) if args.sources else None) == sources
    assert args.since.tzinfo is not None


@pytest.mark.parametrize(("raw", "message"), [
    ({"model": "qwen,gpt9"}, "model: unknown ['gpt9']"),
    ({"model": ""}, "model: unknown"),
    ({"since": "yesterday-ish"}, "since: cannot read 'yesterday-ish'"),
    ({"since": "2026-01-20", "until": "2026-01-12"}, "until must be later than since"),
    ({"source": "udn,cnn"}, "source: unknown ['cnn']"),
    ({"modle": "qwen"}, "unknown spider argument(s): modle"),
])
def test_invalid_arguments_say_which_and_why(raw: dict[str, str], message: str) -> None:
    with pytest.raises(ArgumentError) as caught:
        parse(**raw)
    assert message in str(caught.value)
