"""Schema migrations (Alembic) for the article store: one command brings any database to head.

``scrapy migrate`` (and :func:`digestcrawl.store.engine.ensure_schema`, which every component calls
on opening the database) run :func:`upgrade`:

- a fresh database gets every revision in order;
- a database made by ``Base.metadata.create_all`` before migrations existed (the store's tables
  without an ``alembic_version`` table) is adopted: the initial revision's tables and nullable
  columns it lacks are added, it is stamped with :data:`INITIAL_REVISION`, then upgraded;
- concurrent processes take turns: the whole upgrade is one transaction under a
  ``pg_advisory_xact_lock`` on PostgreSQL, under ``BEGIN IMMEDIATE`` on SQLite.

Alembic is configured in code (:func:`alembic_config`), not by an alembic.ini, and the scripts
are found through ``importlib.resources``: they travel inside the package, also in a Scrapyd
egg (a zip). Only ``.py`` files are needed at run time.

A new revision, after changing the models in digestcrawl.store.models (from a checkout, where
``script.py.mako`` lives)::

    .venv/bin/python -c "from digestcrawl.store.migrations import new_revision; new_revision('add x')"

then review the file in ``versions/`` by hand (names, types, batch operations for SQLite).
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import NullPool

from digestcrawl.store.models import Base, UTCDateTime

INITIAL_REVISION = "0001"
# The tables of the initial revision: finding any of them without an alembic_version table
# means a database made by create_all. Other tables (a shared database) do not count.
INITIAL_TABLES = frozenset({"sources", "articles", "mentions", "duplicates", "stories", "story_articles",
                            "digests", "run_locks", "llm_cache"})
# pg_advisory_xact_lock key: any constant shared by every digestcrawl process ("dgstmigr").
ADVISORY_LOCK_KEY = int.from_bytes(b"dgstmigr", "big") & 0x7FFF_FFFF_FFFF_FFFF
# How long a process waits on SQLite for another one's upgrade (a table copy can take a while).
SQLITE_LOCK_TIMEOUT = 120.0


@functools.cache
def script_location() -> str:
    """The directory holding env.py and versions/, copied out of the package when it is zipped."""
    root = resources.files(__name__)
    if isinstance(root, Path):
        return str(root)
    # A Scrapyd egg is imported from the zip; Alembic lists versions/ and loads env.py from a
    # real directory, so copy the scripts to one for the life of the process.
    target = Path(tempfile.mkdtemp(prefix="digestcrawl-migrations-"))
    atexit.register(shutil.rmtree, target, True)
    _copy_tree(root, target)
    return str(target)


def _copy_tree(source: Traversable, target: Path) -> None:
    for item in source.iterdir():
        if item.is_dir():
            if item.name != "__pycache__":
                (target / item.name).mkdir()
                _copy_tree(item, target / item.name)
        elif item.name.endswith((".py", ".mako")):
            (target / item.name).write_bytes(item.read_bytes())


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic Config for this package's scripts, migrating ``connection`` (else ``url``)."""
    config = Config()
    config.set_main_option("script_location", script_location())
    # Revision files are named by their short, ordered ids: 0001_initial_schema.py.
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """The newest revision."""
    revision = _scripts().get_current_head()
    assert revision is not None, "no migrations found"
    return revision


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    # UTCDateTime only converts values in Python; the column is a timezone-aware DATETIME, and
    # revisions must not import digestcrawl.store.models (a later model change would rewrite them).
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def context_options() -> dict[str, Any]:
    """EnvironmentContext.configure options shared by env.py, checks and autogenerate."""
    return {
        "target_metadata": Base.metadata,
        "compare_type": True,
        # SQLite alters most things only by copying the table: autogenerate batch operations.
        "render_as_batch": True,
        "render_item": _render_item,
    }


def current(connection: Connection) -> tuple[str, ...]:
    """The revisions the database is stamped with (none for a fresh or a legacy database)."""
    return tuple(MigrationContext.configure(connection).get_current_heads())


def differences(connection: Connection) -> list[Any]:
    """What autogenerate would change to make the database match the models (empty: they agree)."""
    context = MigrationContext.configure(connection, opts=context_options())
    return list(compare_metadata(context, Base.metadata))


