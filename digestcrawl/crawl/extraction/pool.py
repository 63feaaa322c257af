"""Article extraction in worker processes, bounded in size and time.

Extraction (lxml, trafilatura) is most of a crawl's CPU and holds the GIL; in the crawl process
it caps a crawl at one core. The spider hands each page to a pool of worker processes and
awaits the result, so downloads, pipelines and the store keep running meanwhile. Workers come
from a forkserver (nothing is forked from the crawl process with its threads and event loop);
with more than one worker it has imported the extraction code once for all of them, and a
worker starts in milliseconds. A worker says when it is ready, and its pages are timed from then.

The pool owns its workers (rather than a ProcessPoolExecutor, whose busy worker cannot be
cancelled): each worker is fed by one thread of the crawl process over a pipe, and every page
waits in one shared queue for the next free worker, so a stuck page holds up only its own
worker, and the one page sent to it ahead (``PAGES_AHEAD``), which goes to the new worker. A
page not extracted within EXTRACTION_TIMEOUT is given up (``ExtractionShortfall`` with reason
``extraction_timeout``); its worker is killed and replaced at once. Nothing is ever
extracted in the crawl process as a fallback: a page that could stall a worker would stall the
crawl, and its shutdown, there.

A worker that dies (killed, out of memory, a crash in C code) is replaced and its page tried
once more by the new worker under the same time limit; each loss is counted in
``digestcrawl/extraction/worker_lost`` and logged. A page that kills two workers is given up
(reason ``extraction_crashed``). Workers never outlive the crawl process (see
``digestcrawl.crawl.extraction.worker``).

Before extraction, ``oversize`` checks a page's bytes against EXTRACTION_MAX_BYTES,
EXTRACTION_MAX_TAGS and EXTRACTION_MAX_LINKS (counts of ``<`` and ``<a`` in the raw bytes,
microseconds on a normal page): pages over a cap are not parsed in full (reason
``page_too_large``).

The pool is sized by memory as well as by cores: no more workers than half the memory available
at the start holds at EXTRACTION_WORKER_MEMORY_MB each (at least one). Workers start when the
spider opens (or on the first page), while the first feeds download.

Settings: EXTRACTION_PROCESSES (worker processes; 0 extracts in the crawl process, with no time
limit), EXTRACTION_WORKER_MEMORY_MB (a worker's peak; 0: no memory sizing), EXTRACTION_TIMEOUT
(seconds per page; 0: none), EXTRACTION_MAX_BYTES,
EXTRACTION_MAX_TAGS, EXTRACTION_MAX_LINKS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import multiprocessing.context
import multiprocessing.util
import queue
import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import tzinfo
from multiprocessing.process import BaseProcess
from pathlib import Path

from scrapy import signals
from scrapy.crawler import Crawler

from digestcrawl.crawl.extraction import worker as extraction_worker
from digestcrawl.text import ExtractedPage, PageLimits, oversize

logger = logging.getLogger(__name__)

# What the forkserver imports once, for every worker it forks. The extraction code joins it when
# the pool has more than one worker, which then share it; one worker imports it as it starts
# (``worker.serve``): a forkserver's copy would only be held twice (B5: 22 MB RSS, 6 MB PSS).
FORKSERVER_MODULES = ("digestcrawl.crawl.extraction.worker",)
EXTRACTION_MODULE = "digestcrawl.text.extraction"
# How long a new worker may take to import the extraction code and say it is ready.
START_TIMEOUT = 60.0
# How long a killed worker may take to be reaped, and the pool's threads to stop on close.
REAP_TIMEOUT = 10.0
# Pages sent to a worker ahead of the one it extracts: it starts the next the moment it answers,
# not once its thread in the crawl process (which shares that process's GIL with the crawl) has
# taken the answer and sent another page, a third of a page's time (issue 25). The page behind a
# page that stalls waits for its time limit, then goes to the new worker.
PAGES_AHEAD = 1


def available_memory_mb() -> int | None:
    """The memory available to new processes now (MemAvailable, MiB), or None where unknown."""
    try:
        with Path("/proc/meminfo").open(encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def processes_for_memory(processes: int, worker_mb: int, available_mb: int | None) -> int:
    """``processes``, or fewer (at least one) when that many workers at ``worker_mb`` each would
    take more than half of ``available_mb``: the crawl process, the forkserver and the page cache
    need the rest."""
    if processes <= 1 or worker_mb <= 0 or available_mb is None:
        return processes
    return max(1, min(processes, available_mb // 2 // worker_mb))


class ExtractionShortfall(Exception):
    """A page not extracted in full; ``reason`` is counted, ``detail`` logged."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class ExtractionError(Exception):
    """Extraction raised in a worker; the message is the worker's traceback."""

    @property
    def last_line(self) -> str:
        """The exception itself, as the traceback's last line says it."""
        lines = str(self).strip().splitlines()
        return lines[-1] if lines else "extraction failed"


