"""Typed, validated configuration: which models to watch and which sources to crawl.

Both files are YAML. The defaults ship inside the package (``digestcrawl/conf/``) so a Scrapyd
egg carries them; the settings ``DIGESTCRAWL_MODELS_FILE`` and ``DIGESTCRAWL_SOURCES_FILE``
point at other files. Every entry is validated on load; an error names the file, the entry and
the field.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from digestcrawl.crawl.kinds import KINDS, OPTION_FIELDS, FieldMap, Selectors
from digestcrawl.languages import Script
from digestcrawl.validation import describe

ModelKey = Annotated[str, Field(pattern=r"^[a-z0-9-]+$")]
SourceName = Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
# A Hugging Face account ("Qwen", "deepseek-ai") and a GitHub repository ("QwenLM/Qwen3"), as
# they appear in URLs: nothing to quote, no way out of the path.
HubAuthor = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")]
GitHubRepo = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")]

DEFAULT_TIMEZONES = {
    "zh-TW": "Asia/Taipei",
    "zh-HK": "Asia/Hong_Kong",
    "zh-CN": "Asia/Shanghai",
    "ja": "Asia/Tokyo",
    "en": "UTC",
}


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names file, entry and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContextRules(_Strict):
    """Words that decide whether an ambiguous alias means the AI model."""

    require: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    # Product words that, right after an ambiguous alias, name the model ("Gemini … Pro").
    family: tuple[str, ...] = ()


class ModelConfig(_Strict):
    display: str
    company: str | None = None
    # A sentence for the model's page on the site, per DIGEST_LANGUAGE (zh-TW, zh-CN, en, ja).
    description: dict[str, str] = {}
    tickers: tuple[str, ...] = ()
    aliases: dict[Script, tuple[str, ...]]
    # Aliases that also have an everyday meaning (the animal, the zodiac sign, a first name):
    # they count only when the context rules say the text is about AI.
    ambiguous: tuple[str, ...] = ()
    context: ContextRules = ContextRules()
    # The model's own Hugging Face organisations and GitHub repositories: what a source URL's
    # {hf_author} / {github_repo} expands to, and what makes an entry first-party.
    hf_authors: tuple[HubAuthor, ...] = ()
    github_repos: tuple[GitHubRepo, ...] = ()

    @field_validator("aliases")
    @classmethod
    def _has_aliases(cls, value: dict[Script, tuple[str, ...]]) -> dict[Script, tuple[str, ...]]:
        if not any(value.values()):
            raise ValueError("at least one alias is required")
        return value

    @model_validator(mode="after")
    def _ambiguous_are_aliases(self) -> ModelConfig:
        unknown = set(self.ambiguous) - set(self.all_aliases)
        if unknown:
            raise ValueError(f"ambiguous names unknown aliases: {sorted(unknown)}")
        return self

    @property
    def all_aliases(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for names in self.aliases.values():
            seen.update(dict.fromkeys(names))
        return tuple(seen)

    def aliases_in(self, scripts: tuple[Script, ...]) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for script in scripts:
            seen.update(dict.fromkeys(self.aliases.get(script, ())))
        return tuple(seen)


class QueryExpansion(_Strict):
    """How ``{query}`` in a source URL expands from a model's aliases."""

    scripts: tuple[Script, ...] = ("latin",)
    # None: one request per alias; a string: one request with the aliases joined by it.
    join: str | None = " OR "


Category = Literal["news", "social", "finance", "release", "paper"]
# Placeholders that expand per selected model to that model's own accounts (ModelConfig): an
# entry read from such a URL is first-party for the model.
OWNER_FIELDS = frozenset({"hf_author", "github_repo"})
URL_FIELDS = frozenset({"query", "ticker", "since_ts"}) | OWNER_FIELDS


