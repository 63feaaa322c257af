"""The extraction worker process: pages in over a pipe, extracted pages out.

Runs in processes forked from a forkserver that imported this module (and, for more than one
worker, the extraction code) once; ``digestcrawl.crawl.extraction.pool`` starts, feeds, times
and kills them. Kept apart from the pool so that a worker imports neither Scrapy nor Twisted.

The pool sends a worker its next page while it extracts one (``pool.PAGES_AHEAD``); a reader
thread takes pages off the pipe as they come, so that a large page sent ahead and a large answer
never wait on each other's full pipe.

A worker never outlives the crawl process, whatever ends it (Ctrl-C, SIGTERM, kill -9):

* it ignores SIGINT and SIGTERM, which a terminal or a service manager sends to the whole
  process group: the crawl process decides when its workers stop, so a graceful shutdown keeps
  the pages in flight;
* it closes its copy of the forkserver's "alive" pipe, which every forked process inherits;
  the forkserver exits when that pipe has no writer left, so it now exits with the crawl
  process;
* it asks the kernel for SIGKILL when its parent, the forkserver, exits (PR_SET_PDEATHSIG):
  this reaches a worker busy in C code that would never read its pipe;
* a watchdog thread exits when the crawl process's end of the start pipe closes, should the
  forkserver outlive the crawl; an idle worker also sees end-of-file on its page pipe.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import multiprocessing.connection
import os
import pickle
import queue
import signal
import sys
import threading
import traceback
from multiprocessing import forkserver
from multiprocessing.connection import Connection
from typing import Any

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
READY = "ready"


def serve(conn: Connection) -> None:
    """Say READY, then extract each ``(html, url, zone)`` received; answer ``(True, page)`` or
    ``(False, traceback)``."""
    # Imported here: the crawl process imports this module for this function's name only (the
    # forkserver may have imported the extraction code already: pool.EXTRACTION_MODULE).
    from digestcrawl.text import extract_page

    _die_with_parents()
    try:
        conn.send(READY)  # pages are timed from here: the import is no page's time
    except OSError:
        return
    pages: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    threading.Thread(target=_read_pages, args=(conn, pages), name="page-reader", daemon=True).start()
    while (message := pages.get()) is not None:
        html, url, zone = pickle.loads(message)
        try:
            answer: tuple[bool, object] = (True, extract_page(html, url, zone))
        except Exception:
            answer = (False, traceback.format_exc())
        try:
            conn.send(answer)
        except OSError:
            return


def _read_pages(conn: Connection, pages: queue.SimpleQueue[bytes | None]) -> None:
    """Put each page received on ``pages``, then None when the crawl process closed the pipe or died."""
    while True:
        try:
            pages.put(conn.recv_bytes())
        except (EOFError, OSError):
            pages.put(None)
            return


def _die_with_parents() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    server: Any = forkserver._forkserver  # type: ignore[attr-defined]
    if server._forkserver_alive_fd is not None:
        os.close(server._forkserver_alive_fd)
        server._forkserver_alive_fd = None
    forkserver_pid = os.getppid()
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != forkserver_pid:  # the forkserver exited before prctl took effect
            os._exit(1)
    parent = multiprocessing.parent_process()
    if parent is not None and parent.sentinel is not None:
        threading.Thread(target=_exit_when_ready, args=(parent.sentinel,), name="parent-watchdog",
                         daemon=True).start()


def _exit_when_ready(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(1)
