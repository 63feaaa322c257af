"""The LLM summarizer: any OpenAI-compatible endpoint writes the digest, checked and grounded.

One structured-output call writes the whole digest from every story's articles, trimmed to the
token budget. An answer that is not valid ``DigestContent`` gets one repair request. A story
whose summary fails the grounding check (``digestcrawl.digest.summarize.grounding``) is regenerated once
by a focused call; if it fails again, the fallback's summary of that story replaces it. So a
digest costs at most stories + 2 calls, the merge check's included: a regeneration that would
pass that budget is not made, and the fallback's summary stands. Every other section is
grounded too, with no call: an unsupported sentence, list item or tag is dropped, and a section
left with nothing (a list short of its minimum) takes the fallback's text
(``grounding.ground_sections``).

Before the summary, ``check_merges`` may ask one batched question about the day's grouping:
whether each loosely held member of a shown story (``stories.loose_members``) reports its
story's event, from titles alone. A "no" splits that article (and its copies) off into a story
of its own. Any fault, or an answer that does not give one verdict for each question, keeps
the offline grouping; so no article is ever lost. No loose member, no call.

When the LLM gives nothing usable (timeout, connection error, error status, a body that is not
a chat completion, invalid answers, the digest's deadline passed) the fallback writes the whole
digest and the result says why and of which kind; an LLM fault never raises. Answers are
cached in the database (``LLMCache``), so an unchanged re-run makes no call.

Time is bounded per digest: every call has connect and read timeouts, and all of a digest's
calls, retries and waits share one deadline (LLM_DEADLINE): each attempt's timeouts are cut to
the time left, an attempt still running at the deadline is abandoned (a server trickling bytes
defeats a read timeout), and a retry that would wait past it is not made. Retries with
exponential backoff, honouring Retry-After, are ours (the client's own are off) so that they
keep to the deadline.

The prompt (``digestcrawl.digest.summarize.prompt``) keeps crawled text as delimited data in the user
message, under a fixed system message that says delimited content is never instructions.

Settings (defaults in digestcrawl.settings): LLM_MODEL, LLM_BASE_URL, LLM_API_KEY, LLM_TIMEOUT
(read timeout), LLM_CONNECT_TIMEOUT, LLM_DEADLINE (all of a digest's calls), LLM_MAX_RETRIES,
LLM_TOKEN_BUDGET (prompt tokens per call), LLM_TEMPERATURE, LLM_PROMPT_VERSION (None:
``PROMPT_VERSION``; changing it invalidates the cache).
"""

from __future__ import annotations

import email.utils
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any, TypeVar, cast

import openai
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from scrapy.settings import BaseSettings

from digestcrawl.digest.model import (
    DigestContent,
    DigestInput,
    LLMSpent,
    LooseMember,
    MergeVerdicts,
    Story,
    StorySummary,
    Summarizer,
    SummaryResult,
)
from digestcrawl.digest.summarize.cache import LLMCache, cache_key
from digestcrawl.digest.summarize.grounding import check_content, check_story, ground_sections
from digestcrawl.digest.summarize.once import each_fact_once
from digestcrawl.digest.summarize.prompt import (
    MERGE_PROMPT_VERSION,
    PROMPT_VERSION,
    REPAIR,
    digest_messages,
    merge_messages,
    story_messages,
)
from digestcrawl.text import HAN, EntityFinder
from digestcrawl.validation import describe

logger = logging.getLogger(__name__)
T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")
RETRY_STATUSES = frozenset({408, 409, 429})  # and every 5xx
INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 8.0
# An attempt's own timeouts fire at the deadline; the watchdog gives them this long first.
WATCHDOG_GRACE = 0.5
MERGE_MAX_QUESTIONS = 30  # the loosest members the merge check asks about: a bound on its size


@dataclass(frozen=True)
class LLMConfig:
    model: str = "gpt-4o-mini"
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 60.0  # read timeout of one attempt
    connect_timeout: float = 10.0
    deadline: float = 60.0  # all of one digest's calls, retries and waits
    max_retries: int = 3
    token_budget: int = 12000
    temperature: float = 0.2
    prompt_version: str = PROMPT_VERSION

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> LLMConfig:
        return cls(
            model=settings.get("LLM_MODEL"),
            base_url=settings.get("LLM_BASE_URL") or None,
            api_key=settings.get("LLM_API_KEY") or None,
            timeout=settings.getfloat("LLM_TIMEOUT"),
            connect_timeout=settings.getfloat("LLM_CONNECT_TIMEOUT"),
            deadline=settings.getfloat("LLM_DEADLINE"),
            max_retries=settings.getint("LLM_MAX_RETRIES"),
            token_budget=settings.getint("LLM_TOKEN_BUDGET"),
            temperature=settings.getfloat("LLM_TEMPERATURE"),
            prompt_version=settings.get("LLM_PROMPT_VERSION") or PROMPT_VERSION,
        )


