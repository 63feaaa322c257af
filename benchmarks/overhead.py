"""B2 pipeline overhead: CPU per page of digestcrawl's per-page work vs trafilatura alone.

Measured in-process with ``time.process_time`` over the same HTML pages, each pass over all
pages repeated and the fastest pass kept (noise on a shared machine only ever adds time):

* ``digestcrawl``: what runs per page from the spider callback to the store — ``decode_html``,
  ``extract_page`` (one parse for JSON-LD, meta, dates and a fast precision-mode extraction), the
  normalize pipeline's ``clean_text`` (``digestcrawl.text.chars``), the relevance matcher for
  every model, and dedup's fingerprint, MinHash signature and LSH lookup/insert (for every page,
  even those relevance would drop: an upper bound);
* ``trafilatura``: ``trafilatura.extract`` on the HTML string with its default options (it
  parses the HTML itself), what the bare spider of B1 runs: the target's denominator;
* ``trafilatura_first_pass``: ``trafilatura.bare_extraction`` with the options of digestcrawl's
  first (precision) pass, for reference: digestcrawl adds a recall pass for short texts;
* ``lxml_parse``: ``trafilatura.utils.load_html`` alone.

The ratio digestcrawl / trafilatura is the target (≤ 0.5, issue 25). When it is over, a cProfile of the
digestcrawl pass names where the time goes (own time per function and per component). Also
reported: the share of pages on which each of ``extract_page``'s fallback passes ran
(``benchmarks.profile``, which breaks ``extract_page`` down by stage).
"""

from __future__ import annotations

import cProfile
import gzip
import pstats
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import trafilatura
from trafilatura.utils import load_html

from benchmarks.profile import fallback_rates
from digestcrawl.config import load_models
from digestcrawl.text.chars import clean_text
from digestcrawl.text.dedup import NearDuplicateIndex, fingerprint
from digestcrawl.text.encoding import decode_html
from digestcrawl.text.extraction import extract_page
from digestcrawl.text.relevance import RelevanceMatcher

TARGET = 0.5
ZONE = ZoneInfo("Asia/Taipei")


class DigestcrawlPage:
    """digestcrawl's per-page work, with fresh dedup state per pass."""

    def __init__(self) -> None:
        self.matcher = RelevanceMatcher(load_models())
        self.index = NearDuplicateIndex()
        # CPU seconds per stage, summed over the pass (the clock calls cost ~1 µs each).
        self.stages: dict[str, float] = dict.fromkeys(("decode", "extract_page", "normalize", "relevance", "dedup"),
                                                      0.0)

    def _lap(self, stage: str, since: float) -> float:
        now = time.process_time()
        self.stages[stage] += now - since
        return now

    def __call__(self, url: str, body: bytes) -> None:
        clock = time.process_time()
        html, _ = decode_html(body, "text/html; charset=utf-8")
        clock = self._lap("decode", clock)
        page = extract_page(html, url, ZONE)
        clock = self._lap("extract_page", clock)
        if page is None:
            return
        title, text = clean_text(page.title), clean_text(page.text, keep_paragraphs=True)
        clock = self._lap("normalize", clock)
        verdict = self.matcher.judge(title, f"{page.description or ''}\n{text}")
        clock = self._lap("relevance", clock)
        # The relevance pipeline drops off-topic pages before dedup; here every page pays for
        # dedup anyway, so the figure is an upper bound whatever the share of off-topic pages.
        del verdict
        fingerprint(text or title)
        signature = self.index.signature(text or title)
        if signature is not None and self.index.best_match(signature, exclude=url) is None:
            self.index.add(url, signature)
        self._lap("dedup", clock)


def bare_trafilatura(url: str, body: bytes) -> None:
    trafilatura.extract(body.decode("utf-8", errors="replace"), url=url)


def trafilatura_first_pass(url: str, body: bytes) -> None:
    trafilatura.bare_extraction(body.decode("utf-8", errors="replace"), url=url, include_comments=False,
                                include_tables=True, with_metadata=False, favor_precision=True, fast=True)


def lxml_parse(url: str, body: bytes) -> None:
    load_html(body.decode("utf-8", errors="replace"))


