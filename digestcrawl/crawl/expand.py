"""Source URL templates → the concrete URLs to request for the selected models."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, quote_plus

from digestcrawl.config import ModelConfig, SourceConfig


@dataclass(frozen=True)
class SourceURL:
    """A URL to request, and the model it is first-party for when it was expanded from that
    model's own ``{hf_author}`` or ``{github_repo}`` (``label``: the account or repository)."""

    url: str
    owner: str | None = None
    label: str | None = None


def _queries(source: SourceConfig, models: Sequence[ModelConfig], scripts: tuple[str, ...]) -> list[str]:
    aliases = list(dict.fromkeys(a for m in models for a in m.aliases_in(scripts)))  # type: ignore[arg-type]
    quoted = [f'"{a}"' if " " in a else a for a in aliases]
    assert source.query is not None
    if source.query.join is None:
        return quoted
    return [source.query.join.join(quoted)] if quoted else []


def _owners(placeholder: str | None, models: Mapping[str, ModelConfig]) -> list[tuple[str | None, str]]:
    """(model, account) for each account the owner placeholder expands to; [(None, "")] for
    a URL without one. An account listed by two models belongs to the first."""
    if placeholder is None:
        return [(None, "")]
    owners: dict[str, str] = {}
    for key, model in models.items():
        accounts = model.hf_authors if placeholder == "hf_author" else model.github_repos
        for account in accounts:
            owners.setdefault(account, key)
    return [(key, account) for account, key in owners.items()]


def source_urls(source: SourceConfig, models: Mapping[str, ModelConfig], since: datetime) -> Iterator[SourceURL]:
    """Every URL a source asks for: one per locale × query × ticker × model account its
    template names."""
    placeholders = source.url_placeholders
    locales = source.locales or {"": {}}
    selected = list(models.values())
    tickers = list(dict.fromkeys(t for m in selected for t in m.tickers)) if "ticker" in placeholders else [""]
    owner_placeholder = source.owner_placeholder
    for params in locales.values():
        queries = [""]
        if "query" in placeholders:
            scripts = source.query.scripts if source.query else ("latin",)
            queries = _queries(source, selected, scripts)
        for query in queries:
            for ticker in tickers:
                for owner, account in _owners(owner_placeholder, models):
                    # Path placeholders (a Mastodon tag) are path-quoted, query values form-quoted;
                    # an account is a path ("QwenLM/Qwen3") whose characters need no quoting.
                    encode = quote if "/{query}" in source.url else quote_plus
                    url = source.url.format(query=encode(query, safe=""), ticker=quote_plus(ticker),
                                            since_ts=int(since.timestamp()),
                                            hf_author=quote(account), github_repo=quote(account),
                                            **{k: quote_plus(v, safe=":") for k, v in params.items()})
                    yield SourceURL(url, owner, account or None)
