"""B6: extraction quality on the shared development data, digestcrawl beside its peers, in one run.

Two sets under the shared data directory (default ``../shared/data`` beside the repository;
``--data``), each scored with the metric of its own README:

* ``article-extraction-benchmark`` (181 English-language pages): \\w+ tokens, case-insensitive,
  4-token shingles as multisets, macro precision and recall, F1 of the two means, accuracy = share
  of documents whose token lists are identical. The published peer outputs are re-scored first
  (they must reproduce the README's figures). Its truth has no dates: days are scored on the
  pages whose URL names one (2019/11/18), each page given a neutral URL, so that the day must
  come from the page itself (its canonical link included, as htmldate reads it too).
* ``zh-web-extraction-dev`` (23 Chinese pages, 2004–2022): bag-of-characters precision, recall
  and F1 per page (non-space characters, multiset overlap), averaged over pages, an empty result
  scoring 0; and the exact publication day, over the pages whose truth names a day.

The systems, on the same raw bytes: digestcrawl's crawl path (``decode_html`` →
``extract_page`` → ``clean_text``), ``trafilatura.extract`` with its defaults, readability-lxml
0.9 (in ``benchmarks/.venv-peers``, as a subprocess: not a dependency of digestcrawl) and,
for days, htmldate (``find_date(original_date=True)``). Each peer decodes the bytes itself; on
the Chinese pages trafilatura is also given digestcrawl's decoding, to tell its extraction from
its charset detection.

    .venv/bin/python -m benchmarks.quality [--data DIR] [--limit N] [--json FILE]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
AEB = "article-extraction-benchmark"
ZH = "zh-web-extraction-dev"
ZH_ZONE = ZoneInfo("Asia/Shanghai")
READABILITY = ["readability-lxml==0.9", "lxml_html_clean"]
NO_READABILITY = f"not installed: {' '.join(READABILITY)} into benchmarks/.venv-peers (--install)"
DAY = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})")
TOKEN = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Score:
    f1: float
    precision: float
    recall: float
    accuracy: float
    documents: int


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text.lower())


def shingles(words: list[str], size: int = 4) -> Counter[tuple[str, ...]]:
    if len(words) < size:
        return Counter([tuple(words)])
    return Counter(tuple(words[i:i + size]) for i in range(len(words) - size + 1))


def score(truth: dict[str, str], predicted: dict[str, str]) -> Score:
    precisions, recalls, exact = [], [], 0
    for key, expected in truth.items():
        got = predicted.get(key, "") or ""
        true_words, got_words = tokens(expected), tokens(got)
        exact += true_words == got_words
        true_shingles, got_shingles = shingles(true_words), shingles(got_words)
        tp = sum((true_shingles & got_shingles).values())
        fp = sum((got_shingles - true_shingles).values())
        fn = sum((true_shingles - got_shingles).values())
        if fp == 0 and fn == 0:
            precisions.append(1.0)
            recalls.append(1.0)
            continue
        if got_words:
            precisions.append(tp / (tp + fp) if tp + fp else 0.0)
        recalls.append(tp / (tp + fn) if tp + fn else 0.0)
    precision = sum(precisions) / len(precisions)
    recall = sum(recalls) / len(recalls)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(f1, precision, recall, exact / len(truth), len(truth))


def load_truth(data_dir: Path) -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads((data_dir / "ground-truth.json").read_text(encoding="utf-8"))
    return data


def load_peer(path: Path) -> dict[str, str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and "output" in data:
        data = data["output"]
    return {key: (value.get("articleBody") if isinstance(value, dict) else value) or ""
            for key, value in data.items()}


# One page in: (body text, publication day or None).
Extractor = Callable[[bytes, str], tuple[str, date | None]]


def crawl_path(zone: ZoneInfo) -> Extractor:
    """digestcrawl's own path from response bytes (no charset header: the saved pages have none)."""
    from digestcrawl.text.chars import clean_text
    from digestcrawl.text.encoding import decode_html
    from digestcrawl.text.extraction import extract_page

    def extract(body: bytes, url: str) -> tuple[str, date | None]:
        html, _ = decode_html(body)
        page = extract_page(html, url, zone)
        if page is None:
            return "", None
        # The day in the page's own offset: the day the publisher wrote (naive dates are in zone).
        return clean_text(page.text, keep_paragraphs=True), page.published.date() if page.published else None
    return extract


