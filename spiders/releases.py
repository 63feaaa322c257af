"""The ``releases`` spider: every ``category: release`` and ``category: paper`` source in
sources.yaml (Hugging Face repos and their counters, GitHub releases, arXiv papers)."""

from __future__ import annotations

from spiders.base import SourceSpider


class ReleasesSpider(SourceSpider):
    name = "releases"
    categories = ("release", "paper")
