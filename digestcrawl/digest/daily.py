"""Write one model's digest for one day, from the database: the only way a digest is made.

The digest at a crawl's close, ``scrapy digest`` and ``scrapy daily`` all call ``build_digests``
(one builder, ``DigestBuilder.try_build`` per model and day). It reads every
spider's stored articles for the day, groups and ranks stories, summarizes (LLM or extractive),
renders the post and draws its infographic, then writes them with the day's stories and digest
row as one unit: both files are staged beside their targets first; inside the database
transaction (serialised per model and day, see ``repository``) the image is put in place, then
the post; the commit comes last. A failure anywhere leaves the previous post, image and rows as
they were. ``try_build`` reports a failed digest as an outcome instead of raising, for the
closing pipeline (stats) and ``scrapy digest`` (exit status).

The site folder gets the Jekyll skeleton and a page per model first (``digestcrawl.digest.publish.site``).

Settings: STORE_URL, DIGEST_SITE_DIR, DIGEST_SITE_SKELETON, DIGEST_LANGUAGE, DIGEST_TIMEZONE, DIGEST_SUMMARIZER
(``auto``: the LLM when LLM_API_KEY is set, else extractive; ``llm``; ``extractive``), the LLM_*
settings of ``digestcrawl.digest.summarize.llm`` and the DIGEST_* settings of ``digestcrawl.digest.publish.render``;
LLM_MERGE_CHECK (with the LLM summarizer, one batched call confirms or splits the loosely held
members of the shown stories, ``LLMSummarizer.check_merges``) and LLM_MERGE_BAND (how far above
the merge bar a member's hold on its story counts as loose).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from scrapy.settings import BaseSettings
from sqlalchemy.engine import Engine

from digestcrawl.config import ModelConfig, load_concepts, load_entities, load_models
from digestcrawl.digest.firstparty import FIRST_PARTY
from digestcrawl.digest.group import group_stories
from digestcrawl.digest.model import (
    DigestInput,
    LLMSpent,
    LooseMember,
    MergeCheck,
    Story,
    StoryArticle,
    Summarizer,
)
from digestcrawl.digest.publish import (
    RenderOptions,
    Site,
    StagedFiles,
    infographic_png,
    infographic_svg,
    post_paths,
    remove_stale_staged,
    render_post,
    write_storyline,
)
from digestcrawl.digest.read import DigestRepository, co_mentions
from digestcrawl.digest.summarize import ExtractiveSummarizer, LLMCache, LLMConfig, LLMSummarizer
from digestcrawl.languages import Language
from digestcrawl.store import Database
from digestcrawl.text import EntityFinder

logger = logging.getLogger(__name__)
FOLLOW_UP_DAYS = 7


@dataclass(frozen=True)
class DigestOutcome:
    model: str
    day: date
    post: Path | None  # None: no relevant items that day, so no post
    stories: int = 0
    articles: int = 0
    generator: str = ""
    llm_calls: int = 0
    fallback: str | None = None  # the kind of LLM fault the digest fell back to extractive on
    malformed: int = 0  # LLM response bodies that were no chat completion
    ungrounded: int = 0  # generated sentences, items and tags the grounding check dropped
    failed: str | None = None  # why no digest was written (the previous one stands)

    def describe(self) -> str:
        if self.failed is not None:
            return f"{self.model} {self.day}: FAILED, previous post unchanged: {self.failed}"
        if self.post is None:
            return f"{self.model} {self.day}: no relevant items, no post written"
        fallback = f", LLM fallback: {self.fallback}" if self.fallback else ""
        return (f"{self.model} {self.day}: {self.articles} articles in {self.stories} stories → {self.post} "
                f"({self.generator}, {self.llm_calls} LLM calls{fallback})")


def failed_outcome(model: str, day: date, error: BaseException) -> DigestOutcome:
    return DigestOutcome(model, day, None, failed=f"{type(error).__name__}: {error}"[:500])


def build_summarizer(settings: BaseSettings, engine: Engine, finder: EntityFinder) -> Summarizer:
    extractive = ExtractiveSummarizer(finder)
    choice = settings.get("DIGEST_SUMMARIZER")
    if choice not in ("auto", "llm", "extractive"):
        raise ValueError(f"DIGEST_SUMMARIZER must be auto, llm or extractive, not {choice!r}")
    if choice == "extractive" or (choice == "auto" and not settings.get("LLM_API_KEY")):
        return extractive
    return LLMSummarizer(LLMConfig.from_settings(settings), fallback=extractive, cache=LLMCache(engine),
                         finder=finder)


class DigestBuilder:
    def __init__(self, engine: Engine, models: dict[str, ModelConfig], summarizer: Summarizer,
                 finder: EntityFinder, site_dir: Path, language: Language, options: RenderOptions,
                 zone: ZoneInfo, skeleton: bool = True, merge_band: float | None = None,
                 owns_engine: bool = True) -> None:
        self.engine, self.models, self.summarizer, self.finder = engine, models, summarizer, finder
        self.owns_engine = owns_engine  # disposed on close, unless it is a crawl's shared engine
        # The LLM checks loose merges when it writes the digest; None: no check.
        self.merge_band = merge_band if isinstance(summarizer, LLMSummarizer) else None
        self.site_dir, self.language, self.options = site_dir, language, options
        self.site = Site(site_dir, skeleton)
        self.repository = DigestRepository(engine, zone)

    @classmethod
    def from_settings(cls, settings: BaseSettings, engine: Engine | None = None) -> DigestBuilder:
        """A builder on ``engine`` (a crawl's, its schema checked), else on an engine of its own."""
        language = settings.get("DIGEST_LANGUAGE")
        if language not in tuple(Language):
            raise ValueError(f"DIGEST_LANGUAGE must be one of {', '.join(Language)}, not {language!r}")
        owns_engine = engine is None
        if engine is None:
            engine = Database.from_settings(settings).ready()
        finder = EntityFinder(load_entities(), load_concepts())
        return cls(engine, load_models(settings.get("DIGESTCRAWL_MODELS_FILE")),
                   build_summarizer(settings, engine, finder), finder,
                   Path(settings.get("DIGEST_SITE_DIR")), Language(language), RenderOptions.from_settings(settings),
                   ZoneInfo(settings.get("DIGEST_TIMEZONE")), settings.getbool("DIGEST_SITE_SKELETON"),
                   settings.getfloat("LLM_MERGE_BAND") if settings.getbool("LLM_MERGE_CHECK") else None,
                   owns_engine)

    def close(self) -> None:
        close = getattr(self.summarizer, "close", None)
        if close is not None:
            close()
        if self.owns_engine:
            self.engine.dispose()

    def _earlier_articles(self, model_key: str, day: date) -> list[tuple[date, list[StoryArticle]]]:
        """The previous week's stored articles, day by day (whether or not a digest was written
        for those days)."""
        return [(previous, self.repository.articles(model_key, previous))
                for previous in (day - timedelta(days=back) for back in range(1, FOLLOW_UP_DAYS + 1))]

    def build(self, model_key: str, day: date) -> DigestOutcome:
        model = self.models[model_key]
        articles = self.repository.articles(model_key, day)
        if not articles:
            logger.info("No relevant items for %s on %s: no digest written", model_key, day)
            return DigestOutcome(model_key, day, None)
        earlier = self._earlier_articles(model_key, day)
        stories, spent = self._stories(model_key, day, articles, earlier)
        other_models = {key: m for key, m in self.models.items() if key != model_key}
        others = {key: m.display for key, m in other_models.items()}
        # Names the previous week's articles gave: what is new today is the rest.
        known = frozenset().union(*(self.finder.find(f"{a.title}\n{a.text[:800]}")
                                    for _, before in earlier for a in before))
        figures = self.repository.figures(model_key, day, articles, model.tickers, list(others))
        # The post's one count of stories and sources is the day's, whichever stories it shows.
        figures = replace(figures, earlier_entities=known, stories=len(stories),
                          sources=len({outlet for story in stories for outlet in story.outlets}),
                          co_mentioned=co_mentions(articles, other_models, figures.co_mentioned))
        # Only the stories the post shows are summarized; all of them are stored.
        digest = DigestInput(
            model_key=model_key, model=model, day=day, language=self.language,
            stories=stories[: self.options.max_stories],
            figures=figures, competitors=others, spent=spent,
            # The week's checkpoints, releases and papers: news for developers for some days.
            first_party=tuple(a for a in (*articles, *(a for _, before in earlier for a in before))
                               if a.category in FIRST_PARTY))
        result = self.summarizer.summarize(digest)
        paths = post_paths(self.site_dir, model_key, day)
        self.site.ensure_model_pages(model_key, model, self.language)  # once; a page that exists stands
        site_links = self.site.has_story_links
        post = render_post(digest, result, self.options, site_links).encode("utf-8")
        image, narrow_image = infographic_png(digest, result), infographic_svg(digest, result)
        with StagedFiles() as files:
            files.add(paths.image, image)  # first: a post never points at a missing image
            files.add(paths.narrow_image, narrow_image)
            files.add(paths.post, post)
            try:
                self.repository.save(model_key, day, stories, result, str(paths.post), publish=files.publish)
            except BaseException:
                files.restore()  # the commit failed after the files were in place
                raise
        if site_links:
            write_storyline(self.site_dir, model_key)  # from the posts now in place
        outcome = DigestOutcome(model_key, day, paths.post, len(stories), len(articles), result.generator,
                                result.llm_calls, result.fallback_kind, result.malformed, result.ungrounded)
        logger.info("Digest written: %s", outcome.describe())
        return outcome

    def _stories(self, model_key: str, day: date, articles: list[StoryArticle],
                 earlier: list[tuple[date, list[StoryArticle]]]) -> tuple[list[Story], LLMSpent]:
        """The day's stories, and what the LLM's merge check of the shown ones cost."""
        if self.merge_band is None:
            return group_stories(articles, self.finder, earlier=earlier), LLMSpent()
        summarizer = self.summarizer
        assert isinstance(summarizer, LLMSummarizer)
        spent = LLMSpent()

        def ask(stories: list[Story], loose: list[LooseMember]) -> list[LooseMember]:
            nonlocal spent
            shown = {story.key for story in stories[: self.options.max_stories]}
            split, spent = summarizer.check_merges(model_key, day, [m for m in loose if m.story_key in shown])
            return split

        stories = group_stories(articles, self.finder, earlier=earlier, merge_check=MergeCheck(self.merge_band, ask))
        return stories, spent

    def try_build(self, model_key: str, day: date) -> DigestOutcome:
        """``build``, with a failure logged and returned: one failed digest does not stop the
        others, and the caller reports it."""
        try:
            return self.build(model_key, day)
        except Exception as error:
            logger.exception("Digest of %s for %s failed; the previous post, if any, is unchanged",
                             model_key, day)
            return failed_outcome(model_key, day, error)


def build_digests(settings: BaseSettings, jobs: Sequence[tuple[str, date]], *, prepare_site: bool = False,
                  each: Callable[[DigestOutcome], None] | None = None,
                  engine: Callable[[], Engine] | None = None) -> list[DigestOutcome]:
    """Every ``(model, day)`` digest of ``jobs`` from one builder, closed afterwards: the digest
    loop of the closing crawl, ``scrapy digest`` and ``scrapy daily``. A failed digest costs the
    others nothing; a builder that cannot start (the database, a setting) fails them all, logged
    once. ``each`` hears every outcome as it comes (progress lines); ``prepare_site`` creates the
    site skeleton first, even when no day has articles (a site to build); ``engine`` opens a crawl's
    engine to share (else the builder opens its own). Files a stopped digest left in the site are
    removed first."""
    def report(outcome: DigestOutcome) -> DigestOutcome:
        if each is not None:
            each(outcome)
        return outcome

    try:
        builder = DigestBuilder.from_settings(settings, engine() if engine is not None else None)
    except Exception as error:
        logger.exception("Digests of %s failed to start", ", ".join(f"{model} {day}" for model, day in jobs))
        return [report(failed_outcome(model, day, error)) for model, day in jobs]
    try:
        remove_stale_staged(builder.site_dir)
        if prepare_site:
            try:
                builder.site.prepare()
            except OSError:  # each digest below fails the same way and is reported
                logger.exception("Could not create the site skeleton in %s", builder.site_dir)
        return [report(builder.try_build(model, day)) for model, day in jobs]
    finally:
        builder.close()
