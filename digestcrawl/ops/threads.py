"""Long work in daemon threads, so that a forced stop (a second SIGINT/SIGTERM,
``digestcrawl.ops.stops``) does not wait for it: the interpreter exits without joining a daemon
thread, where it joins asyncio's and Twisted's worker threads. A publish in progress is finished
first (``digestcrawl.digest.publish.files.StagedFiles``), so no post is left half replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def in_daemon_thread(function: Callable[..., T], *args: Any) -> asyncio.Future[T]:
    """``function(*args)`` in a daemon thread; a future of the event loop for its result."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result, error = function(*args), None
        except BaseException as caught:
            result, error = None, caught
        # A forced stop closed the loop meanwhile: nobody waits for the result.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name=getattr(function, "__name__", "work"), daemon=True).start()
    return future


def wait_in_daemon_thread(function: Callable[[], T]) -> T:
    """``function()`` in a daemon thread, waited for here: a signal handler that raises
    (:meth:`ShutdownSignals.after_reactor`) ends the wait, and the exit does not join the thread."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(function())
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=run, name=getattr(function, "__name__", "work"), daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]
