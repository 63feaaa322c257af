"""The per-language words of a post and its image (``templates/headings.yaml``)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from markupsafe import Markup

from digestcrawl.digest.publish.markdown import escape_markdown


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


def footer(language: str, sources: int, generator: str) -> Markup:
    # Anything but an LLM's digest says in so many words that no LLM wrote it.
    key = "footer_llm" if generator.startswith("llm:") else "footer_extractive"
    return Markup(headings()[language][key].format(n=sources, generator=escape_markdown(generator)))