def _cpu_per_page(pages: list[tuple[str, bytes]], make: Callable[[], Callable[[str, bytes], None]],
                  repeats: int) -> tuple[float, Callable[[str, bytes], None]]:
    """The fastest pass's CPU seconds per page, and the worker of that pass."""
    best, best_work = float("inf"), make()
    for _ in range(repeats):
        work = make()
        started = time.process_time()
        for url, body in pages:
            work(url, body)
        elapsed = time.process_time() - started
        if elapsed < best:
            best, best_work = elapsed, work
    return best / len(pages), best_work


COMPONENTS = (("trafilatura", "trafilatura extraction"), ("htmldate", "htmldate"),
              ("justext", "trafilatura extraction"),
              ("opencc", "OpenCC folding"), ("digestcrawl/text/dedup", "MinHash/LSH"),
              ("charset_normalizer", "charset detection"),
              ("digestcrawl/relevance", "relevance"), ("digestcrawl/dedup", "dedup"),
              ("digestcrawl/extraction", "JSON-LD/meta/dates"), ("digestcrawl/dates", "JSON-LD/meta/dates"),
              ("digestcrawl/encoding", "decode"), ("lxml", "lxml"), ("pipelines/normalize", "normalize"),
              ("re/", "regex (stdlib)"), ("json/", "json"))


def profile(pages: list[tuple[str, bytes]], top: int = 12) -> dict[str, Any]:
    """Own (tottime) time per function and per component of the digestcrawl pass."""
    work = DigestcrawlPage()
    profiler = cProfile.Profile()
    profiler.enable()
    for url, body in pages:
        work(url, body)
    profiler.disable()
    stats = pstats.Stats(profiler)
    entries = stats.stats  # type: ignore[attr-defined]
    total = sum(row[2] for row in entries.values()) or 1.0
    components: dict[str, float] = defaultdict(float)
    functions = []
    for (filename, line, name), (_cc, _nc, tottime, cumtime, _callers) in entries.items():
        label = next((group for key, group in COMPONENTS if key in filename), "other")
        if filename == "~":
            label = "C builtins (lxml/re/str)"
        components[label] += tottime
        functions.append((tottime, cumtime, f"{Path(filename).name}:{line}({name})"))
    functions.sort(reverse=True)
    cumulative = sorted(((row[3], f"{Path(k[0]).name}:{k[1]}({k[2]})") for k, row in entries.items()), reverse=True)
    return {
        "components_share": {k: round(v / total, 3) for k, v in sorted(components.items(), key=lambda kv: -kv[1])},
        "top_own_time": [{"function": f, "share": round(t / total, 3)} for t, _, f in functions[:top]],
        "top_cumulative": [{"function": f, "share": round(t / total, 3)} for t, f in cumulative[:top]
                           if not f.startswith(("~:0(<built-in method builtins.exec", "profile"))],
    }


def run(page_sets: dict[str, list[tuple[str, bytes]]], repeats: int = 3) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, pages in page_sets.items():
        if not pages:
            continue
        ours, work = _cpu_per_page(pages, DigestcrawlPage, repeats)
        bare, _ = _cpu_per_page(pages, lambda: bare_trafilatura, repeats)
        first_pass, _ = _cpu_per_page(pages, lambda: trafilatura_first_pass, repeats)
        parse, _ = _cpu_per_page(pages, lambda: lxml_parse, repeats)
        stages = work.stages if isinstance(work, DigestcrawlPage) else {}
        row: dict[str, Any] = {
            "pages": len(pages), "digestcrawl_ms": round(ours * 1000, 2), "trafilatura_ms": round(bare * 1000, 2),
            "trafilatura_first_pass_ms": round(first_pass * 1000, 2),
            "lxml_parse_ms": round(parse * 1000, 2), "ratio": round(ours / bare, 3), "target": TARGET,
            "stages_ms": {k: round(v / len(pages) * 1000, 2) for k, v in stages.items()},
            "fallback_rate": fallback_rates(pages),
        }
        if ours / bare > TARGET:
            row["profile"] = profile(pages)
        results[name] = row
    return results


def benchmark_pages(data_dir: Path, limit: int | None = None) -> list[tuple[str, bytes]]:
    """The real pages of the article-extraction benchmark (URL, HTML bytes)."""
    from benchmarks.quality import load_truth

    truth = load_truth(data_dir)
    keys = sorted(truth)[:limit] if limit else sorted(truth)
    return [(truth[key]["url"], gzip.decompress((data_dir / "html" / f"{key}.html.gz").read_bytes())) for key in keys]
