"""B6: article-extraction quality on the public article-extraction-benchmark data.

The metric is the benchmark's own (see shared/data/article-extraction-benchmark/README.md):
\\w+ tokens, case-insensitive, 4-token shingles as multisets, macro precision and recall, F1 of
the two means, accuracy = share of documents whose token lists are identical. The published peer
outputs are re-scored here first; digestcrawl's extractor is then scored the same way.
"""

from __future__ import annotations

import gzip
import json
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

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


def extract_all(data_dir: Path, truth: dict[str, dict[str, str]],
                limit: int | None = None) -> tuple[dict[str, str], float]:
    """digestcrawl's extractor over the benchmark pages; returns outputs and CPU seconds/page."""
    from digestcrawl.encoding import decode_html
    from digestcrawl.extraction import extract_page

    zone = ZoneInfo("UTC")
    outputs: dict[str, str] = {}
    keys = sorted(truth)[:limit] if limit else sorted(truth)
    started = time.process_time()
    for key in keys:
        body = gzip.decompress((data_dir / "html" / f"{key}.html.gz").read_bytes())
        html, _ = decode_html(body)
        page = extract_page(html, truth[key]["url"], zone)
        outputs[key] = page.text if page else ""
    return outputs, (time.process_time() - started) / max(1, len(keys))


def run(data_dir: Path, limit: int | None = None) -> dict[str, object]:
    raw_truth = load_truth(data_dir)
    truth = {key: value["articleBody"] for key, value in raw_truth.items()}
    peers = {path.stem: score(truth, load_peer(path)) for path in sorted((data_dir / "peer-output").glob("*.json"))}
    outputs, cpu_per_page = extract_all(data_dir, raw_truth, limit)
    subset = {key: truth[key] for key in outputs}
    ours = score(subset, outputs)
    return {"peers": {name: vars(s) for name, s in peers.items()}, "digestcrawl": vars(ours),
            "cpu_ms_per_page": round(cpu_per_page * 1000, 2)}
