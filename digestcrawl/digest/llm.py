"""The LLM summarizer: any OpenAI-compatible endpoint writes the digest, checked and grounded.

One structured-output call writes the whole digest from every story's articles, trimmed to the
token budget. An answer that is not valid ``DigestContent`` gets one repair request. A story
whose summary fails the grounding check (``digestcrawl.digest.grounding``) is regenerated once
by a focused call; if it fails again, the fallback's summary of that story replaces it. So a
digest costs at most stories + 2 calls. When the LLM gives nothing usable (timeout, connection
error, error status, invalid answers) the fallback writes the whole digest and the result says
why; an LLM fault never raises. Answers are cached in the database (``LLMCache``), so an
unchanged re-run makes no call. Retries with backoff (honouring Retry-After) are the client's.

The prompt (``digestcrawl.digest.prompt``) keeps crawled text as delimited data in the user
message, under a fixed system message that says delimited content is never instructions.

Settings: LLM_MODEL (default gpt-4o-mini), LLM_BASE_URL (default env OPENAI_BASE_URL),
LLM_API_KEY (default env OPENAI_API_KEY), LLM_TIMEOUT (60 s), LLM_MAX_RETRIES (3),
LLM_TOKEN_BUDGET (12000 prompt tokens per call), LLM_TEMPERATURE (0.2), LLM_PROMPT_VERSION
(default ``PROMPT_VERSION``; changing it invalidates the cache).
"""

from __future__ import annotations

import logging
import os
import re
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar, cast

import openai
from pydantic import BaseModel, ValidationError
from scrapy.settings import BaseSettings

from digestcrawl.digest.cache import LLMCache, cache_key
from digestcrawl.digest.grounding import check_content, check_story
from digestcrawl.digest.model import (
    DigestContent,
    DigestInput,
    Story,
    StorySummary,
    Summarizer,
    SummaryResult,
)
from digestcrawl.digest.prompt import PROMPT_VERSION, REPAIR, digest_messages, story_messages

logger = logging.getLogger(__name__)
T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class LLMConfig:
    model: str = "gpt-4o-mini"
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    max_retries: int = 3
    token_budget: int = 12000
    temperature: float = 0.2
    prompt_version: str = PROMPT_VERSION

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> LLMConfig:
        return cls(
            model=settings.get("LLM_MODEL") or cls.model,
            base_url=settings.get("LLM_BASE_URL") or os.environ.get("OPENAI_BASE_URL") or None,
            api_key=settings.get("LLM_API_KEY") or os.environ.get("OPENAI_API_KEY") or None,
            timeout=settings.getfloat("LLM_TIMEOUT", cls.timeout),
            max_retries=settings.getint("LLM_MAX_RETRIES", cls.max_retries),
            token_budget=settings.getint("LLM_TOKEN_BUDGET", cls.token_budget),
            temperature=settings.getfloat("LLM_TEMPERATURE", cls.temperature),
            prompt_version=settings.get("LLM_PROMPT_VERSION") or PROMPT_VERSION,
        )


@dataclass
class LLMSummaryResult(SummaryResult):
    cached_calls: int = 0  # answers replayed from the cache (not counted in llm_calls)
    grounding_failures: int = 0  # stories whose first summary failed the grounding check
    regenerated: int = 0  # of those, stories a focused call fixed
    replaced: list[str] = field(default_factory=list)  # story keys given the fallback's summary


class LLMFault(Exception):
    """No usable answer from the LLM; the message is the fallback reason."""


# --- the calls --------------------------------------------------------------------------------

@dataclass
class _Tally:
    """What one digest's calls cost and found; becomes the LLMSummaryResult's counts."""

    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_calls: int = 0
    grounding_failures: int = 0
    regenerated: int = 0
    replaced: list[str] = field(default_factory=list)


def _response_format(schema: type[BaseModel]) -> dict[str, Any]:
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", schema.__name__).lower()
    return {"type": "json_schema",
            "json_schema": {"name": name, "schema": schema.model_json_schema(), "strict": False}}


def _parse(text: str, schema: type[T]) -> T:
    # Some servers wrap JSON in a Markdown fence even when asked for a schema.
    return schema.model_validate_json(re.sub(r"^\s*```(?:json)?|```\s*$", "", text))


def _describe(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}"
                     for e in error.errors()[:5])[:1000]


def _fault(error: openai.OpenAIError) -> LLMFault:
    request = getattr(error, "request", None)
    retries = int(request.headers.get("x-stainless-retry-count", 0)) if request is not None else 0
    after = f"after {retries} {'retry' if retries == 1 else 'retries'}"
    if isinstance(error, openai.APITimeoutError):
        return LLMFault(f"LLM timeout {after}")
    if isinstance(error, openai.APIConnectionError):
        return LLMFault(f"LLM connection error {after}: {error}")
    if isinstance(error, openai.APIStatusError):
        return LLMFault(f"LLM HTTP {error.status_code} {after}")
    return LLMFault(f"LLM error: {error}")