@dataclass
class LLMSummaryResult(SummaryResult):
    cached_calls: int = 0  # answers replayed from the cache (not counted in llm_calls)
    grounding_failures: int = 0  # stories whose first summary failed the grounding check
    regenerated: int = 0  # of those, stories a focused call fixed
    replaced: list[str] = field(default_factory=list)  # story keys given the fallback's summary
    untranslated_titles: list[str] = field(default_factory=list)  # story keys given the offline title


class LLMFault(Exception):
    """No usable answer from the LLM; the message is the fallback reason, ``kind`` its class:
    timeout, deadline, connection, http_status, malformed_body, invalid_answer or error."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


class _Overdue(Exception):
    """The watchdog gave up on an attempt."""


class _Message(BaseModel):
    content: str | None = None


class _Choice(BaseModel):
    message: _Message


class _Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class _Completion(BaseModel):
    """The part of a Chat Completions response we read, validated: a body that is not JSON,
    or JSON of the wrong shape or types, fails here rather than deep inside the digest."""

    model_config = ConfigDict(extra="ignore")
    choices: list[_Choice] = Field(min_length=1)
    usage: _Usage | None = None


def _titles_in_language(digest: DigestInput, stories: list[StorySummary],
                        offline: Callable[[], DigestContent]) -> tuple[list[StorySummary], list[str]]:
    """The stories, a title the LLM left in another language (no Han character in a Chinese
    post) replaced by the offline title; and the keys of the stories so changed.

    The offline title is the story's own headline in the post's language, else its original
    words, as the offline digest shows it: a reader never gets a paraphrase in a third language,
    and the sources list keeps every article's original title either way."""
    if not digest.language.is_chinese:  # only a Chinese post's titles must be in Han characters
        return stories, []
    keys = [summary.story_key for summary in stories if not HAN.search(summary.title)]
    if not keys:
        return stories, []
    titles = {summary.story_key: summary.title for summary in offline().stories}
    return [summary.model_copy(update={"title": titles[summary.story_key]})
            if summary.story_key in keys and summary.story_key in titles else summary
            for summary in stories], keys


# --- the calls --------------------------------------------------------------------------------

@dataclass
class _Tally:
    """One digest's calls: what they cost (``spent``), what grounding found, and their limits;
    becomes the LLMSummaryResult's counts."""

    spent: LLMSpent = field(default_factory=LLMSpent)
    grounding_failures: int = 0
    regenerated: int = 0
    replaced: list[str] = field(default_factory=list)
    deadline: float = math.inf  # time.monotonic() by which the digest's calls must be done
    budget: int | None = None  # the most calls the digest may make (None: no cap)

    @classmethod
    def after(cls, spent: LLMSpent, deadline: float, budget: int | None = None) -> _Tally:
        """A tally that counts on from what the digest already ``spent`` (a copy: that stays)."""
        return cls(spent=replace(spent), deadline=time.monotonic() + deadline - spent.seconds, budget=budget)

    def counts(self) -> dict[str, Any]:
        """The LLMSummaryResult's fields."""
        spent = asdict(self.spent)
        del spent["seconds"]
        return {**spent, "grounding_failures": self.grounding_failures, "regenerated": self.regenerated,
                "replaced": list(self.replaced)}

    def spent_in(self, seconds: float) -> LLMSpent:
        """What the calls cost, having taken ``seconds``."""
        return replace(self.spent, seconds=seconds)

    def left(self) -> float:
        return self.deadline - time.monotonic()


def _response_format(schema: type[BaseModel]) -> dict[str, Any]:
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", schema.__name__).lower()
    return {"type": "json_schema",
            "json_schema": {"name": name, "schema": schema.model_json_schema(), "strict": False}}


def _parse(text: str, schema: type[T]) -> T:
    # Some servers wrap JSON in a Markdown fence even when asked for a schema.
    return schema.model_validate_json(re.sub(r"^\s*```(?:json)?|```\s*$", "", text))


