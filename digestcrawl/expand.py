"""Source URL templates → the concrete URLs to request for the selected models."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from urllib.parse import quote, quote_plus

from digestcrawl.config import ModelConfig, SourceConfig


def _queries(source: SourceConfig, models: Sequence[ModelConfig], scripts: tuple[str, ...]) -> list[str]:
    aliases = list(dict.fromkeys(a for m in models for a in m.aliases_in(scripts)))  # type: ignore[arg-type]
    quoted = [f'"{a}"' if " " in a else a for a in aliases]
    assert source.query is not None
    if source.query.join is None:
        return quoted
    return [source.query.join.join(quoted)] if quoted else []


def source_urls(source: SourceConfig, models: Sequence[ModelConfig], since: datetime) -> Iterator[str]:
    """Every URL a source asks for: one per locale × query × ticker its template names."""
    placeholders = source.url_placeholders
    locales = source.locales or {"": {}}
    tickers = list(dict.fromkeys(t for m in models for t in m.tickers)) if "ticker" in placeholders else [""]
    for params in locales.values():
        queries = [""]
        if "query" in placeholders:
            scripts = source.query.scripts if source.query else ("latin",)
            queries = _queries(source, models, scripts)
        for query in queries:
            for ticker in tickers:
                # Path placeholders (a Mastodon tag) are path-quoted, query values form-quoted.
                encode = quote if "/{query}" in source.url else quote_plus
                yield source.url.format(query=encode(query, safe=""), ticker=quote_plus(ticker),
                                        since_ts=int(since.timestamp()),
                                        **{k: quote_plus(v, safe=":") for k, v in params.items()})
