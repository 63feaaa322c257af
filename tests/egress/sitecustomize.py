"""Egress recorder for a crawl subprocess: put this folder first on its PYTHONPATH and name a file
in ``DIGESTCRAWL_TEST_EGRESS_LOG``. Python imports ``sitecustomize`` at start-up, so an audit hook
sees every DNS lookup and connection the process makes from Python (Twisted's included, and any
library's own HTTP client), and appends each one to a non-loopback target to the file, one line:
``<event> <target> <thread>``. tests/test_hostile.py asserts the file is there and empty."""

from __future__ import annotations

import ipaddress
import os
import sys
import threading
from pathlib import Path
from typing import Any

LOOPBACK_NAMES = {"localhost", "localhost."}
EVENTS = {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.connect",
          "socket.sendto", "socket.sendmsg"}


def _target(event: str, args: tuple[Any, ...]) -> str | None:
    """The host an event reaches for (None: no network target, e.g. a Unix socket)."""
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        address = args[1] if len(args) > 1 else None
        return str(address[0]) if isinstance(address, tuple) and address else None
    return None if args[0] is None else str(args[0].decode() if isinstance(args[0], bytes) else args[0])


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _record(event: str, args: tuple[Any, ...]) -> None:
    if event not in EVENTS:
        return
    host = _target(event, args)
    if host is None or _is_loopback(host):
        return
    with Path(LOG).open("a", encoding="utf-8") as log:
        log.write(f"{event} {host} {threading.current_thread().name}\n")


LOG = os.environ.get("DIGESTCRAWL_TEST_EGRESS_LOG", "")
if LOG:
    Path(LOG).touch()  # the file's presence shows the recorder was loaded
    sys.addaudithook(_record)
