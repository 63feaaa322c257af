"""A model's storyline: its stories across days, a story and its follow-ups on one line.

Built from the site itself, the ``stories`` of the front matter of the model's posts (each story's
stable key and, for a follow-up, the key and day of the story it continues), so a post rewritten
or removed changes the storyline at the next digest. Written as the Jekyll data file
``_data/storylines/KEY.json``, which the skeleton's ``storyline`` layout shows.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from digestcrawl.digest.publish.files import POSTS_DIR, write_atomic

logger = logging.getLogger(__name__)
DATA_DIR = Path("_data") / "storylines"


def post_stories(site_dir: Path, model_key: str) -> list[tuple[date, str, list[dict[str, Any]]]]:
    """(day, post path from the site root, stories) of each of the model's posts, oldest first."""
    found = []
    for path in sorted((site_dir / POSTS_DIR).glob(f"????-??-??-{model_key}-daily.md")):
        try:
            front = yaml.safe_load(path.read_text("utf-8").split("---\n", 2)[1]) or {}
            day = date.fromisoformat(path.name[:10])
        except (yaml.YAMLError, IndexError, ValueError, OSError) as error:
            logger.warning("Storyline of %s: %s skipped (%s)", model_key, path, error)
            continue
        stories = front.get("stories") if isinstance(front, dict) else None
        found.append((day, f"{POSTS_DIR}/{path.name}", stories if isinstance(stories, list) else []))
    return found


def storylines(posts: list[tuple[date, str, list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    """One line per story, its follow-ups on its line, each day once (with the keys of the line's
    stories that day): the latest line first; a line's title is its latest story's."""
    lines: list[dict[str, Any]] = []
    line_of: dict[tuple[date, str], dict[str, Any]] = {}
    for day, post, stories in sorted(posts, key=lambda p: p[0]):
        for story in stories:
            key = str(story.get("key") or "")
            if not key:
                continue
            earlier_day = story.get("follow_up_day")
            line = (line_of.get((earlier_day, str(story.get("follow_up_of") or "")))
                    if isinstance(earlier_day, date) else None)
            if line is None:
                line = {"key": key, "days": []}
                lines.append(line)
            line["title"] = str(story.get("title") or "")
            if not line["days"] or line["days"][-1]["day"] != day.isoformat():
                line["days"].append({"day": day.isoformat(), "post": post, "keys": []})
            line["days"][-1]["keys"].append(key)
            line_of[day, key] = line
    # Stable: on the same last day, the line that started first comes first.
    return sorted(lines, key=lambda line: line["days"][-1]["day"], reverse=True)


def write_storyline(site_dir: Path, model_key: str) -> Path:
    path = site_dir / DATA_DIR / f"{model_key}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = storylines(post_stories(site_dir, model_key))
    write_atomic(path, json.dumps(lines, ensure_ascii=False, indent=1).encode("utf-8"))
    return path
