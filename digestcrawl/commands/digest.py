"""``scrapy digest``: regenerate digests from the database, for any model and day range.

    scrapy digest --model qwen --date 2026-01-19
    scrapy digest --model all --date 2026-01-13..2026-01-19
    scrapy digest --model qwen --date 2026-01-19 --site ~/blog --build

    scrapy digest --check data/demo/site/_posts/2026-01-19-qwen-daily.md

``--check POST...`` writes nothing: it reads each post and prints one line per finding of the
post checker (``digestcrawl.digest.publish.check``: foreign sentences, repeated sentences,
mislabelled links, mis-conversions, Simplified titles, undated or out-of-window sources, counts
that disagree, an "AI 摘要" on a post no language model wrote), as ``FILE:LINE: CLASS: EXCERPT``.
The sources' dates are looked up in the store (STORE_URL) when it can be reached. Exit status 1
when anything was found, 0 when nothing was.

``--site DIR`` writes into DIR instead of DIGEST_SITE_DIR (creating the Jekyll skeleton when DIR
has no config, see ``digestcrawl.digest.publish.site``); ``--build`` (DIGEST_SITE_BUILD) then runs
``jekyll build`` on it and logs each of its warnings (a failed build exits 1; no Jekyll installed:
a warning only), then indexes the built site for its search page with Pagefind (a failed index
exits 1; no pagefind-bin-extended installed: a warning only). ``scrapy daily`` takes the same two options.

Quiet like ``scrapy daily`` (digestcrawl.ops.console): a progress bar on a terminal, warnings and
errors, then the summary (digestcrawl.commands.summary): a line per post or failure, one line for
all the model-days with nothing to say. Every requested digest is tried even when one fails (its
previous post stands, and the failure is logged with its traceback).
Exit status 0 when every requested digest was written or had nothing to say; 1 when any failed
or none could be started (the database unreachable, a bad setting); 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import fcntl
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.settings import BaseSettings
from scrapy.utils.log import configure_logging

from digestcrawl.commands.summary import summary
from digestcrawl.config import load_models
from digestcrawl.ops.console import is_quiet, progress, quiet_routine_loggers

logger = logging.getLogger(__name__)


def parse_days(value: str) -> list[date]:
    """``2026-01-19`` or an inclusive range ``2026-01-13..2026-01-19``."""
    first, _, last = value.partition("..")
    try:
        start = date.fromisoformat(first)
        end = date.fromisoformat(last) if last else start
    except ValueError:
        raise UsageError(f"--date: expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD, not {value!r}") from None
    if end < start:
        raise UsageError(f"--date: the range {value} ends before it starts")
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "--model MODEL|all --date DAY[..DAY] [--site DIR] [--build] | --check POST..."

    def short_desc(self) -> str:
        return "Write digest posts from the stored articles"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--model", help="a model key, a comma list, or all")
        parser.add_argument("--date", dest="days", help="YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD")
        add_site_options(parser)
        parser.add_argument("--check", nargs="+", metavar="POST", help="check written posts; write nothing")

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        set_site_options(self.settings, opts)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        configure_logging(self.settings)  # no crawler process configures it for this command
        if is_quiet(self.settings):
            quiet_routine_loggers()
        if opts.check:
            if opts.model or opts.days or opts.site or opts.build:
                raise UsageError("--check takes only posts")
            self.exitcode = 1 if _check(self.settings, [Path(p) for p in opts.check]) else 0
            return
        if not opts.model or not opts.days:
            raise UsageError("--model and --date are required (or --check POST...)")
        known = list(load_models(self.settings.get("DIGESTCRAWL_MODELS_FILE")))
        models = known if opts.model == "all" else [m.strip() for m in opts.model.split(",") if m.strip()]
        unknown = [m for m in models if m not in known]
        if unknown or not models:
            raise UsageError(f"--model: unknown {unknown or models}; known: {', '.join(known)} or all")
        jobs = [(model, day) for model in models for day in parse_days(opts.days)]
        # Imported here so that every other scrapy command starts without the digest stack.
        from digestcrawl.digest import build_digests

        with progress("digests", "digest", total=len(jobs)) as bar:
            outcomes = build_digests(self.settings, jobs, prepare_site=True, each=lambda _: bar.update())
        if failed := sum(outcome.failed is not None for outcome in outcomes):
            logger.error("%d of %d digests failed; their previous posts are unchanged", failed, len(jobs))
            self.exitcode = 1
        site = None
        if self.settings.getbool("DIGEST_SITE_BUILD"):
            built, site = build_site(self.settings)
            self.exitcode = self.exitcode or int(not built)
        print(summary(outcomes, self.exitcode, site=site), flush=True)


def add_site_options(parser: argparse.ArgumentParser) -> None:
    """``--site DIR`` and ``--build``, of ``scrapy digest`` and ``scrapy daily``."""
    parser.add_argument("--site", metavar="DIR", help="write into this Jekyll site instead of DIGEST_SITE_DIR")
    parser.add_argument("--build", action="store_true",
                        help="build the site (jekyll build) after the digests (DIGEST_SITE_BUILD)")


def _check(settings: BaseSettings, posts: list[Path]) -> int:
    """Print each post's findings; their number."""
    from zoneinfo import ZoneInfo

    from digestcrawl.config import load_entities, load_sources
    from digestcrawl.digest.publish import check_post

    sources, _ = load_sources(settings.get("DIGESTCRAWL_SOURCES_FILE"))
    names = {source.name for source in sources}
    lookup = _stored_dates(settings)
    found = 0
    for post in posts:
        try:
            text = post.read_text("utf-8")
        except OSError as exc:
            raise UsageError(f"--check: cannot read {post}: {exc.strerror}") from None
        for finding in check_post(text, source_names=names, entities=load_entities(), dates=lookup,
                                  zone=ZoneInfo(settings.get("DIGEST_TIMEZONE"))):
            print(finding.format(str(post)), flush=True)
            found += 1
    return found


