"""A write-ahead file for articles (and repository counters) the database would not take,
replayed on the next run, and the quarantine beside it for what can never be stored.

One JSON line per item (counters marked ``"item": "repo_stats"``), flushed and fsynced, so a
database outage mid-crawl loses nothing.
A spool line that cannot be read back (cut short by a crash, edited, from another version) is
no article: the spool reports it instead of failing the whole replay, and the store moves it to
``rejected.jsonl`` with the rows the database refused, each line with its reason.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import os
import types
import typing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from digestcrawl.items import Article, Item, RepoStats

DATE_FIELDS = ("published", "modified", "fetched", "entry_changed")
REJECTED_FILE = "rejected.jsonl"
REPO_STATS = "repo_stats"  # the "item" marker of a counters line; article lines have none


def to_dict(item: Item) -> dict[str, Any]:
    if isinstance(item, RepoStats):
        reading: dict[str, Any] = dataclasses.asdict(item)
        reading["day"] = item.day.isoformat()
        reading["fetched"] = item.fetched.isoformat() if item.fetched else None
        return {"item": REPO_STATS, **reading}
    article = item
    data: dict[str, Any] = dataclasses.asdict(article)
    for name in DATE_FIELDS:
        if data[name] is not None:
            data[name] = data[name].isoformat()
    if data["minhash"] is not None:
        data["minhash"] = base64.b64encode(data["minhash"]).decode()
    return data


def to_json(item: Item) -> str:
    return json.dumps(to_dict(item), ensure_ascii=False)


def _repo_stats(data: dict[str, Any]) -> RepoStats:
    try:
        data.pop("item")
        reading = RepoStats(**{**data, "day": date.fromisoformat(data["day"]),
                               "fetched": datetime.fromisoformat(data["fetched"]) if data.get("fetched") else None})
    except KeyError as exc:
        raise ValueError(f"missing field {exc}") from None
    except TypeError as exc:
        raise ValueError(str(exc)) from None
    if not (isinstance(reading.repo, str) and isinstance(reading.model, str) and isinstance(reading.source, str)
            and isinstance(reading.url, str) and isinstance(reading.downloads, int)
            and isinstance(reading.likes, int | None)):
        raise ValueError("a counters line with a field of the wrong type")
    return reading


def from_json(line: str) -> Item:
    """The article or counters reading of a spool line; ValueError when the line holds none."""
    try:
        data = json.loads(line)
        if not isinstance(data, dict):
            raise ValueError(f"a JSON {type(data).__name__}, not an object")
        if data.get("item") == REPO_STATS:
            return _repo_stats(data)
        for name in DATE_FIELDS:
            if data[name] is not None:
                data[name] = datetime.fromisoformat(data[name])
        if data["minhash"] is not None:
            data["minhash"] = base64.b64decode(data["minhash"], validate=True)
        article = Article(**data)
    except KeyError as exc:
        raise ValueError(f"missing field {exc}") from None
    except (TypeError, binascii.Error) as exc:
        raise ValueError(str(exc)) from None
    for name, kinds in _FIELD_TYPES.items():
        if not isinstance(getattr(article, name), kinds):
            raise ValueError(f"field {name} holds a {type(getattr(article, name)).__name__}")
    return article


def _field_types() -> dict[str, tuple[type, ...]]:
    """Each Article field's accepted runtime types, from its annotation (shallow: dict, not
    dict[str, int]), so that a wrong-typed spool line fails here, not deep in the store."""
    kinds: dict[str, tuple[type, ...]] = {}
    for name, hint in typing.get_type_hints(Article).items():
        options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        accepted = tuple(typing.get_origin(option) or option for option in options)
        kinds[name] = (*accepted, int) if float in accepted else accepted  # JSON writes 1.0 as 1
    return kinds


_FIELD_TYPES = _field_types()


@dataclass(frozen=True)
class CorruptLine:
    number: int
    text: str
    error: str


def _append_line(path: Path, line: str) -> None:
    """Append one line durably; a last line left without its newline (a crash mid-write) is
    ended first, so that it does not swallow the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as handle:
        if handle.seek(0, os.SEEK_END):
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                line = "\n" + line
        handle.write((line + "\n").encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())


class Spool:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, item: Item) -> None:
        _append_line(self.path, to_json(item))

    def read(self) -> tuple[list[Item], list[CorruptLine]]:
        """The spooled items, and the lines that hold none."""
        articles: list[Item] = []
        corrupt: list[CorruptLine] = []
        if not self.path.exists():
            return articles, corrupt
        with self.path.open(encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    articles.append(from_json(line))
                except ValueError as exc:
                    corrupt.append(CorruptLine(number, line.rstrip("\n"), str(exc)))
        return articles, corrupt

    def replace(self, articles: list[Item]) -> None:
        """Keep only ``articles`` (those still not stored), atomically."""
        if not articles:
            self.path.unlink(missing_ok=True)
            return
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text("".join(to_json(a) + "\n" for a in articles), encoding="utf-8")
        temporary.replace(self.path)


class Rejected:
    """``rejected.jsonl``: what will never be stored, one JSON line each with its reason, for a
    person to read (nothing replays it)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def add(self, reason: str, detail: str, **record: Any) -> None:
        entry = {"rejected_at": datetime.now(UTC).isoformat(timespec="seconds"), "reason": reason,
                 "detail": detail, **record}
        _append_line(self.path, json.dumps(entry, ensure_ascii=False, default=str))