@dataclass
class _Job:
    html: str
    url: str
    zone: tzinfo
    future: Future[ExtractedPage | None] = field(default_factory=Future)
    lost: int = 0  # workers that died on this page


class _Worker:
    """One worker process and the crawl process's end of its pipe."""

    def __init__(self, context: multiprocessing.context.ForkServerContext) -> None:
        self.conn, theirs = context.Pipe()
        self.process: BaseProcess = context.Process(target=extraction_worker.serve, args=(theirs,),
                                                    name="digestcrawl-extraction", daemon=True)
        try:
            self.process.start()
        finally:
            theirs.close()  # the worker's end lives in the worker only: its death reads as EOF here
        # Its pages' time limit starts once it is ready (a worker may import the extraction code
        # as it starts). A worker that dies or hangs starting is lost like one that dies on a page.
        try:
            if not self.conn.poll(START_TIMEOUT):
                raise TimeoutError(f"not ready within {START_TIMEOUT:g} s")
            self.conn.recv()  # READY; EOFError when it died starting
        except BaseException:
            self.stop()
            raise

    def send(self, job: _Job) -> None:
        """Queue ``job`` in the worker's pipe; EOFError/OSError when the worker died."""
        self.conn.send((job.html, job.url, job.zone))

    def answer(self, timeout: float | None) -> tuple[bool, object] | None:
        """The worker's answer to its oldest page, None when it took longer than ``timeout``;
        EOFError/OSError when the worker died."""
        if not self.conn.poll(timeout):
            return None
        answer: tuple[bool, object] = self.conn.recv()
        return answer

    def stop(self) -> None:
        self.conn.close()
        self.process.kill()
        self.process.join(REAP_TIMEOUT)
        if self.process.exitcode is not None:
            self.process.close()


def _kill_workers(workers: dict[int, _Worker]) -> None:
    for worker in list(workers.values()):
        worker.process.kill()


