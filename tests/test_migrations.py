"""Schema migrations against real SQLite files and a real PostgreSQL cluster: fresh databases
reach head, models and migrations agree (``alembic check``), ``scrapy migrate`` works,
concurrent processes do not trip over each other, and the scripts run from a zipped package as
in a Scrapyd egg."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine

from digestcrawl.items import Article
from digestcrawl.store import migrations
from digestcrawl.store.engine import ensure_schema, make_engine
from digestcrawl.store.models import ArticleRow, Base
from digestcrawl.text.dedup import NearDuplicateIndex

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def revision_of(engine: Engine) -> tuple[str, ...]:
    with engine.connect() as conn:
        return migrations.current(conn)


def differences(engine: Engine) -> list[object]:
    return migrations.check(engine)


def tables(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def article(url: str = "https://example.com/a") -> Article:
    moment = datetime(2026, 1, 19, 8, tzinfo=UTC)
    return Article(url=url, source="example", category="news", title="Qwen 3 released", text="body",
                   published=moment, fetched=moment, models={"qwen": ["Qwen"]}, score={"qwen": 3})


def test_fresh_database_reaches_head(engine: Engine) -> None:
    assert tables(engine) == set()
    ensure_schema(engine)
    assert revision_of(engine) == (migrations.head(),)
    assert tables(engine) == set(Base.metadata.tables) | {"alembic_version"}
    assert differences(engine) == []
    ensure_schema(engine)  # again: nothing to do
    assert revision_of(engine) == (migrations.head(),)


def test_models_and_migrations_agree(engine: Engine) -> None:
    """What .ci/run checks: the migrations build exactly the models' schema, on both backends,
    and the downgrade takes it all back."""
    assert migrations.check(engine) == []
    assert tables(engine) == set(), "--check must leave the database as it was"
    migrations.upgrade(engine)
    assert differences(engine) == []
    with engine.begin() as conn:
        command.downgrade(migrations.alembic_config(conn), "base")
    assert tables(engine) == {"alembic_version"}
    migrations.upgrade(engine)
    assert differences(engine) == []


def test_a_model_without_a_migration_is_reported(engine: Engine) -> None:
    extra = sa.Table("not_migrated", Base.metadata, sa.Column("id", sa.Integer, primary_key=True))
    try:
        found = migrations.check(engine)
    finally:
        Base.metadata.remove(extra)
    assert [(d[0], d[1].name) for d in found] == [("add_table", "not_migrated")]


def scrapy_migrate(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scrapy", "migrate", *args, "-s", f"STORE_URL={url}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_scrapy_migrate(database_url: str, engine: Engine) -> None:
    checked = scrapy_migrate(database_url, "--check")
    assert checked.returncode == 0, checked.stderr
    assert "agree" in checked.stdout
    assert tables(engine) == set()
    done = scrapy_migrate(database_url)
    assert done.returncode == 0, done.stderr
    assert f"at revision {migrations.head()}" in done.stdout
    assert revision_of(engine) == (migrations.head(),)
    again = scrapy_migrate(database_url)
    assert again.returncode == 0, again.stderr


def test_scrapy_migrate_check_prints_differences(database_url: str, engine: Engine) -> None:
    ensure_schema(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX ix_articles_text_hash"))
    checked = scrapy_migrate(database_url, "--check")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "disagree" in checked.stdout and "ix_articles_text_hash" in checked.stdout


@pytest.mark.parametrize("attempts", [3, 1], ids=["retrying", "no-retry"])
def test_processes_ensure_schema_at_once(database_url: str, engine: Engine, attempts: int) -> None:
    """Without retries, only the database lock keeps the upgrades from colliding."""
    # The processes import first, then start together, so their upgrades overlap.
    start = time.time() + 3
    script = textwrap.dedent(f"""
        import time
        from digestcrawl.store.engine import ensure_schema, make_engine
        engine = make_engine({database_url!r})
        time.sleep(max(0.0, {start} - time.time()))
        ensure_schema(engine, attempts={attempts})
        engine.dispose()
    """)
    runs = [subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(3)]
    for run in runs:
        _out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
    assert revision_of(engine) == (migrations.head(),)
    assert differences(engine) == []
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


def test_migrations_run_from_a_zipped_package(tmp_path: Path) -> None:
    """A Scrapyd egg is imported from a zip: the scripts must be found there."""
    egg = tmp_path / "digestcrawl.egg"
    with zipfile.ZipFile(egg, "w") as archive:
        for path in (ROOT / "digestcrawl").rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix in {".py", ".yaml"}:
                archive.write(path, path.relative_to(ROOT).as_posix())
    script = textwrap.dedent(f"""
        import digestcrawl, digestcrawl.store.migrations as m
        from digestcrawl.store.engine import ensure_schema, make_engine
        assert digestcrawl.__file__.startswith({str(egg)!r}), digestcrawl.__file__
        engine = make_engine({f"sqlite:///{tmp_path / 'egg.sqlite3'}"!r})
        ensure_schema(engine)
        with engine.connect() as conn:
            assert m.current(conn) == (m.head(),)
        assert m.check(engine) == []
        print("ok")
    """)
    # cwd is not the checkout, so digestcrawl can only come from the zip.
    run = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env={"PYTHONPATH": str(egg)},
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"


def write_at_0001(engine: Engine, articles: list[Article]) -> None:
    """Articles as a store at revision 0001 wrote them: today's writes columns 0001 lacks."""
    metadata = sa.MetaData()
    sources = sa.Table("sources", metadata, autoload_with=engine)
    rows = sa.Table("articles", metadata, autoload_with=engine)
    with engine.begin() as conn:
        source_id = conn.execute(sources.insert().values(name="example", category="news")
                                 .returning(sources.c.id)).scalar_one()
        conn.execute(rows.insert(), [
            {"url": a.url, "source_id": source_id, "category": a.category, "title": a.title, "text": a.text,
             "snippet": a.snippet, "first_seen_at": a.fetched, "updated_at": a.fetched, "headline_only": False,
             "minhash": a.minhash} for a in articles])


