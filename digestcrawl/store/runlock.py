"""One run at a time per spider, model and day, across hosts: a lock row in the database.

A lock row is unique on (spider, model, day). A run inserts its rows or finds them held. A live
run keeps pushing its rows' ``expires_at`` forward (a heartbeat, digestcrawl.extensions.runlock), so a lock
whose ``expires_at`` has passed belonged to a run that died or lost its database, and is taken
over: a short TTL, not a long one, is what lets the next run proceed after a crash.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Row, and_, delete, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from digestcrawl.store.models import RunLockRow

# Set when a run was refused because another holds its lock: its closing components (the
# digest) then leave the day to the run that holds it.
REFUSED_STAT = "digestcrawl/runlock/refused"


@dataclass(frozen=True)
class LockHeld:
    model: str
    day: date
    holder: str
    since: datetime


def holder_id(jobdir: str | None = None, crawl_id: str | None = None, job: str | None = None) -> str:
    """Who holds a lock: host and process (and Scrapyd job); or host and JOBDIR, which is what
    identifies a resumable job, so a restart after a crash takes over its own lock; or, for a
    distributed crawl, its crawl id, which every worker of that crawl shares."""
    if crawl_id:
        return f"crawl:{crawl_id}"
    if jobdir:
        return f"{socket.gethostname()}:jobdir:{Path(jobdir).resolve()}"
    return f"{socket.gethostname()}:{os.getpid()}" + (f":{job}" if job else "")


def _lock_row(conn: Connection, spider: str, model: str, day: date) -> Row[Any] | None:
    return conn.execute(select(RunLockRow).where(
        RunLockRow.spider == spider, RunLockRow.model == model, RunLockRow.day == day)).first()


class RunLocks:
    """Lock rows with a time to live; every method takes ``now`` (default: the clock) so that
    expiry can be tested without waiting."""

    def __init__(self, engine: Engine, ttl: timedelta) -> None:
        self.engine = engine
        self.ttl = ttl

    def acquire(self, spider: str, models: list[str], day: date, holder: str,
                now: datetime | None = None) -> LockHeld | None:
        """Take every (model, day) lock for ``spider`` or none of them; the lock found held, if any."""
        now = now or datetime.now(UTC)
        with self.engine.begin() as conn:
            for model in models:
                row = _lock_row(conn, spider, model, day)
                if row is not None and row.holder != holder and row.expires_at > now:
                    conn.rollback()
                    return LockHeld(model, day, row.holder, row.acquired_at)
                if row is not None:  # expired, or already ours: take it over
                    conn.execute(update(RunLockRow).where(RunLockRow.id == row.id).values(
                        holder=holder, acquired_at=now, expires_at=now + self.ttl))
                    continue
                try:
                    with conn.begin_nested():
                        conn.execute(insert(RunLockRow).values(
                            spider=spider, model=model, day=day, holder=holder, acquired_at=now,
                            expires_at=now + self.ttl))
                except IntegrityError:
                    # Another run inserted it between our read and our insert; a worker of the
                    # same distributed crawl (the same holder) shares it.
                    row = _lock_row(conn, spider, model, day)
                    if row is not None and row.holder == holder:
                        continue
                    conn.rollback()
                    return (LockHeld(model, day, row.holder, row.acquired_at) if row is not None
                            else LockHeld(model, day, "another run", now))
        return None

    def refresh(self, spider: str, models: list[str], day: date, holder: str,
                now: datetime | None = None) -> int:
        """Extend ``holder``'s locks by the TTL from ``now``; how many of them it still held."""
        now = now or datetime.now(UTC)
        with self.engine.begin() as conn:
            result = conn.execute(update(RunLockRow).where(self._mine(spider, models, day, holder))
                                  .values(expires_at=now + self.ttl))
        return result.rowcount

    def release(self, spider: str, models: list[str], day: date, holder: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(RunLockRow).where(self._mine(spider, models, day, holder)))

    @staticmethod
    def _mine(spider: str, models: list[str], day: date, holder: str) -> Any:
        return and_(RunLockRow.spider == spider, RunLockRow.model.in_(models), RunLockRow.day == day,
                    RunLockRow.holder == holder)
