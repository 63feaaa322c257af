"""``scrapy migrate``: bring the database to the current schema (Alembic migrations to head).

    scrapy migrate                      # upgrade STORE_URL to head
    scrapy migrate --check              # exit 1 if the models and the migrations disagree
    scrapy migrate -s STORE_URL=postgresql+psycopg://user@host/digestcrawl

Crawls and ``scrapy digest`` upgrade too on opening the database, so this command is for
deploys and CI.

``--check`` upgrades inside a transaction, runs ``alembic check`` (the models against the
result), prints every difference and rolls back: the database is left as it was. Exit status
0 when they agree (or after a successful upgrade), 1 otherwise.

Settings read: STORE_URL, STORE_BUSY_TIMEOUT.
"""

from __future__ import annotations

import argparse
import logging
from pprint import pformat
from typing import Any

from scrapy.commands import ScrapyCommand
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

logger = logging.getLogger(__name__)


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[--check]"

    def short_desc(self) -> str:
        return "Upgrade the database schema to the current revision"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--check", action="store_true",
                            help="only report whether the models and the migrations agree (exit 1 if not)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        # Imported here so that every other scrapy command starts without Alembic.
        from digestcrawl.store import Database, migrations

        url = self.settings.get("STORE_URL")
        shown = make_url(url).render_as_string(hide_password=True)
        database = Database.from_settings(self.settings)
        engine = database.engine
        differences: list[Any] = []
        try:
            if opts.check:
                differences = migrations.check(engine)
            else:
                migrations.upgrade(engine)
            with engine.connect() as connection:
                revision = ", ".join(migrations.current(connection)) or "none"
        except SQLAlchemyError as exc:
            logger.error("Migrating %s failed: %s", shown, str(exc).splitlines()[0])
            self.exitcode = 1
            return
        finally:
            database.close()
        if not opts.check:
            print(f"{shown}: at revision {revision} (head {migrations.head()})", flush=True)
        elif differences:
            print(f"{shown}: the models and the migrations disagree; add a revision for:", flush=True)
            for difference in differences:
                print("  " + pformat(difference, width=110).replace("\n", "\n  "), flush=True)
            self.exitcode = 1
        else:
            print(f"{shown}: the models and the migrations (head {migrations.head()}) agree", flush=True)
