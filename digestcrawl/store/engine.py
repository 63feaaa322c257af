"""Engines for the store (SQLite by default, PostgreSQL in production), the schema check,
and how a database error reads: a row the database refuses, or a database out of reach."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    DBAPIError,
    IntegrityError,
    OperationalError,
    ProgrammingError,
    StatementError,
)

from digestcrawl.store.migrations import upgrade


def make_engine(url: str, busy_timeout: float = 5.0) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": busy_timeout})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def dialect_insert(engine: Engine) -> Callable[[Any], postgresql.Insert | sqlite.Insert]:
    """``engine``'s INSERT construct, the one with ``ON CONFLICT`` clauses (upserts): PostgreSQL's,
    else SQLite's, the two databases the store runs on."""
    return postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert


_SCHEMA_LOCK = threading.Lock()


def ensure_schema(engine: Engine, attempts: int = 3) -> None:
    """Bring the database to the current schema by running the Alembic migrations to head
    (digestcrawl.store.migrations).

    Components of one process take turns. Separate processes serialize on the database
    (pg_advisory_xact_lock on PostgreSQL, BEGIN IMMEDIATE on SQLite); the loser of any remaining
    race (a lock wait timing out, another backend) tries again and then finds the winner's
    schema at head."""
    with _SCHEMA_LOCK:
        for attempt in range(attempts):
            try:
                upgrade(engine)
                return
            # IntegrityError: two unlocked creators can collide on a unique key (alembic_version,
            # PostgreSQL's catalog).
            except (OperationalError, ProgrammingError, IntegrityError):
                if attempt + 1 == attempts:
                    raise
                time.sleep(0.5 * (attempt + 1))


def masked_url(url: str) -> str:
    """``url`` with its password hidden, for a log line (masked by hand when it does not parse)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"(//[^/@:]*:)[^/@]*@", r"\1***@", url)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for another database, an in-memory one or a bad URL."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def short_error(exc: BaseException) -> str:
    """A database error's first line, for a log line (SQLAlchemy appends the whole statement)."""
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def row_error_reason(exc: BaseException) -> str | None:
    """Why the database refused a write for what a row holds (a value too long or invalid, a
    broken constraint, a value that cannot be bound), or None when the failure is the
    database's own (unreachable, restarting): a row error fails every retry, a connection
    error may pass on the next."""
    if isinstance(exc, DataError):
        return "data_error"
    if isinstance(exc, IntegrityError):
        return "integrity_error"
    if isinstance(exc, StatementError) and not isinstance(exc, DBAPIError):
        return "unbindable_value"
    return None
