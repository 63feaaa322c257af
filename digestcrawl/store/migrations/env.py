"""Alembic environment, run by ``alembic.command`` with a Config from
:func:`digestcrawl.store.migrations.alembic_config` (there is no alembic.ini).

Online, it migrates the connection in ``config.attributes["connection"]`` (inside the caller's
transaction, so the caller's lock covers the whole upgrade) or else a new engine on the
``sqlalchemy.url`` main option. Offline (``--sql``), it prints the SQL for that URL's dialect.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from digestcrawl.store.engine import make_engine
from digestcrawl.store.migrations import context_options

config = context.config


def run_online(connection: Connection) -> None:
    context.configure(connection=connection, **context_options())
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True,
                      dialect_opts={"paramstyle": "named"}, **context_options())
    with context.begin_transaction():
        context.run_migrations()
elif (given := config.attributes.get("connection")) is not None:
    run_online(given)
else:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("digestcrawl migrations need a connection or a sqlalchemy.url")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            run_online(connection)
            connection.commit()
    finally:
        engine.dispose()
