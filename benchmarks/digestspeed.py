"""B7 offline digest time of a busy day: 200 stored articles for one model, written as a post.

A fresh SQLite database gets 200 generated articles (benchmarks/textgen.py: zh-Hant, zh-Hans,
en and ja, on-topic, 2–4 sentences a paragraph) for qwen on one day, a quarter of them reworded
copies of another so that stories have several sources, plus page junk in every text (a
navigation row, a copyright line, a sidebar each host repeats). ``DigestBuilder.build`` with the
extractive summarizer then does everything a scheduled digest does: read and clean the day,
group stories (and follow-ups over the previous week), summarize, render, draw the infographic,
write. The target is under 5 s for the whole build.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import textgen

DAY = date(2026, 1, 19)
ARTICLES = 200
TARGET_S = 5.0
LANGUAGES = ("zh-Hant", "zh-Hant", "zh-Hans", "en", "ja")
HOSTS = ("udn.example", "sina.example", "yahoo.example", "cmnews.example", "aibase.example", "mashdigi.example")


def day_articles(count: int = ARTICLES, seed: int = 7) -> list[Any]:
    from digestcrawl.items import Article

    rng = random.Random(seed)
    articles: list[Article] = []
    for n in range(count):
        host = HOSTS[n % len(HOSTS)]
        language = LANGUAGES[n % len(LANGUAGES)]
        if articles and rng.random() < 0.25:  # a reworded copy: the same event at another outlet
            original = rng.choice(articles)
            title, text, language = original.title, original.text, original.language or language
            text = "\n".join(reversed(text.splitlines()))
        else:
            title, paragraphs = textgen.article(rng, "zh-Hant" if language == "zh-Hant" else
                                                {"zh-Hans": "zh-Hans", "en": "en", "ja": "ja"}[language], True)
            title = f"千問 {title}" if language.startswith("zh") else f"Qwen {title}"
            text = "\n".join(paragraphs)
        junk = (f"| 首頁 | 新聞 | 科技 | 財經 | 分享 |\n熱門排行：{host} 今日最多人看\n"
                f"{text}\nCopyright © 2026 {host} All rights reserved.")
        articles.append(Article(
            url=f"https://{host}/news/{n}", source=host.split(".")[0], category="news",
            title=f"{title} - {host.split('.')[0]}新聞網", text=junk, language=language,
            published=datetime(2026, 1, 19, 2, tzinfo=UTC) + timedelta(minutes=n),
            models={"qwen": ["千問"]}, score={"qwen": 5}))
    return articles


def run(work: Path, count: int = ARTICLES) -> dict[str, Any]:
    from scrapy.settings import Settings

    from digestcrawl.digest import DigestBuilder
    from digestcrawl.store.articles import ArticleStore

    work.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{work / 'b7.sqlite3'}"
    articles = day_articles(count)
    store = ArticleStore.connect(database_url)
    try:
        store.save_many(articles)  # a new source's row is made on the way
    finally:
        store.close()
    settings = Settings()
    settings.setmodule("digestcrawl.settings")  # the defaults, which components do not repeat
    settings.setdict({"STORE_URL": database_url, "DIGEST_SITE_DIR": str(work / "site"),
                      "DIGEST_SUMMARIZER": "extractive", "DIGEST_TIMEZONE": "Asia/Taipei",
                      "DIGEST_LANGUAGE": "zh-TW", "DIGEST_SITE_SKELETON": False})
    builder = DigestBuilder.from_settings(settings)
    try:
        started = time.perf_counter()
        outcome = builder.build("qwen", DAY)
        seconds = time.perf_counter() - started
    finally:
        builder.close()
    post = outcome.post.read_text("utf-8") if outcome.post else ""
    return {"articles": outcome.articles, "stories": outcome.stories, "seconds": round(seconds, 2),
            "target_s": TARGET_S, "post_chars": len(post),
            "junk_in_post": any(w in post for w in ("All rights reserved", "| 首頁", "熱門排行"))}
