"""Spider arguments as a validated model: Scrapyd passes strings, spiders get typed values."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from digestcrawl.text import parse_datetime
from digestcrawl.validation import describe

RELATIVE = re.compile(r"^(\d+)\s*([hd])$")


class ArgumentError(ValueError):
    """Spider arguments that cannot be used; the message says which and why."""


def _split(value: Any) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(v) for v in value]


class CrawlArgs(BaseModel):
    """``model``: a key, a comma list or ``all``; ``since``/``until``: ISO dates or times, or
    ``36h`` / ``2d`` back from now (naive values are in DIGEST_TIMEZONE); ``source``: names."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    models: tuple[str, ...]
    since: datetime
    until: datetime | None = None
    sources: tuple[str, ...] | None = None

    @field_validator("until")
    @classmethod
    def _after_since(cls, value: datetime | None, info: Any) -> datetime | None:
        since = info.data.get("since")
        if value is not None and since is not None and value <= since:
            raise ValueError("until must be later than since")
        return value

    @classmethod
    def parse(cls, raw: dict[str, Any], known_models: list[str], known_sources: list[str],
              zone: tzinfo, now: datetime) -> CrawlArgs:
        unknown_args = set(raw) - {"model", "since", "until", "source"}
        if unknown_args:
            raise ArgumentError(f"unknown spider argument(s): {', '.join(sorted(unknown_args))}")
        models = _split(raw.get("model", "all"))
        if models == ["all"]:
            models = list(known_models)
        bad = [m for m in models if m not in known_models]
        if bad or not models:
            raise ArgumentError(f"model: unknown {bad or models}; known: {', '.join(known_models)} or all")
        sources = _split(raw["source"]) if raw.get("source") else None
        bad = [s for s in sources or [] if s not in known_sources]
        if bad:
            raise ArgumentError(f"source: unknown {bad}; known: {', '.join(known_sources)}")
        try:
            return cls(models=tuple(models), since=_moment(raw.get("since", "1d"), zone, now, "since"),
                       until=_moment(raw["until"], zone, now, "until") if raw.get("until") else None,
                       sources=tuple(sources) if sources else None)
        except ValidationError as exc:
            raise ArgumentError(describe(exc, "arguments")) from None


def _moment(value: Any, zone: tzinfo, now: datetime, name: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    text = str(value).strip()
    relative = RELATIVE.match(text)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        return now - (timedelta(hours=amount) if unit == "h" else timedelta(days=amount))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    result = parse_datetime(parsed or text, zone, any_time=True) if parsed is None or parsed.tzinfo is None else parsed
    if result is None:
        raise ArgumentError(f"{name}: cannot read {text!r} as a date, a time or e.g. 36h / 2d")
    return result
