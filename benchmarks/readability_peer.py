"""readability-lxml as a peer: run by benchmarks/.venv-peers' Python, never imported by digestcrawl.

stdin: a JSON list of ``[key, path]`` (``.gz`` paths are gunzipped); stdout: ``{key: [text, cpu_s]}``.
The raw bytes go to ``Document``, which decodes them itself, as a user of the library would.
"""

from __future__ import annotations

import gzip
import json
import sys
import time
from pathlib import Path

import lxml.html
from readability import Document


def extract(body: bytes) -> str:
    summary = Document(body).summary(html_partial=True)
    return str(lxml.html.fromstring(summary).text_content()) if summary.strip() else ""


def main() -> None:
    out: dict[str, tuple[str, float]] = {}
    for key, path in json.load(sys.stdin):
        body = Path(path).read_bytes()
        if path.endswith(".gz"):
            body = gzip.decompress(body)
        started = time.process_time()
        try:
            text = extract(body)
        except Exception:  # a page readability cannot read scores as empty, as in the benchmark
            text = ""
        out[key] = (text, time.process_time() - started)
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