def _after(retries: int) -> str:
    return f"after {retries} {'retry' if retries == 1 else 'retries'}"


def _fault(error: openai.OpenAIError, retries: int) -> tuple[LLMFault, float | None]:
    """The fault an attempt's error means, and how long to wait before retrying it (None: not
    worth retrying)."""
    backoff = min(INITIAL_BACKOFF * 2 ** retries, MAX_BACKOFF)
    if isinstance(error, openai.APITimeoutError):
        return LLMFault(f"LLM timeout {_after(retries)}", "timeout"), backoff
    if isinstance(error, openai.APIConnectionError):
        return LLMFault(f"LLM connection error {_after(retries)}: {error}", "connection"), backoff
    if isinstance(error, openai.APIStatusError):
        fault = LLMFault(f"LLM HTTP {error.status_code} {_after(retries)}", "http_status")
        if error.status_code in RETRY_STATUSES or error.status_code >= 500:
            after = _retry_after(error.response.headers)
            return fault, backoff if after is None else after
        return fault, None
    return LLMFault(f"LLM error: {error}", "error"), None


def _retry_after(headers: Any) -> float | None:
    """Seconds from Retry-After-Ms or Retry-After (seconds or an HTTP date), if either is valid."""
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        with suppress(ValueError):
            seconds = float(value) / scale
            return seconds if math.isfinite(seconds) and seconds >= 0 else None
        with suppress(TypeError, ValueError, OverflowError):
            when = email.utils.parsedate_to_datetime(value)
            return max(when.timestamp() - time.time(), 0.0)
    return None


def _within(seconds: float, call: Callable[[], R]) -> R:
    """``call()`` in a daemon thread, given up on (``_Overdue``) after ``seconds``; the thread
    is left to end on its own timeouts."""
    outcome: list[tuple[bool, Any]] = []
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as error:  # handed to the caller's thread
            outcome.append((False, error))
        finally:
            done.set()

    threading.Thread(target=run, name="llm-call", daemon=True).start()
    if not done.wait(seconds):
        raise _Overdue
    ok, value = outcome[0]
    if not ok:
        raise value
    return cast(R, value)