class SourceConfig(_Strict):
    name: SourceName
    kind: str  # a name in digestcrawl.crawl.kinds.KINDS
    category: Category
    url: str
    locale: str = "en"
    # The outlet's display name when its pages and entries do not name it (Hacker News, Reddit).
    publisher: str | None = None
    timezone: str | None = None
    query: QueryExpansion | None = None
    locales: dict[str, dict[str, str]] | None = None
    links: Literal["direct", "google", "bing"] = "direct"
    follow: bool = True
    render: Literal["playwright"] | None = None
    delay: float | None = Field(default=None, ge=0)
    # This source's request budget in a crawl, instead of SOURCE_MAX_REQUESTS (0: no cap).
    max_requests: int | None = Field(default=None, ge=0)
    # Settings of one kind each (its ``option``): listing selectors, json_api JMESPath fields.
    selectors: Selectors | None = None
    fields: FieldMap | None = None
    # Models this source speaks for (an official blog): its entries are theirs even when they
    # do not name them.
    first_party: tuple[ModelKey, ...] = ()

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(f"unknown kind {value!r}; kinds: {', '.join(KINDS)}")
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an absolute http(s) URL")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SourceConfig:
        kind = KINDS[self.kind]
        for option in sorted(OPTION_FIELDS):
            given = getattr(self, option) is not None
            if option == kind.option and not given:
                raise ValueError(f"a {kind.name} source needs {option}")
            if option != kind.option and given:
                raise ValueError(f"a {kind.name} source takes no {option}")
        placeholders = self.url_placeholders
        locale_params = {key for params in (self.locales or {}).values() for key in params}
        unknown = placeholders - URL_FIELDS - locale_params
        if unknown:
            raise ValueError(f"url has placeholders no config fills: {sorted(unknown)}")
        if missing := sorted(kind.placeholders - placeholders):
            raise ValueError(f"a {kind.name} url needs a placeholder {', '.join(f'{{{name}}}' for name in missing)}")
        if len(placeholders & OWNER_FIELDS) > 1:
            raise ValueError(f"url may name one owner placeholder, not {sorted(placeholders & OWNER_FIELDS)}")
        return self

    @property
    def owner_placeholder(self) -> str | None:
        """``hf_author`` or ``github_repo`` when the URL expands per model account."""
        return next(iter(self.url_placeholders & OWNER_FIELDS), None)

    @property
    def url_placeholders(self) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(self.url) if name}

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone or DEFAULT_TIMEZONES.get(self.locale, "UTC"))


@dataclass(frozen=True)
class SourceProblem:
    """A source entry that failed validation; the rest of the file still loads."""

    file: str
    entry: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: source {self.entry}: {self.message}"


def _read_yaml(path: str | None, default: str) -> tuple[str, Any]:
    if path:
        label = path
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    else:
        label = f"digestcrawl/conf/{default}"
        text = resources.files("digestcrawl").joinpath("conf", default).read_text("utf-8")
    try:
        return label, yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{label}: not valid YAML: {exc}") from exc


def load_models(path: str | None = None) -> dict[str, ModelConfig]:
    """Load and validate models.yaml; any bad entry is fatal (nothing can be matched without it)."""
    label, data = _read_yaml(path, "models.yaml")
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        raise ConfigError(f"{label}: expected a mapping with a 'models' key")
    models: dict[str, ModelConfig] = {}
    for key, entry in data["models"].items():
        if not isinstance(key, str) or not re.fullmatch(r"[a-z0-9-]+", key):
            raise ConfigError(f"{label}: model {key!r}: key must match [a-z0-9-]+")
        try:
            models[key] = ModelConfig.model_validate(entry)
        except ValidationError as exc:
            raise ConfigError(f"{label}: model {key}: {describe(exc, '(entry)', prefix='field ')}") from None
    return models


def load_entities(path: str | None = None) -> dict[str, tuple[str, ...]]:
    """Load entities.yaml: canonical name → every spelling (see the file's header)."""
    label, data = _read_yaml(path, "entities.yaml")
    entities = data.get("entities") if isinstance(data, dict) else None
    if not isinstance(entities, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and v and all(isinstance(n, str) for n in v)
            for k, v in entities.items()):
        raise ConfigError(f"{label}: expected 'entities' mapping names to non-empty lists of spellings")
    return {name: tuple(spellings) for name, spellings in entities.items()}


def load_concepts(path: str | None = None) -> frozenset[str]:
    """The entities of entities.yaml that are topics, not names (its ``concepts`` list)."""
    label, data = _read_yaml(path, "entities.yaml")
    concepts = data.get("concepts", []) if isinstance(data, dict) else []
    entities = load_entities(path)
    if not isinstance(concepts, list) or not all(isinstance(c, str) and c in entities for c in concepts):
        raise ConfigError(f"{label}: expected 'concepts' to list names of its 'entities'")
    return frozenset(concepts)


def load_sources(path: str | None = None) -> tuple[list[SourceConfig], list[SourceProblem]]:
    """Load sources.yaml: the valid entries, and one problem per invalid entry.

    A bad source must not stop the crawl of the good ones, so problems are returned for the
    caller to report instead of raised. A file that is not a list of sources at all is fatal.
    """
    label, data = _read_yaml(path, "sources.yaml")
    entries = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{label}: expected a mapping with a 'sources' list")
    sources: list[SourceConfig] = []
    problems: list[SourceProblem] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        name = entry.get("name") if isinstance(entry, dict) else None
        entry_label = f"#{index + 1} ({name})" if name else f"#{index + 1}"
        try:
            source = SourceConfig.model_validate(entry)
        except ValidationError as exc:
            problems.append(SourceProblem(label, entry_label, describe(exc, "(entry)", prefix="field ")))
            continue
        if source.name in seen:
            problems.append(SourceProblem(label, entry_label, "field name: duplicate name"))
            continue
        seen.add(source.name)
        sources.append(source)
    return sources, problems
