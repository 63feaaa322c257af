"""A write-ahead file for articles the database would not take, replayed on the next run.

One JSON line per article, flushed and fsynced, so a database outage mid-crawl loses nothing.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from digestcrawl.items import Article

DATE_FIELDS = ("published", "modified", "fetched", "entry_changed")


def to_json(article: Article) -> str:
    data: dict[str, Any] = dataclasses.asdict(article)
    for name in DATE_FIELDS:
        if data[name] is not None:
            data[name] = data[name].isoformat()
    if data["minhash"] is not None:
        data["minhash"] = base64.b64encode(data["minhash"]).decode()
    return json.dumps(data, ensure_ascii=False)


def from_json(line: str) -> Article:
    data = json.loads(line)
    for name in DATE_FIELDS:
        if data[name] is not None:
            data[name] = datetime.fromisoformat(data[name])
    if data["minhash"] is not None:
        data["minhash"] = base64.b64decode(data["minhash"])
    return Article(**data)


class Spool:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, article: Article) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(to_json(article) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def pending(self) -> Iterator[Article]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield from_json(line)

    def replace(self, articles: list[Article]) -> None:
        """Keep only ``articles`` (those still not stored), atomically."""
        if not articles:
            self.path.unlink(missing_ok=True)
            return
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text("".join(to_json(a) + "\n" for a in articles), encoding="utf-8")
        temporary.replace(self.path)
