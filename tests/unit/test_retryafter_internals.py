"""Retry-After holds a host by driving Scrapy's private downloader internals
(``digestcrawl.crawl.guard.retryafter.RetryAfterMiddleware._hold_slot`` and ``_reopen``); only the Scrapy
pin in requirements.txt guards them. These tests name what moved when a Scrapy upgrade moves it."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
import scrapy
from scrapy import Request
from scrapy.core.downloader import Downloader, Slot
from scrapy.utils.test import get_crawler
from twisted.internet.defer import Deferred

MOVED = (f"Scrapy {scrapy.__version__} changed a private downloader internal that "
         "digestcrawl.crawl.guard.retryafter relies on: {what}. Update RetryAfterMiddleware._hold_slot/_reopen "
         "to the new downloader before raising the Scrapy pin.")


def require(condition: bool, what: str) -> None:
    if not condition:
        pytest.fail(MOVED.format(what=what), pytrace=False)


def parameters(owner: type, name: str) -> list[str]:
    """The parameters of ``owner.name`` after self (none when it is gone)."""
    function: Any = getattr(owner, name, None)
    return [p for p in inspect.signature(function).parameters if p != "self"] if callable(function) else []


def test_the_downloader_exposes_its_slots_by_key() -> None:
    require(getattr(Downloader, "DOWNLOAD_SLOT", None) == "download_slot",
            "Downloader.DOWNLOAD_SLOT (the request meta key naming its slot)")
    downloader = Downloader(get_crawler())
    require(isinstance(getattr(downloader, "slots", None), dict), "Downloader.slots (slot key → Slot)")
    require(parameters(Downloader, "_latercall") == ["slot"], "Downloader._latercall(slot)")
    require(parameters(Downloader, "_process_queue") == ["slot"], "Downloader._process_queue(slot)")


def test_a_slot_has_the_timer_and_clock_the_hold_moves() -> None:
    require(parameters(Slot, "__init__")[:2] == ["concurrency", "delay"], "Slot(concurrency, delay, ...)")
    slot = Slot(1, 0.0)
    for name, kind in (("lastseen", (int, float)), ("delay", float), ("latercall", type(None))):
        require(isinstance(getattr(slot, name, ...), kind), f"Slot.{name}")


def test_a_pending_timer_holds_the_queue_and_latercall_releases_it() -> None:
    downloader = Downloader(get_crawler())
    slot = Slot(1, 0.0)
    slot.queue.append((Request("https://news.example/a"), Deferred()))
    slot.latercall = held = object()  # type: ignore[assignment]
    downloader._process_queue(slot)
    require(len(slot.queue) == 1 and slot.latercall is held,
            "Downloader._process_queue no longer waits while Slot.latercall is set")
    slot.queue.clear()  # nothing to download: _latercall only clears the timer and looks
    downloader._latercall(slot)
    require(slot.latercall is None, "Downloader._latercall no longer clears Slot.latercall")
