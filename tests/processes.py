"""Child processes: their trees from /proc (Linux), to prove no process is left behind, and their
output read as it comes (`Output`), to wait for a log line rather than sleep."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import IO


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first), None when gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rsplit(")", 1)[1].split()


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie (a zombie has exited; only its parent's
    wait is missing, and in a container nothing may ever reap it)."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    pending = [pid]
    while pending:
        for child in children(pending.pop()):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used (0 when gone)."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    # utime and stime are the 14th and 15th fields of stat; fields[0] is the 3rd.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return ""


class Output:
    """A child's output stream, read line by line in a thread (so the child never blocks on a
    full pipe): a test waits for a line rather than sleeping."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def wait_for(self, text: str, timeout: float = 120.0) -> bool:
        """Block until a line containing ``text`` has been written (False: not within ``timeout``
        seconds, or the stream closed without it)."""
        with self._changed:
            return self._changed.wait_for(
                lambda: any(text in line for line in self.lines) or self._closed, timeout) and any(
                text in line for line in self.lines)

    def text(self, timeout: float = 120.0) -> str:
        """Everything, once the stream has closed."""
        self._thread.join(timeout)
        with self._changed:
            return "".join(self.lines)
