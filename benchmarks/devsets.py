"""Scores on the two development sets taken from the libraries' own evaluations (issue 24),
digestcrawl beside the library on the same pages, on each half of a fixed split and overall.

* ``dates``: ``dates-dev`` (267 pages, htmldate's evaluation): the exact day, digestcrawl's
  crawl path (``decode_html`` → ``extract_page``, the URL given, naive dates in UTC as
  ``scrapy extract`` reads them) against htmldate 1.11 ``find_date(bytes, url=URL,
  original_date=True, extensive_search=True)``; and how often each of our date origins is right.
* ``zh``: ``zh-web-extraction-dev`` (23 pages): bag-of-characters F1 and the exact day, as
  ``benchmarks.quality`` scores them, by half, beside trafilatura (its own decoding and ours),
  readability-lxml (the peers venv, when installed: ``python -m benchmarks.quality --install``)
  and htmldate (``find_date(original_date=True)``).
* ``snippets``: ``multilingual-extraction-dev`` (330 pages, trafilatura's evaluation): snippet
  precision, recall and F1 over the pooled counts (a "with" snippet found is a true positive,
  one missing a false negative, a "without" snippet found a false positive; whitespace
  normalised), digestcrawl's text against ``trafilatura.extract(bytes, url=URL)``.

The split: a page is in half A when the first byte of the SHA-1 of its file name
(``pages/NNN.html.gz``; ``ID.html`` in the Chinese set) is even, else in half B. It never
changes, so a rule fitted to one half can be checked on the other.

    .venv/bin/python -m benchmarks.devsets dates [--data DIR] [--json FILE] [--misses]
    .venv/bin/python -m benchmarks.devsets snippets [--data DIR] [--json FILE]
    .venv/bin/python -m benchmarks.devsets zh [--data DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks.quality import DATA

DATES = "dates-dev"
SNIPPETS = "multilingual-extraction-dev"
ZH = "zh-web-extraction-dev"
SPACES = re.compile(r"\s+")


def half(file: str) -> str:
    """The fixed half (A or B) a page of a development set belongs to."""
    return "A" if hashlib.sha1(file.encode()).digest()[0] % 2 == 0 else "B"


def load(data_dir: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (data_dir / "truth.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    for row in rows:
        row["body"] = gzip.decompress((data_dir / row["file"]).read_bytes())
        row["half"] = half(row["file"])
    return rows


def by_half(rows: list[dict[str, Any]], score: Callable[[list[dict[str, Any]]], dict[str, Any]]
            ) -> dict[str, dict[str, Any]]:
    return {name: score([row for row in rows if name == "all" or row["half"] == name]) for name in ("A", "B", "all")}


# --- dates -------------------------------------------------------------------------------------

def ours_dated(body: bytes, url: str) -> tuple[date | None, str | None]:
    from digestcrawl.text.encoding import decode_html
    from digestcrawl.text.extraction import extract_page

    page = extract_page(decode_html(body)[0], url, ZoneInfo("UTC"))
    if page is None or page.published is None:
        return None, None
    return page.published.date(), page.published_from


def htmldate_dated(body: bytes, url: str) -> tuple[date | None, str | None]:
    from htmldate import find_date

    found = find_date(body, url=url, original_date=True, extensive_search=True)
    return (date.fromisoformat(found), "htmldate") if found else (None, None)


def _timed(rows: list[dict[str, Any]], name: str, run: Callable[[bytes, str], Any]) -> float:
    started = time.process_time()
    for row in rows:
        row[name] = run(row["body"], row["url"])
    return (time.process_time() - started) * 1000 / max(1, len(rows))


def day_scores(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"pages": len(rows)}
    for name in ("digestcrawl", "htmldate"):
        right = sum(row[name][0] == date.fromisoformat(row["date"]) for row in rows)
        out[name] = {"right": right, "exact_day": round(right / max(1, len(rows)), 3),
                     "none": sum(row[name][0] is None for row in rows)}
    origins: Counter[str] = Counter()
    right_by_origin: Counter[str] = Counter()
    for row in rows:
        origin = row["digestcrawl"][1] or "none"
        origins[origin] += 1
        right_by_origin[origin] += row["digestcrawl"][0] == date.fromisoformat(row["date"])
    out["by_origin"] = {origin: f"{right_by_origin[origin]}/{count}" for origin, count in origins.most_common()}
    return out


def dates(data_dir: Path) -> dict[str, Any]:
    rows = load(data_dir)
    cost = {name: round(_timed(rows, name, run), 2)
            for name, run in (("digestcrawl", ours_dated), ("htmldate", htmldate_dated))}
    return {"cpu_ms_per_page": cost, "halves": by_half(rows, day_scores),
            "misses": [{"file": row["file"], "url": row["url"], "truth": row["date"],
                        "digestcrawl": [str(row["digestcrawl"][0]), row["digestcrawl"][1]],
                        "htmldate": str(row["htmldate"][0])}
                       for row in rows if row["digestcrawl"][0] != date.fromisoformat(row["date"])]}


# --- snippets ----------------------------------------------------------------------------------

def ours_text(body: bytes, url: str) -> str:
    from digestcrawl.text.chars import clean_text
    from digestcrawl.text.encoding import decode_html
    from digestcrawl.text.extraction import extract_page

    page = extract_page(decode_html(body)[0], url, ZoneInfo("UTC"))
    return clean_text(page.text, keep_paragraphs=True) if page else ""


def trafilatura_text(body: bytes, url: str) -> str:
    import trafilatura

    return trafilatura.extract(body, url=url) or ""


def _normal(text: str) -> str:
    return SPACES.sub(" ", text).strip()


def snippet_counts(text: str, with_: Iterable[str], without: Iterable[str]) -> tuple[int, int, int]:
    """(true positives, false negatives, false positives) of one page, as trafilatura counts them."""
    found = _normal(text)
    wanted = [_normal(s) for s in with_]
    unwanted = [_normal(s) for s in without]
    tp = sum(s in found for s in wanted)
    return tp, len(wanted) - tp, sum(s in found for s in unwanted)


def snippet_scores(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"pages": len(rows)}
    for name in ("digestcrawl", "trafilatura"):
        tp, fn, fp = (sum(column) for column in zip(*(snippet_counts(row[name], row["with"], row["without"])
                                                       for row in rows), strict=True))
        precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
        out[name] = {"precision": round(precision, 3), "recall": round(recall, 3),
                     "f1": round(2 * precision * recall / (precision + recall), 3) if tp else 0.0}
    return out


def snippets(data_dir: Path) -> dict[str, Any]:
    rows = load(data_dir)
    cost = {name: round(_timed(rows, name, run), 2)
            for name, run in (("digestcrawl", ours_text), ("trafilatura", trafilatura_text))}
    return {"cpu_ms_per_page": cost, "halves": by_half(rows, snippet_scores),
            "worst": sorted(({"file": row["file"], "url": row["url"],
                              "digestcrawl": snippet_counts(row["digestcrawl"], row["with"], row["without"]),
                              "trafilatura": snippet_counts(row["trafilatura"], row["with"], row["without"])}
                             for row in rows), key=lambda r: r["trafilatura"][0] - r["digestcrawl"][0]
                            + r["digestcrawl"][2] - r["trafilatura"][2], reverse=True)[:30]}


# --- Chinese pages ------------------------------------------------------------------------------

def zh(data_dir: Path) -> dict[str, Any]:
    from benchmarks.quality import (
        ZH_ZONE,
        char_f1,
        crawl_path,
        htmldate_day,
        readability_python,
        run_in_process,
        run_readability,
        trafilatura_extract,
        trafilatura_on_our_decoding,
        truth_day,
    )

    keys = sorted(path.stem for path in (data_dir / "original").glob("*.html"))
    files = {key: data_dir / "original" / f"{key}.html" for key in keys}
    pages = {key: (files[key].read_bytes(), f"http://zh-dev.invalid/{key}.html") for key in keys}
    truth = {key: (data_dir / "cleaned" / f"{key}.txt").read_text(encoding="utf-8") for key in keys}
    days = {key: truth_day((data_dir / "date" / f"{key}.txt").read_text(encoding="utf-8")) for key in keys}
    texts: dict[str, dict[str, str]] = {}
    found: dict[str, dict[str, date | None]] = {}
    cost: dict[str, float] = {}
    for name, extractor in (("digestcrawl", crawl_path(ZH_ZONE)), ("trafilatura", trafilatura_extract),
                            ("trafilatura on our decoding", trafilatura_on_our_decoding),
                            ("htmldate", htmldate_day)):
        texts[name], found[name], seconds = run_in_process(pages, extractor)
        cost[name] = round(seconds * 1000, 2)
    readability = readability_python(install=False)
    if readability:
        texts["readability-lxml"], seconds = run_readability(readability, files)
        cost["readability-lxml"] = round(seconds * 1000, 2)

    def scores(subset: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"pages": len(subset)}
        for name, got in texts.items():
            if name != "htmldate":
                out[name] = char_f1({key: truth[key] for key in subset}, got)["f1"]
        for name in ("digestcrawl", "htmldate"):
            dated = [key for key in subset if days[key]]
            out[f"{name} days"] = f"{sum(found[name][key] == days[key] for key in dated)}/{len(dated)}"
        return out
    return {"cpu_ms_per_page": cost,
            "halves": {name: scores([key for key in keys if name == "all" or half(f"{key}.html") == name])
                       for name in ("A", "B", "all")}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.devsets", description=__doc__.split("\n")[0])
    parser.add_argument("set", choices=("dates", "snippets", "zh"))
    parser.add_argument("--data", type=Path, default=DATA, help=f"the shared data directory (default {DATA})")
    parser.add_argument("--json", type=Path, help="also write the figures (and each miss) here")
    parser.add_argument("--misses", action="store_true", help="print the pages digestcrawl gets wrong")
    args = parser.parse_args(argv)
    results = {"dates": lambda: dates(args.data / DATES), "snippets": lambda: snippets(args.data / SNIPPETS),
               "zh": lambda: zh(args.data / ZH)}[args.set]()
    for name, scores in results["halves"].items():
        print(f"half {name}: {json.dumps(scores, ensure_ascii=False)}")
    print(f"cpu ms/page: {json.dumps(results['cpu_ms_per_page'])}")
    if args.misses:
        for miss in results.get("misses", results.get("worst", [])):
            print(json.dumps(miss, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