class LLMSummarizer:
    """Implements ``Summarizer``; blocking, so callers run it off the reactor thread."""

    def __init__(self, config: LLMConfig, fallback: Summarizer, cache: LLMCache,
                 finder: EntityFinder | None = None) -> None:
        self.config, self.fallback, self.cache, self.finder = config, fallback, cache, finder
        # A keyless local server still needs some key: the client refuses to start without one.
        # Retries are ours (_complete), within the digest's deadline.
        self.client = openai.OpenAI(base_url=config.base_url, api_key=config.api_key or "none",
                                    timeout=openai.Timeout(config.timeout, connect=config.connect_timeout),
                                    max_retries=0)

    def close(self) -> None:
        self.client.close()

    def check_merges(self, model_key: str, day: date, loose: list[LooseMember]) -> tuple[list[LooseMember], LLMSpent]:
        """The loosely held members the LLM says report another event (``group_stories`` splits
        them off), and what the check cost; none when there is nothing to ask or no usable answer."""
        if not loose:
            return [], LLMSpent()
        loosest = set(sorted(range(len(loose)), key=lambda i: loose[i].probability)[:MERGE_MAX_QUESTIONS])
        loose = [member for i, member in enumerate(loose) if i in loosest]
        started = time.monotonic()
        tally = _Tally(deadline=started + self.config.deadline)

        def one_each(answer: MergeVerdicts) -> None:
            answered = sorted(verdict.id for verdict in answer.verdicts)
            if answered != list(range(1, len(loose) + 1)):
                raise ValueError(f"verdicts for questions {answered}, not one for each of 1 to {len(loose)}")

        try:
            answer = self._ask(tally, merge_messages(loose), MergeVerdicts, repair=False,
                               version=MERGE_PROMPT_VERSION, validate=one_each)
        except LLMFault as fault:
            logger.warning("LLM merge check of %s for %s kept the offline grouping (%s): %s",
                           model_key, day, fault.kind, fault)
            return [], tally.spent_in(time.monotonic() - started)
        split = [loose[verdict.id - 1] for verdict in answer.verdicts if not verdict.same]
        logger.info("LLM merge check of %s for %s: %s of %s loosely held articles split off%s", model_key, day,
                    len(split), len(loose), f": {', '.join(sorted(m.article.url for m in split))}" if split else "")
        return split, tally.spent_in(time.monotonic() - started)

    def summarize(self, digest: DigestInput) -> SummaryResult:
        # The merge check's calls count in the digest's budget of stories + 2, its time in the deadline.
        tally = _Tally.after(digest.spent, self.config.deadline, budget=len(digest.stories) + 2)
        try:
            messages = digest_messages(digest, self.config.token_budget)
            content = self._ask(tally, messages, DigestContent)
        except LLMFault as fault:
            logger.warning("LLM digest of %s for %s fell back to extractive (%s): %s",
                           digest.model_key, digest.day, fault.kind, fault)
            return LLMSummaryResult(content=self.fallback.summarize(digest).content,
                                    generator="extractive", fallback_reason=str(fault),
                                    fallback_kind=fault.kind, **tally.counts())
        offline: list[DigestContent] = []

        def fallback() -> DigestContent:  # the fallback's digest, made once and only if needed
            if not offline:
                offline.append(self.fallback.summarize(digest).content)
            return offline[0]

        stories, untranslated = _titles_in_language(digest, self._grounded(tally, digest, content, fallback),
                                                    fallback)
        if untranslated:
            logger.warning("LLM digest of %s for %s: %s story titles not in %s, the offline title kept: %s",
                           digest.model_key, digest.day, len(untranslated), digest.language,
                           ", ".join(untranslated))
        if tally.grounding_failures:
            logger.warning("LLM digest of %s for %s: %s of %s stories failed grounding, "
                           "%s regenerated, replaced by extractive: %s", digest.model_key,
                           digest.day, tally.grounding_failures, len(digest.stories),
                           tally.regenerated, ", ".join(tally.replaced) or "none")
        grounded = ground_sections(content.model_copy(update={"stories": stories}), digest, fallback,
                                   self.finder)
        dropped = sum(len(problems) for problems in grounded.dropped.values())
        if dropped:
            logger.warning("LLM digest of %s for %s: %s sentences, items or tags failed grounding and "
                           "were dropped (%s); extractive text for: %s", digest.model_key, digest.day,
                           dropped, "; ".join(f"{k}: {' | '.join(v)}" for k, v in grounded.dropped.items()),
                           ", ".join(grounded.replaced) or "none")
        return LLMSummaryResult(content=each_fact_once(grounded.content), generator=f"llm:{self.config.model}",
                                ungrounded=dropped, replaced_sections=grounded.replaced,
                                untranslated_titles=untranslated, **tally.counts())

    def _grounded(self, tally: _Tally, digest: DigestInput, content: DigestContent,
                  offline: Callable[[], DigestContent]) -> list[StorySummary]:
        """One summary per story, in the digest's order: the LLM's if grounded, else regenerated
        once, else the fallback's."""
        problems = check_content(content, digest, self.finder)
        written = {summary.story_key: summary for summary in content.stories}
        fallback: dict[str, StorySummary] = {}
        stories: list[StorySummary] = []
        for story in digest.stories:
            summary = written.get(story.key)
            if story.key in problems:
                tally.grounding_failures += 1
                summary = self._regenerate(tally, digest, story, problems[story.key])
            if summary is None:
                if not fallback:
                    fallback = {summary.story_key: summary for summary in offline().stories}
                tally.replaced.append(story.key)
                summary = fallback[story.key]
            stories.append(summary)
        return stories

    def _regenerate(self, tally: _Tally, digest: DigestInput, story: Story,
                    problems: list[str]) -> StorySummary | None:
        logger.info("Story %s of %s failed grounding: %s", story.key, digest.model_key,
                    "; ".join(problems))
        if tally.budget is not None and tally.spent.llm_calls >= tally.budget:
            logger.info("Story %s of %s not regenerated: the digest's %s LLM calls are spent", story.key,
                        digest.model_key, tally.budget)
            return None
        messages = story_messages(digest, story, problems, self.config.token_budget)
        try:
            summary = self._ask(tally, messages, StorySummary, repair=False)
        except LLMFault as fault:
            logger.info("Story %s of %s not regenerated: %s", story.key, digest.model_key, fault)
            return None
        summary = summary.model_copy(update={"story_key": story.key})
        again = check_story(summary, digest, self.finder)
        if again:
            logger.info("Story %s of %s failed grounding again: %s", story.key, digest.model_key,
                        "; ".join(again))
            return None
        tally.regenerated += 1
        return summary

    def _ask(self, tally: _Tally, messages: list[dict[str, str]], schema: type[T],
             repair: bool = True, version: str | None = None,
             validate: Callable[[T], None] | None = None) -> T:
        """A valid answer, cached or after at most one repair request; raises LLMFault.

        Valid: of ``schema``, and accepted by ``validate`` (which raises ValueError otherwise).
        It is cached under the original request and ``version`` (default: the prompt version),
        so a repaired answer is replayed too."""
        version = version or self.config.prompt_version
        key = cache_key(self.config.model, version, messages)
        cached = self.cache.get(key)
        if cached is not None:
            with suppress(ValueError):  # cached before a schema change: ask again
                parsed = _parse(cached.response, schema)
                if validate is not None:
                    validate(parsed)
                tally.spent.cached_calls += 1
                return parsed
        error = ""
        for _ in range(2 if repair else 1):
            text, usage = self._complete(tally, messages, schema)
            try:
                parsed = _parse(text, schema)
                if validate is not None:
                    validate(parsed)
            except ValidationError as exc:
                error = describe(exc, "answer")
            except ValueError as exc:
                error = str(exc)
            else:
                self.cache.put(key, self.config.model, version, text, *usage)
                return parsed
            messages = [*messages, {"role": "assistant", "content": text},
                        {"role": "user", "content": REPAIR.format(error=error)}]
        raise LLMFault(f"LLM answer invalid{' after one repair' if repair else ''}: {error}",
                       "invalid_answer")

    def _complete(self, tally: _Tally, messages: list[dict[str, str]],
                  schema: type[BaseModel]) -> tuple[str, tuple[int, int]]:
        """One call: attempts with backoff until an answer, a fault or the deadline."""
        tally.spent.llm_calls += 1
        for retries in range(self.config.max_retries + 1):
            left = tally.left()
            if left <= 0:
                raise self._overdue(retries)
            try:
                body = self._attempt(messages, schema, retries, left)
            except _Overdue:
                raise self._overdue(retries) from None
            except openai.OpenAIError as error:
                fault, wait = _fault(error, retries)
                if tally.left() <= 0:
                    raise self._overdue(retries) from error
                if wait is None or retries == self.config.max_retries:
                    raise fault from error
                if wait >= tally.left():
                    raise LLMFault(f"{fault}; a retry in {wait:g} s would pass the "
                                   f"{self.config.deadline:g} s deadline", fault.kind) from error
                logger.info("%s; retrying in %.1f s", fault, wait)
                time.sleep(wait)
                continue
            except Exception as error:  # anything else the client raises: still only a fallback
                raise LLMFault(f"LLM error: {type(error).__name__}: {error}", "error") from error
            return self._read(tally, body)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _overdue(self, retries: int) -> LLMFault:
        return LLMFault(f"LLM deadline of {self.config.deadline:g} s passed {_after(retries)}", "deadline")

    def _attempt(self, messages: list[dict[str, str]], schema: type[BaseModel], retries: int,
                 left: float) -> bytes:
        """The raw response body of one request, its timeouts cut to the ``left`` seconds."""
        timeout = openai.Timeout(min(self.config.timeout, left),
                                 connect=min(self.config.connect_timeout, left))

        def send() -> bytes:
            return self.client.chat.completions.with_raw_response.create(
                model=self.config.model, messages=cast(Any, messages),
                temperature=self.config.temperature,
                response_format=cast(Any, _response_format(schema)), timeout=timeout,
                extra_headers={"x-stainless-retry-count": str(retries)}).content

        return _within(left + WATCHDOG_GRACE, send)

    def _read(self, tally: _Tally, body: bytes) -> tuple[str, tuple[int, int]]:
        """The assistant's text and the token usage; a body that is not a chat completion
        (not JSON, text/plain, wrong shape or types) is counted and is a fault."""
        try:
            completion = _Completion.model_validate_json(body)
        except ValidationError as error:
            tally.spent.malformed += 1
            raise LLMFault(f"LLM response is not a chat completion: {describe(error, 'answer')} "
                           f"(body starts {body[:80]!r})", "malformed_body") from None
        usage = (completion.usage.prompt_tokens, completion.usage.completion_tokens) if completion.usage else (0, 0)
        tally.spent.prompt_tokens += usage[0]
        tally.spent.completion_tokens += usage[1]
        return completion.choices[0].message.content or "", usage
