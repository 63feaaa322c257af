"""The repository counters series: one row per repo per day, read back as trends."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from digestcrawl.digest.read import DigestRepository
from digestcrawl.items import RepoStats
from digestcrawl.store.articles import ArticleStore
from digestcrawl.store.models import RepoStatsRow

DAY = date(2026, 1, 19)


def reading(repo: str, day: date, downloads: int, model: str = "qwen") -> RepoStats:
    return RepoStats(repo=repo, model=model, source="huggingface", url=f"https://huggingface.co/{repo}",
                     day=day, downloads=downloads, likes=7)


def test_one_row_per_repo_per_day_and_the_last_reading_wins(tmp_path: Path) -> None:
    store = ArticleStore.connect(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.save_repo_stats([reading("Qwen/A", DAY, 100), reading("Qwen/A", DAY, 120)])
    store.save_repo_stats([reading("Qwen/A", DAY, 130)])
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(RepoStatsRow)).scalar_one() == 1
        assert conn.execute(select(RepoStatsRow.downloads)).scalar_one() == 130
    store.close()


def test_trends_compare_the_first_and_last_reading_of_the_window(tmp_path: Path) -> None:
    store = ArticleStore.connect(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.save_repo_stats([
        reading("Qwen/A", date(2026, 1, 12), 1),  # outside the 7 days ending on DAY
        reading("Qwen/A", date(2026, 1, 13), 1000),
        reading("Qwen/A", DAY, 1380),
        reading("Qwen/B", DAY, 5000),  # one reading: no change to report
        reading("deepseek-ai/C", DAY, 9000, model="deepseek"),
        reading("Qwen/A", date(2026, 1, 20), 9999),  # after the day
    ])
    trends = DigestRepository(store.engine, ZoneInfo("Asia/Taipei")).repo_trends("qwen", DAY)
    assert [t.repo for t in trends] == ["Qwen/B", "Qwen/A"]
    b, a = trends
    assert (a.previous, a.downloads, a.first_day, a.last_day) == (1000, 1380, date(2026, 1, 13), DAY)
    assert a.change is not None and round(a.change, 2) == 0.38
    assert b.previous is None and b.change is None
    assert a.series == ((date(2026, 1, 13), 1000), (DAY, 1380))
    store.close()
