"""Where ``extract_page`` spends its CPU, stage by stage, on the article benchmark's real pages.

    .venv/bin/python -m benchmarks.profile [--data DIR] [--limit N] [--repeats N] [--json FILE]

Each stage is a function of ``digestcrawl.text.extraction`` (or a library call it makes), timed
with ``time.process_time`` around every call; a stage's time is its own, without the stages it
calls (the parse inside a fallback is counted as parse). The passes over all pages are repeated
and, per stage, the fastest pass is kept (noise on a shared machine only ever adds time). Also
counted: on how many pages each stage ran (a fallback's rate). B2 reports the rates from here.
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks.quality import AEB, DATA

ZONE = ZoneInfo("UTC")
# (object path in digestcrawl.text.extraction, stage); a stage named by a function of the
# call's arguments tells the trafilatura passes apart.
STAGES: tuple[tuple[str, str], ...] = (
    ("_parse", "parse (lxml)"),
    ("_stated_offset", "metadata: JSON-LD, meta tags, declared dates"),
    ("_metadata", "metadata: JSON-LD, meta tags, declared dates"),
    ("PageText.read", "visible text (PageText.read)"),
    ("_trafilatura_text", "trafilatura"),
    ("_without_linked_cells", "fallback: readability on table rows"),
    ("_readability_text", "fallback: readability on table rows"),
    ("guess_language", "language"),
    ("PageText.date_near", "date: text near the headline"),
    ("load_markup", "date: htmldate"),
    ("htmldate.find_date", "date: htmldate"),
    ("extract_page", "other (extract_page's own code)"),
)


def _trafilatura_pass(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    precision = args[2] if len(args) > 2 else kwargs.get("precision")
    fast = args[3] if len(args) > 3 else kwargs.get("fast", True)
    tables = args[4] if len(args) > 4 else kwargs.get("tables", True)
    if precision is True:
        return "trafilatura: precision pass"
    if precision is False:
        return "fallback: trafilatura recall pass (short text)"
    if not tables:
        return "fallback: trafilatura full pass without tables (layout table)"
    return "fallback: trafilatura full pass (sparse text)" if not fast else "trafilatura: other pass"


class StageClock:
    """Own CPU time and calls per stage, while ``installed``."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.pages_with: dict[str, set[int]] = defaultdict(set)
        self.page = 0
        self._stack: list[list[Any]] = []  # [stage, started, time of the stages it called]

    def wrap(self, function: Callable[..., Any], stage: str) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            name = _trafilatura_pass(args, kwargs) if stage == "trafilatura" else stage
            frame = [name, time.process_time(), 0.0]
            self._stack.append(frame)
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.process_time() - frame[1]
                self._stack.pop()
                self.seconds[name] += elapsed - frame[2]
                self.pages_with[name].add(self.page)
                if self._stack:
                    self._stack[-1][2] += elapsed
        return timed

    @contextmanager
    def installed(self) -> Iterator[StageClock]:
        from digestcrawl.text import extraction

        undo: list[tuple[Any, str, Any]] = []
        for path, stage in STAGES:
            *parents, attribute = path.split(".")
            owner: Any = extraction
            for parent in parents:
                owner = getattr(owner, parent)
            original = owner.__dict__.get(attribute) if isinstance(owner, type) else getattr(owner, attribute, None)
            if original is None:  # a stage this version of the code does not have
                continue
            undo.append((owner, attribute, original))
            if isinstance(original, classmethod):
                setattr(owner, attribute, classmethod(self.wrap(original.__func__, stage)))
            else:
                setattr(owner, attribute, self.wrap(original, stage))
        try:
            yield self
        finally:
            for owner, attribute, original in reversed(undo):
                setattr(owner, attribute, original)


def measure(pages: list[tuple[str, bytes]], repeats: int = 3) -> dict[str, Any]:
    """CPU ms per page for each stage (fastest of ``repeats`` passes), and the share of pages
    each stage ran on."""
    from digestcrawl.text import extraction
    from digestcrawl.text.encoding import decode_html

    htmls = [(url, decode_html(body, "text/html; charset=utf-8")[0]) for url, body in pages]
    best: dict[str, float] = {}
    totals: list[float] = []
    ran: Counter[str] = Counter()
    for _ in range(repeats):
        clock = StageClock()
        with clock.installed():
            started = time.process_time()
            for clock.page, (url, html) in enumerate(htmls):
                extraction.extract_page(html, url, ZONE)
            totals.append(time.process_time() - started)
        for stage, seconds in clock.seconds.items():
            best[stage] = min(best.get(stage, seconds), seconds)
        ran = Counter({stage: len(seen) for stage, seen in clock.pages_with.items()})
    count = max(1, len(htmls))
    stages = {stage: round(seconds / count * 1000, 2) for stage, seconds in sorted(best.items(), key=lambda kv: -kv[1])}
    return {"pages": len(htmls), "extract_page_ms": round(min(totals) / count * 1000, 2),
            "stages_ms": stages, "pages_share": {stage: round(ran[stage] / count, 3) for stage in stages}}


def fallback_rates(pages: list[tuple[str, bytes]]) -> dict[str, float]:
    """The share of pages on which each fallback pass ran (one instrumented pass)."""
    shares = measure(pages, repeats=1)["pages_share"]
    return {stage.removeprefix("fallback: "): share for stage, share in shares.items() if stage.startswith("fallback")}


def main(argv: list[str] | None = None) -> int:
    from benchmarks.overhead import benchmark_pages

    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help=f"the shared data directory (default {DATA})")
    parser.add_argument("--limit", type=int, help="only the first N benchmark pages")
    parser.add_argument("--repeats", type=int, default=3, help="passes over the pages; the fastest is kept per stage")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    result = measure(benchmark_pages(args.data / AEB, args.limit), args.repeats)
    print(f"extract_page on {result['pages']} real pages: {result['extract_page_ms']} ms CPU per page "
          "(stages timed, fastest pass per stage; the clocks add a little)")
    print(f"{'stage':<66} {'ms/page':>8} {'pages':>6}")
    for stage, ms in result["stages_ms"].items():
        print(f"{stage:<66} {ms:>8.2f} {result['pages_share'][stage]:>6.0%}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
