"""The per-language words of a post and its image (``templates/headings.yaml``)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from markupsafe import Markup

from digestcrawl.digest.model import PostCounts


@lru_cache(maxsize=1)
def headings() -> dict[str, dict[str, Any]]:
    text = resources.files("templates").joinpath("headings.yaml").read_text("utf-8")
    data: dict[str, dict[str, Any]] = yaml.safe_load(text)
    return data


def follow_up_mark(language: str, day: date) -> str:
    """The mark after a story that continues one of ``day`` (the offline summary writes it too)."""
    mark: str = headings()[language]["follow_up"].format(day=day.isoformat())
    return mark


def post_labels(language: str) -> dict[str, Markup]:
    words = headings()[language]
    labels = {key: Markup(value) for key, value in words.items() if isinstance(value, str)}
    before, _, after = labels["inline_sources"].partition("{links}")
    return {**labels, "inline_open": Markup(before), "inline_close": Markup(after)}


def written_by_llm(generator: str) -> bool:
    return generator.startswith("llm:")


def footer(language: str, counts: PostCounts, generator: str) -> Markup:
    """To the reader: who wrote the post, from how many articles and sources. Anything but an
    LLM's digest says in so many words that no LLM rewrote it (front matter ``generator`` names it)."""
    key = "footer_llm" if written_by_llm(generator) else "footer_extractive"
    return Markup(headings()[language][key].format(articles=counts.articles, sources=counts.sources))


def summary_label(language: str, by_llm: bool) -> str:
    """The summary box's label: "AI 摘要" only over a summary a language model wrote."""
    return str(headings()[language]["summary_llm" if by_llm else "summary_extractive"])