class ExtractionPool:
    """Settings: see the module docstring."""

    def __init__(self, crawler: Crawler, processes: int, timeout: float | None,
                 limits: PageLimits) -> None:
        self.crawler = crawler
        self.processes = processes
        self.timeout = timeout
        self.limits = limits
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._workers: dict[int, _Worker] = {}  # by feeder thread
        self._closing = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractionPool:
        settings = crawler.settings
        configured = settings.getint("EXTRACTION_PROCESSES")
        worker_mb = settings.getint("EXTRACTION_WORKER_MEMORY_MB")
        available = available_memory_mb()
        processes = processes_for_memory(configured, worker_mb, available)
        if processes < configured:
            logger.info("%d extraction worker(s), not %d: %s MB of memory available, %d MB a worker",
                        processes, configured, available, worker_mb)
        timeout = settings.getfloat("EXTRACTION_TIMEOUT")
        limits = PageLimits(max_bytes=settings.getint("EXTRACTION_MAX_BYTES"),
                            max_tags=settings.getint("EXTRACTION_MAX_TAGS"),
                            max_links=settings.getint("EXTRACTION_MAX_LINKS"))
        pool = cls(crawler, max(0, processes), timeout if timeout > 0 else None, limits)
        crawler.signals.connect(pool.start, signal=signals.spider_opened)
        crawler.signals.connect(pool.close, signal=signals.spider_closed)
        return pool

    def oversize(self, body: bytes) -> str | None:
        """Why a page is too large to extract in full (bytes, tags or links over a cap), or None."""
        return oversize(body, self.limits)

    @property
    def pids(self) -> list[int]:
        """The worker processes' ids (none before the pool starts)."""
        return [w.process.pid for w in list(self._workers.values()) if w.process.pid is not None]

    def head(self, html: str, url: str, zone: tzinfo) -> ExtractedPage | None:
        """A page's title and lead only (``extract_head``: milliseconds, whatever the page), in
        this process: for a page too large or too slow to extract in full."""
        # The extraction libraries load in the crawl process only when a page needs them here
        # (its workers hold them): 9 MB and 0.15 s of every crawl's start otherwise.
        from digestcrawl.text import extract_head

        return extract_head(html, url, zone)

    async def extract(self, html: str, url: str, zone: tzinfo) -> ExtractedPage | None:
        """The extracted page, None when the HTML cannot be parsed at all. Raises
        ExtractionShortfall when the page was given up, ExtractionError when extraction raised."""
        if self.processes == 0:
            from digestcrawl.text import extract_page  # see ``head``

            try:
                return extract_page(html, url, zone)
            except Exception as exc:  # as a worker reports it: one page, not the crawl
                raise ExtractionError(f"{type(exc).__name__}: {exc}") from exc
        self.start()
        job = _Job(html, url, zone)
        self._jobs.put(job)
        try:
            return await asyncio.wrap_future(job.future)
        finally:
            if job.lost:
                assert self.crawler.stats is not None
                self.crawler.stats.inc_value("digestcrawl/extraction/worker_lost", job.lost)

    def start(self) -> None:
        """Start the workers (if not running): when the spider opens, so that the forkserver
        imports the extraction code (half a second) while the first feeds download, not when
        the first page waits for it."""
        if self._threads or self.processes == 0:
            return
        self._closing = False
        context = multiprocessing.get_context("forkserver")
        shared = (EXTRACTION_MODULE,) if self.processes > 1 else ()
        context.set_forkserver_preload([*FORKSERVER_MODULES, *shared])
        self._workers = {}
        # At exit multiprocessing sends its live children SIGTERM, which workers ignore, then
        # waits for them: a forced stop (a second Ctrl-C, no spider_closed) would wait forever.
        # Its finalizers run first (multiprocessing.Pool stops its workers the same way).
        multiprocessing.util.Finalize(self, _kill_workers, args=(self._workers,), exitpriority=10)
        self._threads = [threading.Thread(target=self._feed, args=(slot, context), daemon=True,
                                          name=f"extraction-feeder-{slot}") for slot in range(self.processes)]
        for thread in self._threads:
            thread.start()

    def _feed(self, slot: int, context: multiprocessing.context.ForkServerContext) -> None:
        """One worker's thread: starts the worker, then hands it pages until the pool closes,
        PAGES_AHEAD of them beside the one it extracts."""
        self._replace_worker(slot, context)
        in_flight: deque[_Job] = deque()  # sent to the worker, oldest first: the order it answers in
        accepting = True
        try:
            while accepting or in_flight:
                accepting = accepting and self._take_pages(slot, in_flight)
                if in_flight:
                    try:
                        self._settle_oldest(slot, in_flight, context)
                    except Exception as exc:  # unforeseen: the oldest page fails, not the pool
                        self._stop_worker(slot)
                        in_flight.popleft().future.set_exception(exc)
        except BaseException as exc:
            for job in in_flight:
                job.future.set_exception(exc)
            raise
        finally:
            self._stop_worker(slot)

    def _take_pages(self, slot: int, in_flight: deque[_Job]) -> bool:
        """Send the slot's worker pages from the queue: wait for one when it has none, take more
        (up to PAGES_AHEAD ahead) only when they are waiting. False once the stop signal is taken."""
        while len(in_flight) <= PAGES_AHEAD:
            try:
                job = self._jobs.get(block=not in_flight)
            except queue.Empty:
                return True
            if job is None:
                return False
            if job.future.set_running_or_notify_cancel():
                try:
                    self._send(slot, job)
                except Exception as exc:  # it cannot be pickled: that page fails alone
                    job.future.set_exception(exc)
                else:
                    in_flight.append(job)
        return True

    def _send(self, slot: int, job: _Job) -> None:
        """Send ``job`` to the slot's worker, if it has one (a new worker is sent every page in
        flight). A worker found dead here is found dead again when its answer is awaited, and
        the page it died on is then the oldest."""
        worker = self._workers.get(slot)
        if worker is not None:
            with contextlib.suppress(EOFError, OSError):
                worker.send(job)

    def _replace_worker(self, slot: int, context: multiprocessing.context.ForkServerContext) -> None:
        """Start the slot's worker now, so the next page does not wait for it; on failure the
        next page tries again (and fails alone if it must)."""
        try:
            self._workers[slot] = _Worker(context)
        except Exception:
            logger.exception("Extraction worker %d could not be started", slot)

    def _stop_worker(self, slot: int) -> None:
        worker = self._workers.pop(slot, None)
        if worker is not None:
            worker.stop()

    def _settle_oldest(self, slot: int, in_flight: deque[_Job],
                       context: multiprocessing.context.ForkServerContext) -> None:
        """Await the worker's answer to the oldest page in flight and settle that page: its
        extracted page or error; or, when the worker died on it, a retry in a new worker (a page
        that kills two is given up); or, past the time limit, a shortfall and a new worker. A new
        worker is sent every page still in flight: one that waited behind a lost page is not lost."""
        job = in_flight[0]
        if self._closing and slot not in self._workers:  # no new worker while the pool closes
            self._cancel(in_flight)
            return
        try:
            worker = self._workers.get(slot)
            if worker is None:
                worker = self._workers[slot] = _Worker(context)
                for waiting in in_flight:
                    worker.send(waiting)
            answer = worker.answer(self.timeout)
        except (EOFError, OSError) as exc:  # the worker died (or could not start)
            self._stop_worker(slot)
            if self._closing:
                self._cancel(in_flight)
                return
            job.lost += 1
            logger.error("An extraction worker died (%s) on %s; %s", exc or type(exc).__name__, job.url,
                         "trying once more in a new worker" if job.lost == 1 else "giving the page up")
            if job.lost > 1:
                in_flight.popleft()
                job.future.set_exception(
                    ExtractionShortfall("extraction_crashed", "two extraction workers died on it"))
            return
        if answer is None:
            # The worker may be anywhere in C code: only killing it stops it.
            self._stop_worker(slot)
            in_flight.popleft()
            if self._closing:
                self._cancel(in_flight)
            elif not in_flight:  # else the next page starts one, and is sent to it
                self._replace_worker(slot, context)
            job.future.set_exception(
                ExtractionShortfall("extraction_timeout", f"not extracted within {self.timeout:g} s"))
            return
        in_flight.popleft()
        ok, value = answer
        if not ok:
            job.future.set_exception(ExtractionError(str(value)))
            return
        assert value is None or isinstance(value, ExtractedPage)
        job.future.set_result(value)

    @staticmethod
    def _cancel(in_flight: deque[_Job]) -> None:
        while in_flight:
            in_flight.popleft().future.set_exception(
                ExtractionShortfall("extraction_cancelled", "the crawl is closing"))

    def _fail_queued(self, exc: BaseException) -> None:
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is None:
                self._jobs.put(None)  # another thread's stop signal
                return
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(exc)

    def close(self) -> None:
        """Stop every worker, a busy one too: pages still queued or in extraction are given up
        (reason ``extraction_cancelled``)."""
        if not self._threads:
            return
        self._closing = True
        self._fail_queued(ExtractionShortfall("extraction_cancelled", "the crawl is closing"))
        for _ in self._threads:
            self._jobs.put(None)
        for worker in list(self._workers.values()):
            # A busy worker's thread waits on its pipe: killing the worker ends the wait.
            worker.process.kill()
        for thread in self._threads:
            thread.join(REAP_TIMEOUT)
        self._threads = []
