"""Run a command and measure it: wall time, CPU seconds and peak memory of its process tree.

CPU is ``getrusage(RUSAGE_CHILDREN)`` taken around the subprocess (user + system, every
descendant that was waited for included). Memory is polled from /proc every 0.1 s: the sum of
the resident sets of the process and all its descendants (a crawler that forks workers is
charged for all of them), and its peak is kept. ``ru_maxrss`` would only give the largest
single process.
"""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class ProcessRun:
    returncode: int
    wall_seconds: float
    cpu_seconds: float
    peak_rss_mb: float  # the whole process tree, summed
    peak_processes: int


def _tree(pid: int) -> list[int]:
    pids, pending = [], [pid]
    while pending:
        current = pending.pop()
        pids.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return pids


def _rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total


def run_measured(command: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None,
                 log: Path | None = None, timeout: float = 1800) -> ProcessRun:
    """Run ``command`` to completion (output to ``log``) and measure it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    sink = log.open("wb") if log else subprocess.DEVNULL
    try:
        process = subprocess.Popen(list(command), cwd=cwd, env=dict(env) if env else None,
                                   stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        peak, processes = 0, 0
        stop = threading.Event()

        def poll() -> None:
            nonlocal peak, processes
            while not stop.is_set():
                pids = _tree(process.pid)
                peak = max(peak, _rss_bytes(pids))
                processes = max(processes, len(pids))
                stop.wait(0.1)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            returncode = process.wait()
        stop.set()
        poller.join()
    finally:
        if log:
            sink.close()  # type: ignore[union-attr]
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return ProcessRun(returncode, round(wall, 2), round(cpu, 2), round(peak / 2**20, 1), processes)
