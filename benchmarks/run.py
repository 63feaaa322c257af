"""Run the benchmarks B1–B8, print a table, write JSON under benchmarks/results/.

    .venv/bin/python -m benchmarks.run            # full: 5,000 pages, dedup up to 1M
    .venv/bin/python -m benchmarks.run --quick    # 1,000 pages, < 10 minutes on 2 cores
    .venv/bin/python -m benchmarks.run --smoke    # tiny, for CI: checks the harness, not timings
    .venv/bin/python -m benchmarks.run --quick --only B1,B3

B1 throughput and B5 memory share one set of crawls of the generated web (benchmarks/localweb.py);
B2 runs in-process; B3 is benchmarks/dedup_scale.py; B4 crawls the fixture web and digests it with
the local LLM server; B6 is benchmarks/quality.py on the shared data (article-extraction-benchmark and
zh-web-extraction-dev under ``--data``, default ../shared/data beside the repository); B7 is
benchmarks/digestspeed.py, the offline digest of a 200-article day (target: under 5 s); B8 is
benchmarks/stories.py: story grouping F1 on the labelled pairs under ``--data``
(same-story-pairs/pairs.jsonl) and the time to group a generated 2,000-article day (under 10 s).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import quality
from benchmarks.report import format_table

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
DATA = quality.DATA  # the shared data directory (--data)
SECTIONS = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8")
RSS_TARGET_MB = 300


@dataclass(frozen=True)
class Mode:
    name: str
    pages: int  # generated article pages (B1, B5)
    b2_pages: int  # generated pages measured in-process (B2)
    real_pages: int | None  # benchmark pages in B2 and B6 (None: all)
    dedup_sizes: tuple[int, ...]
    install_peers: bool  # create news-please's venv when missing
    repeats: int


MODES = {
    "full": Mode("full", 5000, 500, None, (10_000, 100_000, 1_000_000), True, 3),
    "quick": Mode("quick", 1000, 200, None, (10_000, 100_000), True, 2),
    "smoke": Mode("smoke", 60, 30, 10, (2_000,), False, 1),
}


def machine() -> dict[str, Any]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)}


def crawl_sections(mode: Mode, work: Path, only: set[str], data: Path) -> dict[str, Any]:
    """B1 and B5 from one generated web; B2's generated pages from the same web."""
    from benchmarks import localweb, overhead, throughput

    out: dict[str, Any] = {}
    started = time.perf_counter()
    web = localweb.generate(mode.pages)
    with web:
        out["web"] = {**web.summary(), "generate_s": round(time.perf_counter() - started, 1)}
        if "B1" in only or "B5" in only:
            capacity = localweb.capacity(web, seconds=1.0 if mode.name == "smoke" else 3.0)
            if "B1" in only:
                b1 = throughput.run(web, work / "b1", mode.install_peers)
            else:
                b1 = {"crawlers": {"digestcrawl": throughput.digestcrawl(web, work / "b1" / "digestcrawl")}}
            demand = max((row["requests"] / row["wall_s"] for row in b1["crawlers"].values()
                          if row.get("wall_s")), default=0.0)
            out["server"] = {"capacity_rps": capacity, "peak_crawl_demand_rps": round(demand, 1),
                             "utilisation": round(demand / capacity, 3) if capacity else None}
            ours = b1["crawlers"]["digestcrawl"]
            if "B1" in only:
                out["B1"] = b1
            out["B5"] = {"pages": ours["pages"], "peak_rss_mb": ours["peak_rss_mb"], "peak_pss_mb": ours["peak_pss_mb"],
                         "per_process": ours["per_process"], "target_mb": RSS_TARGET_MB}
        if "B2" in only:
            generated = [(web.url(page), page.body) for page in web.pages[: mode.b2_pages]]
            sets = {"generated": generated}
            if (data / quality.AEB).is_dir():
                sets["real"] = overhead.benchmark_pages(data / quality.AEB, mode.real_pages)
            out["B2"] = overhead.run(sets, mode.repeats)
    return out


def run_sections(mode: Mode, work: Path, only: set[str], data: Path = DATA) -> dict[str, Any]:
    results: dict[str, Any] = {}
    timings: dict[str, float] = {}

    def timed(name: str, action: Callable[[], Any]) -> None:
        started = time.perf_counter()
        try:
            results[name] = action()
        except Exception as exc:  # one broken section must not hide the others' figures
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
        timings[name] = round(time.perf_counter() - started, 1)

    if only & {"B1", "B2", "B5"}:
        started = time.perf_counter()
        results.update(crawl_sections(mode, work, only, data))
        timings["B1+B2+B5"] = round(time.perf_counter() - started, 1)
    if "B3" in only:
        from benchmarks import dedup_scale

        timed("B3", lambda: {"sizes": dedup_scale.run(mode.dedup_sizes)})
    if "B4" in only:
        from benchmarks import llmcost

        timed("B4", lambda: llmcost.run(work / "b4"))
    if "B7" in only:
        from benchmarks import digestspeed

        timed("B7", lambda: digestspeed.run(work / "b7", 50 if mode.name == "smoke" else digestspeed.ARTICLES))
    if "B8" in only:
        from benchmarks import stories

        smoke = mode.name == "smoke"
        timed("B8", lambda: stories.run(data / "same-story-pairs" / "pairs.jsonl", 60 if smoke else None,
                                        200 if smoke else stories.SPEED_ARTICLES))
    if "B6" in only:
        if data.is_dir():
            timed("B6", lambda: quality.run(data, mode.real_pages, mode.install_peers))
        else:
            results["B6"] = {"skipped": f"no shared data at {data}"}
    for name in SECTIONS:
        results.setdefault(name, {"skipped": "not selected (--only)"})
    results["seconds"] = timings
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="1,000 pages, dedup to 100k (< 10 min)")
    size.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma list of sections, e.g. B1,B3")
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory for the JSON results")
    parser.add_argument("--work", type=Path, help="scratch directory (default: a temporary one)")
    parser.add_argument("--data", type=Path, default=DATA, help=f"the shared data directory (default {DATA})")
    args = parser.parse_args(argv)
    mode = MODES["quick" if args.quick else "smoke" if args.smoke else "full"]
    only = {part.strip().upper() for part in args.only.split(",") if part.strip()}
    unknown = only - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="digestcrawl-bench-") as scratch:
        work = args.work or Path(scratch)
        results = run_sections(mode, work, only, args.data)
    document = {"mode": mode.name, "started": started.isoformat(timespec="seconds"),
                "wall_s": round((datetime.now(UTC) - started).total_seconds(), 1),
                "machine": machine(), "settings": vars(mode) | {"dedup_sizes": list(mode.dedup_sizes)}, **results}
    print(format_table(document))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{mode.name}-{started:%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    print(f"\nResults: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