def upgrade(engine: Engine, *, check: bool = False) -> list[Any]:
    """Bring the database to head, adopting a create_all database; returns no differences.

    With ``check``, upgrade inside a transaction, compare the result with the models, roll
    back (DDL is transactional on PostgreSQL and SQLite) and return the differences.
    """
    # The common case, every component opening an up-to-date database: one query, no lock.
    # It also creates a fresh SQLite file through the caller's engine (WAL, as make_engine sets).
    with engine.connect() as connection:
        if not check and current(connection) == (head(),):
            return []
    with _locked_transaction(engine) as connection:
        if not current(connection) and _legacy_tables(connection):
            _adopt(connection)
        command.upgrade(alembic_config(connection), "head")
        if not check:
            return []
        found = differences(connection)
        connection.rollback()
        return found


def _legacy_tables(connection: Connection) -> frozenset[str]:
    return INITIAL_TABLES & set(sa.inspect(connection).get_table_names())


@contextmanager
def _locked_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that no other process's upgrade runs beside; committed
    when the block ends normally (unless the block rolled back), rolled back on an error."""
    url = engine.url
    in_memory = url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"
    if engine.dialect.name == "sqlite" and not in_memory:
        locker = _sqlite_transactional_engine(url.render_as_string(hide_password=False))
        try:
            with locker.connect() as connection, connection.begin():
                yield connection
        finally:
            locker.dispose()
        return
    with engine.connect() as connection, connection.begin():
        if engine.dialect.name == "postgresql":
            # Released at commit or rollback; the second process then sees the winner's tables.
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))
        yield connection


def _sqlite_transactional_engine(url: str) -> Engine:
    """An engine whose transactions start with BEGIN IMMEDIATE and include DDL.

    Python's sqlite3 commits before DDL on its own, so two processes could interleave their
    CREATE TABLEs; taking transaction control from the driver makes the whole upgrade atomic
    and the write lock makes the second process wait, then find the database at head.
    """
    engine = sa.create_engine(make_url(url), poolclass=NullPool, connect_args={"timeout": SQLITE_LOCK_TIMEOUT})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        # Batch migrations copy and drop tables: ON DELETE CASCADE must not fire meanwhile.
        dbapi_connection.execute("PRAGMA foreign_keys=OFF")

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _make_tolerant(context: MigrationContext) -> None:
    """Make ``context`` create only the tables, columns and indexes that are missing.

    Databases made before a table or a column was added to the models never got it
    (create_all adds no columns), e.g. articles.entry_changed_at; nullable ones are added.
    """
    impl, connection = context.impl, context.connection
    assert connection is not None
    existing = set(sa.inspect(connection).get_table_names())
    create_table, create_index = impl.create_table, impl.create_index

    def create_missing_table(table: sa.Table, **kw: Any) -> None:
        if table.name not in existing:
            create_table(table, **kw)
            return
        present = {column["name"] for column in sa.inspect(connection).get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                if not column.nullable:
                    raise RuntimeError(f"cannot adopt the database: {table.name}.{column.name} is missing "
                                       "and has no value for the existing rows")
                impl.add_column(table.name, column._copy())

    def create_missing_index(index: sa.Index, **kw: Any) -> None:
        table = index.table
        if table is not None and table.name in existing and index.name in {
                found["name"] for found in sa.inspect(connection).get_indexes(table.name)}:
            return
        create_index(index, **kw)

    # Instance attributes shadow the dialect implementation's methods for this context only.
    setattr(impl, "create_table", create_missing_table)  # noqa: B010
    setattr(impl, "create_index", create_missing_index)  # noqa: B010


def _adopt(connection: Connection) -> None:
    """Bring a create_all database to the initial revision's schema and stamp it so."""
    config = alembic_config(connection)
    initial = ScriptDirectory.from_config(config).get_revision(INITIAL_REVISION)
    assert initial is not None and initial.module is not None
    context = MigrationContext.configure(connection, opts=context_options())
    _make_tolerant(context)
    # The revision's own upgrade() through the tolerant context: no second copy of the schema.
    with Operations.context(context):
        initial.module.upgrade()
    command.stamp(config, INITIAL_REVISION)


def new_revision(message: str) -> None:
    """Autogenerate a revision from the models' difference with head (run from a checkout)."""
    with tempfile.TemporaryDirectory() as scratch:
        engine = sa.create_engine(f"sqlite:///{Path(scratch) / 'head.sqlite3'}")
        try:
            with engine.begin() as connection:
                config = alembic_config(connection)
                command.upgrade(config, "head")
                ids = sorted(s.revision for s in _scripts().walk_revisions())
                command.revision(config, message, autogenerate=True, rev_id=f"{int(ids[-1]) + 1:04d}" if ids
                                 else INITIAL_REVISION)
        finally:
            engine.dispose()