def _stored_dates(settings: BaseSettings) -> Callable[[list[str]], dict[str, datetime | None]]:
    """URL → its stored published time (None: stored undated). A store that cannot be read
    gives nothing: the dates are then not checked, which is said once."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from digestcrawl.store import ArticleRow, Database

    database = Database.from_settings(settings)

    def lookup(urls: list[str]) -> dict[str, datetime | None]:
        try:
            with database.engine.connect() as conn:
                rows = conn.execute(select(ArticleRow.url, ArticleRow.published_at)
                                    .where(ArticleRow.url.in_(urls))).all()
        except SQLAlchemyError as exc:
            logger.warning("--check: the store could not be read (%s); sources' dates are not checked",
                           str(exc).splitlines()[0])
            return {}
        return {url: published.replace(tzinfo=UTC) if published and published.tzinfo is None else published
                for url, published in rows}

    return lookup


def set_site_options(settings: BaseSettings, opts: argparse.Namespace) -> None:
    if opts.site:
        settings.set("DIGEST_SITE_DIR", opts.site, priority="cmdline")
    if opts.build:
        settings.set("DIGEST_SITE_BUILD", True, priority="cmdline")


def build_site(settings: BaseSettings) -> tuple[bool, str]:
    """Build DIGEST_SITE_DIR; whether it went well (no Jekyll installed: a warning, not a
    failure), and the summary's line about it."""
    from digestcrawl.digest.publish import jekyll_build, search_index

    site_dir = Path(settings.get("DIGEST_SITE_DIR"))
    site_dir.mkdir(parents=True, exist_ok=True)
    # One build at a time: the closing digests of a day's Scrapyd jobs may finish together.
    with (site_dir / ".build.lock").open("w") as lock, progress(f"building {site_dir}", "site", total=1) as bar:
        fcntl.flock(lock, fcntl.LOCK_EX)
        build = jekyll_build(site_dir)
        bar.update()
    if build is None:
        logger.warning("--build: Jekyll is not installed (apt-get install jekyll ruby-jekyll-feed ruby-jekyll-archives "
                       "ruby-jekyll-seo-tag); the site was not built")
        return True, f"Site not built: Jekyll is not installed ({site_dir})"
    if not build.ok:
        return False, f"Site build FAILED: jekyll exited {build.returncode} (see the log), {site_dir}"
    built = (f"Site built: {build.destination} ({len(build.warnings)} Jekyll warnings); open "
             f"{build.destination / 'index.html'}, or preview: jekyll serve --source {site_dir}")
    index = search_index(build.destination)
    if index is None:
        logger.warning("--build: pagefind-bin-extended is not installed (pip install -r requirements.txt); "
                       "the site has no search index")
        return True, f"{built}; no search index (Pagefind not installed)"
    if not index.ok:
        return False, f"{built}; search index FAILED (see the log)"
    return True, f"{built}; search index {build.destination / 'pagefind'}"
