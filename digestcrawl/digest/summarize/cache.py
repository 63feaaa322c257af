"""LLM answers stored in the database, so an unchanged digest is regenerated without a call.

The key is the sha256 of the model name, the prompt version and the exact request messages:
any change to an article, the instructions or the model asks again. Only answers that passed
validation are stored (the summarizer decides), so a bad answer is not replayed forever.

No settings are read; the engine is the digest's database (STORE_URL).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from digestcrawl.store import LLMCacheRow, dialect_insert


@dataclass(frozen=True)
class CachedAnswer:
    response: str
    prompt_tokens: int
    completion_tokens: int


def cache_key(model: str, prompt_version: str, messages: list[dict[str, Any]]) -> str:
    payload = json.dumps([model, prompt_version, messages], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class LLMCache:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._insert = dialect_insert(engine)

    def get(self, key: str) -> CachedAnswer | None:
        query = select(LLMCacheRow.response, LLMCacheRow.prompt_tokens,
                       LLMCacheRow.completion_tokens).where(LLMCacheRow.key == key)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return CachedAnswer(row.response, row.prompt_tokens, row.completion_tokens) if row else None

    def put(self, key: str, model: str, prompt_version: str, response: str, prompt_tokens: int = 0,
            completion_tokens: int = 0) -> None:
        values = {"model": model, "prompt_version": prompt_version, "response": response,
                  "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "created_at": datetime.now(UTC)}
        insert = self._insert(LLMCacheRow).values(key=key, **values)
        with self.engine.begin() as conn:
            conn.execute(insert.on_conflict_do_update(index_elements=["key"], set_=values))
