"""Where a whole digestcrawl crawl spends its CPU: py-spy over B1's crawl, every thread included.

    .venv/bin/python -m benchmarks.crawlprofile --pages 1000

py-spy (a sampling profiler, installed into benchmarks/.venv-peers: ``pip install py-spy``)
records ``scrapy crawl news`` and its extraction workers over the generated web at 200
samples/s; samples of threads waiting for work are dropped.
Printed: the share of samples per component (by the file of the innermost frame) and the
functions with the largest inclusive share. Sampling, not tracing: the crawl runs at full speed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

from benchmarks.localweb import SINCE, UNTIL, generate
from benchmarks.measure import run_measured
from benchmarks.throughput import PEERS_VENV, PER_DOMAIN, ROOT

GROUPS = (("trafilatura", "trafilatura"), ("justext", "trafilatura"), ("htmldate", "htmldate"),
          ("readability", "trafilatura (readability fallback)"), ("lxml", "lxml"),
          ("sqlalchemy", "SQLAlchemy"), ("sqlite3", "sqlite3"), ("twisted", "Twisted"), ("scrapy", "Scrapy"),
          ("asyncio", "asyncio"), ("opencc", "OpenCC"), ("digestcrawl/text/dedup", "MinHash/LSH"), ("numpy", "numpy"),
          ("digestcrawl/", "digestcrawl"), ("pipelines/", "digestcrawl pipelines"), ("spiders/", "digestcrawl spider"),
          ("logging", "logging"), ("charset_normalizer", "charset_normalizer"), ("w3lib", "w3lib"),
          ("concurrent", "threads"), ("threading", "threads"), ("queue", "threads"))


# Leaf frames of threads waiting for work: py-spy (without --gil) samples some of them as active.
IDLE = ("_worker (concurrent/futures/thread.py", "Condition.wait (threading.py", "select (selectors.py",
        "Event.wait (threading.py", "Thread.join (threading.py")


def _group(frame: str) -> str:
    return next((label for key, label in GROUPS if key in frame), "other")


def summarise(raw: Path, top: int = 25) -> str:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if frames[-1].startswith(IDLE):
            continue
        samples = int(count)
        total += samples
        own[_group(frames[-1])] += samples
        for frame in set(frames[1:]):  # the first frame is the process/thread
            inclusive[frame] += samples
    lines = [f"{total} samples", "", "own time by component:"]
    lines += [f"  {share / total:6.1%}  {name}" for name, share in own.most_common()]
    lines += ["", "inclusive time by function:"]
    lines += [f"  {share / total:6.1%}  {name}" for name, share in inclusive.most_common(top)]
    return "\n".join(lines)


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.crawlprofile")
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "digestcrawl-crawlprofile")
    parser.add_argument("--summarise", action="store_true", help="only re-read WORK/raw.txt")
    return parser.parse_args()


def main() -> int:
    args = _args()
    if args.summarise:
        print(summarise(args.work / "raw.txt"))
        return 0
    py_spy = PEERS_VENV / "bin" / "py-spy"
    if not py_spy.exists():
        print(f"py-spy not found: {PEERS_VENV}/bin/pip install py-spy", file=sys.stderr)
        return 2
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    web = generate(args.pages)
    with web:
        sources = web.write_sources(args.work / "sources.yaml")
        command = [str(py_spy), "record", "--threads", "--subprocesses", "--format", "raw", "-r", "200",
                   "-o", str(args.work / "raw.txt"),
                   "--", sys.executable, "-m", "scrapy", "crawl", "news", "-a", "model=all",
                   "-a", f"since={SINCE}", "-a", f"until={UNTIL}"]
        for name, value in {"DIGESTCRAWL_SOURCES_FILE": sources, "NETGUARD_ALLOW": "127.0.0.1",
                            "AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0",
                            "CONCURRENT_REQUESTS_PER_DOMAIN": PER_DOMAIN, "DIGEST_ON_CLOSE": "False",
                            "STORE_URL": f"sqlite:///{args.work / 'db.sqlite3'}",
                            "REPORT_DIR": args.work / "reports", "STORE_SPOOL_DIR": args.work / "spool",
                            "HTTPCACHE_DIR": args.work / "httpcache", "SOURCE_MAX_REQUESTS": 0}.items():
            command += ["-s", f"{name}={value}"]
        run = run_measured(command, ROOT, {**os.environ, "PYTHONPATH": str(ROOT)}, args.work / "crawl.log")
    print(f"crawl exit {run.returncode}, {run.wall_seconds} s, {run.cpu_seconds} CPU-s")
    print(summarise(args.work / "raw.txt"))
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