class LLMSummarizer:
    """Implements ``Summarizer``; blocking, so callers run it off the reactor thread."""

    def __init__(self, config: LLMConfig, fallback: Summarizer, cache: LLMCache) -> None:
        self.config, self.fallback, self.cache = config, fallback, cache
        # A keyless local server still needs some key: the client refuses to start without one.
        self.client = openai.OpenAI(base_url=config.base_url, api_key=config.api_key or "none",
                                    timeout=config.timeout, max_retries=config.max_retries)

    def close(self) -> None:
        self.client.close()

    def summarize(self, digest: DigestInput) -> SummaryResult:
        tally = _Tally()
        try:
            messages = digest_messages(digest, self.config.token_budget)
            content = self._ask(tally, messages, DigestContent)
        except LLMFault as fault:
            logger.warning("LLM digest of %s for %s fell back to extractive: %s",
                           digest.model_key, digest.day, fault)
            return LLMSummaryResult(content=self.fallback.summarize(digest).content,
                                    generator="extractive", fallback_reason=str(fault),
                                    **asdict(tally))
        stories = self._grounded(tally, digest, content)
        if tally.grounding_failures:
            logger.warning("LLM digest of %s for %s: %s of %s stories failed grounding, "
                           "%s regenerated, replaced by extractive: %s", digest.model_key,
                           digest.day, tally.grounding_failures, len(digest.stories),
                           tally.regenerated, ", ".join(tally.replaced) or "none")
        return LLMSummaryResult(content=content.model_copy(update={"stories": stories}),
                                generator=f"llm:{self.config.model}", **asdict(tally))

    def _grounded(self, tally: _Tally, digest: DigestInput,
                  content: DigestContent) -> list[StorySummary]:
        """One summary per story, in the digest's order: the LLM's if grounded, else regenerated
        once, else the fallback's."""
        problems = check_content(content, digest)
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
                    fallback = {summary.story_key: summary
                                for summary in self.fallback.summarize(digest).content.stories}
                tally.replaced.append(story.key)
                summary = fallback[story.key]
            stories.append(summary)
        return stories

    def _regenerate(self, tally: _Tally, digest: DigestInput, story: Story,
                    problems: list[str]) -> StorySummary | None:
        logger.info("Story %s of %s failed grounding: %s", story.key, digest.model_key,
                    "; ".join(problems))
        messages = story_messages(digest, story, problems, self.config.token_budget)
        try:
            summary = self._ask(tally, messages, StorySummary, repair=False)
        except LLMFault as fault:
            logger.info("Story %s of %s not regenerated: %s", story.key, digest.model_key, fault)
            return None
        summary = summary.model_copy(update={"story_key": story.key})
        again = check_story(summary, digest)
        if again:
            logger.info("Story %s of %s failed grounding again: %s", story.key, digest.model_key,
                        "; ".join(again))
            return None
        tally.regenerated += 1
        return summary

    def _ask(self, tally: _Tally, messages: list[dict[str, str]], schema: type[T],
             repair: bool = True) -> T:
        """A valid answer, cached or after at most one repair request; raises LLMFault.

        It is cached under the original request, so a repaired answer is replayed too."""
        key = cache_key(self.config.model, self.config.prompt_version, messages)
        cached = self.cache.get(key)
        if cached is not None:
            with suppress(ValidationError):  # cached before a schema change: ask again
                parsed = _parse(cached.response, schema)
                tally.cached_calls += 1
                return parsed
        error = ""
        for _ in range(2 if repair else 1):
            text, usage = self._complete(tally, messages, schema)
            try:
                parsed = _parse(text, schema)
            except ValidationError as exc:
                error = _describe(exc)
                messages = [*messages, {"role": "assistant", "content": text},
                            {"role": "user", "content": REPAIR.format(error=error)}]
                continue
            self.cache.put(key, self.config.model, self.config.prompt_version, text, *usage)
            return parsed
        raise LLMFault(f"LLM answer invalid{' after one repair' if repair else ''}: {error}")

    def _complete(self, tally: _Tally, messages: list[dict[str, str]],
                  schema: type[BaseModel]) -> tuple[str, tuple[int, int]]:
        tally.llm_calls += 1
        try:
            response = self.client.chat.completions.create(
                model=self.config.model, messages=cast(Any, messages),
                temperature=self.config.temperature,
                response_format=cast(Any, _response_format(schema)))
        except openai.OpenAIError as error:
            raise _fault(error) from error
        usage = (0, 0)
        if response.usage:
            usage = (response.usage.prompt_tokens, response.usage.completion_tokens)
        tally.prompt_tokens += usage[0]
        tally.completion_tokens += usage[1]
        return (response.choices[0].message.content or "") if response.choices else "", usage
