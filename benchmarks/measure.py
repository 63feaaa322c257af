"""Run a command and measure it: wall time, CPU seconds and peak memory of its process tree.

The process tree (the process and all its descendants) is polled from /proc every 0.1 s.
CPU (user + system) is the larger of two lower bounds: ``getrusage(RUSAGE_CHILDREN)`` around
the subprocess, which misses descendants nobody waited for (workers of a multiprocessing
forkserver), and the sum over every process seen of its last polled CPU time, which misses at
most the last 0.1 s of each. Memory: the peak of the tree's summed resident sets (a crawler
with worker processes is charged for all of them; ``ru_maxrss`` would only give the largest
single process), and the peak of its summed proportional sets (PSS: a page shared by several
processes, like modules a forkserver imported once for its workers, is split between them
instead of counted in each). Also each process's own peaks, by its role in the tree (``roles``).
"""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcessRun:
    returncode: int
    wall_seconds: float
    cpu_seconds: float
    peak_rss_mb: float  # the whole process tree, summed
    peak_pss_mb: float
    peak_processes: int
    # Per role ("crawl process", "forkserver", "extraction worker", ...): the largest peak RSS
    # and PSS of any one process in it, and how many processes held it.
    roles: dict[str, dict[str, float]] = field(default_factory=dict)


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


def _role(pid: int, root: int, forkservers: set[int]) -> str:
    """What a process of the tree is: the command's own process, a multiprocessing helper, a
    worker forked from a forkserver (its command line is the forkserver's), or another child."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        parent = int(status.split("PPid:", 1)[1].split()[0])
    except (OSError, IndexError, ValueError):
        return "other"
    if pid == root:
        return "crawl process"
    if parent in forkservers:
        return "extraction worker"
    if "forkserver" in command:
        forkservers.add(pid)
        return "forkserver"
    return "resource tracker" if "resource_tracker" in command else "other"


def _rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total


def _pss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
                    break
        except (OSError, IndexError, ValueError):
            continue
    return total


def _cpu_seconds(pid: int) -> float | None:
    """The process's own user + system time so far (not its children's)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return None


def run_measured(command: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None,
                 log: Path | None = None, timeout: float = 1800) -> ProcessRun:
    """Run ``command`` to completion (output to ``log``) and measure it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    sink = log.open("wb") if log else subprocess.DEVNULL
    try:
        process = subprocess.Popen(list(command), cwd=cwd, env=dict(env) if env else None,
                                   stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        peak, peak_pss, processes = 0, 0, 0
        cpu_seen: dict[int, float] = {}
        roles: dict[int, str] = {}
        forkservers: set[int] = set()
        peaks: dict[int, tuple[int, int]] = {}  # pid: (RSS, PSS) bytes
        stop = threading.Event()

        def poll() -> None:
            nonlocal peak, peak_pss, processes
            while not stop.is_set():
                pids = _tree(process.pid)
                now = {pid: (_rss_bytes([pid]), _pss_bytes([pid])) for pid in pids}
                peak = max(peak, sum(rss for rss, _ in now.values()))
                peak_pss = max(peak_pss, sum(pss for _, pss in now.values()))
                processes = max(processes, len(pids))
                for pid, (rss, pss) in now.items():
                    if pid not in roles:  # read /proc once per process, not on every poll
                        roles[pid] = _role(pid, process.pid, forkservers)
                    before = peaks.get(pid, (0, 0))
                    peaks[pid] = (max(before[0], rss), max(before[1], pss))
                for pid in pids:
                    seconds = _cpu_seconds(pid)
                    if seconds is not None:
                        cpu_seen[pid] = seconds
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
    waited = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    cpu = max(waited, sum(cpu_seen.values()))
    by_role: dict[str, dict[str, float]] = {}
    for pid, (rss, pss) in peaks.items():
        row = by_role.setdefault(roles[pid], {"peak_rss_mb": 0.0, "peak_pss_mb": 0.0, "processes": 0,
                                              "cpu_s": 0.0})
        row["cpu_s"] = round(row["cpu_s"] + cpu_seen.get(pid, 0.0), 2)
        row["peak_rss_mb"] = max(row["peak_rss_mb"], round(rss / 2**20, 1))
        row["peak_pss_mb"] = max(row["peak_pss_mb"], round(pss / 2**20, 1))
        row["processes"] += 1
    return ProcessRun(returncode, round(wall, 2), round(cpu, 2), round(peak / 2**20, 1), round(peak_pss / 2**20, 1),
                      processes, by_role)