def trafilatura_extract(body: bytes, url: str) -> tuple[str, date | None]:
    import trafilatura

    return trafilatura.extract(body, url=url) or "", None


def trafilatura_on_our_decoding(body: bytes, url: str) -> tuple[str, date | None]:
    """trafilatura's extraction alone, apart from its own charset detection."""
    import trafilatura

    from digestcrawl.text.encoding import decode_html

    return trafilatura.extract(decode_html(body)[0], url=url) or "", None


def htmldate_day(body: bytes, url: str) -> tuple[str, date | None]:
    from htmldate import find_date

    found = find_date(body, original_date=True)
    return "", date.fromisoformat(found) if found else None


def run_in_process(pages: dict[str, tuple[bytes, str]], extractor: Extractor
                   ) -> tuple[dict[str, str], dict[str, date | None], float]:
    """Texts, days and CPU seconds per page."""
    texts: dict[str, str] = {}
    days: dict[str, date | None] = {}
    started = time.process_time()
    for key, (body, url) in pages.items():
        texts[key], days[key] = extractor(body, url)
    return texts, days, (time.process_time() - started) / max(1, len(pages))


def readability_python(install: bool) -> Path | None:
    """The peers venv's Python with readability-lxml; installed there when missing and ``install``."""
    from benchmarks.throughput import PEERS_VENV, install_peer

    python = PEERS_VENV / "bin" / "python"
    check = [str(python), "-c", "import readability"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    if install and install_peer(READABILITY):
        return python
    return None


def run_readability(python: Path, files: dict[str, Path]) -> tuple[dict[str, str], float]:
    result = subprocess.run([str(python), str(Path(__file__).with_name("readability_peer.py"))],
                            input=json.dumps([[key, str(path)] for key, path in files.items()]),
                            capture_output=True, text=True, check=True)
    out: dict[str, tuple[str, float]] = json.loads(result.stdout)
    return {key: text for key, (text, _) in out.items()}, sum(cpu for _, cpu in out.values()) / max(1, len(out))


def characters(text: str) -> Counter[str]:
    return Counter(c for c in text if not c.isspace())


def char_f1(truth: dict[str, str], predicted: dict[str, str]) -> dict[str, float]:
    """zh-web-extraction-dev's body metric: per-page bag-of-characters P/R/F1, averaged."""
    sums = {"f1": 0.0, "precision": 0.0, "recall": 0.0}
    for key, expected in truth.items():
        want, got = characters(expected), characters(predicted.get(key, ""))
        overlap = sum((want & got).values())
        precision = overlap / sum(got.values()) if got else 0.0
        recall = overlap / sum(want.values()) if want else 0.0
        sums["precision"] += precision
        sums["recall"] += recall
        sums["f1"] += 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {name: round(value / len(truth), 4) for name, value in sums.items()}


def truth_day(text: str) -> date | None:
    """The day a truth file names (``2005-5-7 21:23:57``); None for a year only, UNKNOWN or junk."""
    match = DAY.match(text)
    return date(*map(int, match.groups())) if match else None


def day_score(truth: dict[str, date | None], days: dict[str, date | None]) -> dict[str, Any]:
    dated = [key for key, day in truth.items() if day]
    right = sum(days.get(key) == truth[key] for key in dated)
    return {"exact_day": round(right / len(dated), 4) if dated else None, "days_right": right, "dated": len(dated),
            "day_where_none": sum(1 for key, day in truth.items() if not day and days.get(key))}


def _system(scores: dict[str, Any], texts: dict[str, str], cpu: float) -> dict[str, Any]:
    return {**scores, "empty": sum(1 for text in texts.values() if not text.strip()),
            "cpu_ms_per_page": round(cpu * 1000, 2)}


def zh_set(data_dir: Path, readability: Path | None) -> dict[str, Any]:
    keys = sorted(path.stem for path in (data_dir / "original").glob("*.html"))
    files = {key: data_dir / "original" / f"{key}.html" for key in keys}
    # The set has no URLs: a neutral one, so no system reads a date from it.
    pages = {key: (files[key].read_bytes(), f"http://zh-dev.invalid/{key}.html") for key in keys}
    truth = {key: (data_dir / "cleaned" / f"{key}.txt").read_text(encoding="utf-8") for key in keys}
    days = {key: truth_day((data_dir / "date" / f"{key}.txt").read_text(encoding="utf-8")) for key in keys}
    systems: dict[str, Any] = {}
    for name, extractor in (("digestcrawl", crawl_path(ZH_ZONE)), ("trafilatura", trafilatura_extract),
                            ("trafilatura on digestcrawl's decoding", trafilatura_on_our_decoding)):
        texts, found, cpu = run_in_process(pages, extractor)
        dated = day_score(days, found) if name == "digestcrawl" else {}
        systems[name] = _system({**char_f1(truth, texts), **dated}, texts, cpu)
    if readability:
        texts, cpu = run_readability(readability, files)
        systems["readability-lxml"] = _system(char_f1(truth, texts), texts, cpu)
    else:
        systems["readability-lxml"] = {"skipped": NO_READABILITY}
    _, found, cpu = run_in_process(pages, htmldate_day)
    systems["htmldate"] = {**day_score(days, found), "cpu_ms_per_page": round(cpu * 1000, 2)}
    return {"documents": len(keys), "metric": "bag-of-characters F1 (macro); exact day", "systems": systems}


def url_days(urls: dict[str, str]) -> dict[str, date | None]:
    """The day each URL names, for the pages whose URL names one."""
    from digestcrawl.text.dates import date_from_url

    return {key: day for key, url in urls.items() if (day := date_from_url(url)) is not None}


def aeb_days(pages: dict[str, tuple[bytes, str]]) -> dict[str, Any]:
    """Exact days on the pages with a dated URL, each given a neutral URL: digestcrawl, htmldate."""
    truth = url_days({key: url for key, (_, url) in pages.items()})
    hidden = {key: (pages[key][0], f"http://en-dev.invalid/{key}.html") for key in truth}
    out: dict[str, Any] = {}
    for name, extractor in (("digestcrawl", crawl_path(ZoneInfo("UTC"))), ("htmldate", htmldate_day)):
        _, found, cpu = run_in_process(hidden, extractor)
        out[name] = {**day_score(dict(truth), found), "cpu_ms_per_page": round(cpu * 1000, 2)}
    return out


def aeb_set(data_dir: Path, readability: Path | None, limit: int | None) -> dict[str, Any]:
    raw_truth = load_truth(data_dir)
    truth = {key: value["articleBody"] for key, value in raw_truth.items()}
    published = {path.stem: vars(score(truth, load_peer(path)))
                 for path in sorted((data_dir / "peer-output").glob("*.json"))}
    keys = sorted(truth)[:limit] if limit else sorted(truth)
    files = {key: data_dir / "html" / f"{key}.html.gz" for key in keys}
    pages = {key: (gzip.decompress(files[key].read_bytes()), raw_truth[key]["url"]) for key in keys}
    subset = {key: truth[key] for key in keys}
    systems: dict[str, Any] = {}
    for name, extractor in (("digestcrawl", crawl_path(ZoneInfo("UTC"))), ("trafilatura", trafilatura_extract)):
        texts, _, cpu = run_in_process(pages, extractor)
        systems[name] = _system(vars(score(subset, texts)), texts, cpu)
    if readability:
        texts, cpu = run_readability(readability, files)
        systems["readability-lxml"] = _system(vars(score(subset, texts)), texts, cpu)
    else:
        systems["readability-lxml"] = {"skipped": NO_READABILITY}
    return {"documents": len(keys), "metric": "4-token shingle F1 (the benchmark's)", "systems": systems,
            "published_peers": published, "days": aeb_days(pages)}


def run(data: Path = DATA, limit: int | None = None, install: bool = False) -> dict[str, Any]:
    """Both sets (a missing one is reported as skipped); ``limit`` caps the benchmark's pages."""
    readability = readability_python(install)
    out: dict[str, Any] = {}
    for name, scorer in ((AEB, lambda d: aeb_set(d, readability, limit)), (ZH, lambda d: zh_set(d, readability))):
        out[name] = scorer(data / name) if (data / name).is_dir() else {"skipped": f"no data at {data / name}"}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help=f"the shared data directory (default {DATA})")
    parser.add_argument("--limit", type=int, help="score only the first N benchmark pages")
    parser.add_argument("--install", action="store_true", help="install readability-lxml into the peers venv")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    from benchmarks.report import quality_rows

    results = run(args.data, args.limit, args.install)
    for row in quality_rows(results):
        print("  ".join(row).rstrip())
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