def test_signatures_of_the_old_hashing_are_recomputed(engine: Engine) -> None:
    """0002: stored MinHash signatures made by the per-shingle SHA-1 hashing are rebuilt from
    the stored text, so a near-duplicate of an article stored before the upgrade is still found."""
    text = ("Alibaba released a new Qwen model today that beats its predecessor on math, coding and "
            "multilingual benchmarks, and published the weights under an open licence. The company said "
            "the model supports a longer context window and costs a third less to run.")
    with engine.begin() as conn:
        command.upgrade(migrations.alembic_config(conn), "0001")
    stored = article()
    stored.text, stored.minhash = text, b"\x00" * 512  # what the old hashing left
    untitled = article("https://example.com/title-only")  # the pipeline signs the title then
    untitled.title, untitled.text, untitled.minhash = text, "", b"\x00" * 512
    write_at_0001(engine, [stored, untitled])
    ensure_schema(engine)
    index = NearDuplicateIndex()
    with engine.connect() as conn:
        minhashes = dict(conn.execute(sa.select(ArticleRow.url, ArticleRow.minhash)).all())
    # At head (0003), title and text are signed together, as the dedup pipeline signs them.
    expected, titled = index.signature(text), index.signature(f"{stored.title}\n{text}")
    assert expected is not None and titled is not None
    assert minhashes == {stored.url: index.to_bytes(titled), untitled.url: index.to_bytes(expected)}
    index.add(stored.url, index.from_bytes(minhashes[stored.url]))
    copy = index.signature(text.replace("today", "on Monday"))
    assert copy is not None
    match = index.best_match(copy, exclude="https://example.com/copy")
    assert match is not None and match.key == stored.url
