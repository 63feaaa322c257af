"""Turn the many ways pages and feeds write dates into timezone-aware datetimes.

A date before 1990-01-01 or more than a day ahead of now is no article's date (a placeholder, a
typo, a hostile page's year 3000): it reads as no date at all.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from email.utils import parsedate_to_datetime
from typing import Any

import dateparser

URL_DATE = re.compile(r"(?<!\d)(20\d\d)[/_-]?(0[1-9]|1[0-2])[/_-]?(0[1-9]|[12]\d|3[01])(?!\d)")
# 2026年1月19日 10:30, 2026/01/19 09:15: common on zh/ja pages, handled without dateparser's cost.
CJK_DATE = re.compile(
    r"(20\d\d)\s*[年/.-]\s*(\d{1,2})\s*[月/.-]\s*(\d{1,2})(?:\s*日)?"
    r"(?:[T\s]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
# Clock skew and time zones: a page may honestly be dated up to a day ahead of our clock.
AHEAD = timedelta(days=1)


def plausible(moment: datetime, now: datetime | None = None) -> bool:
    """Whether a time (naive: UTC) can be an article's: from 1990-01-01 to a day from now."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return EARLIEST <= moment <= (now or datetime.now(UTC)) + AHEAD


def parse_datetime(value: Any, zone: tzinfo, any_time: bool = False) -> datetime | None:
    """Parse a feed/page/API date; naive values are taken to be in ``zone``.

    Accepts datetimes, epoch seconds, ISO 8601, RFC 822 and CJK-style dates; returns None for
    anything else rather than guessing, and for a time that is not ``plausible`` unless
    ``any_time`` (command-line arguments).
    """
    if value is None or value == "":
        return None
    parsed: datetime | None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, int | float) or (isinstance(value, str) and re.fullmatch(r"\d{9,11}(\.\d+)?", value)):
        try:
            parsed = datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):  # epoch seconds beyond what datetime holds
            return None
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    else:
        parsed = _parse_text(str(value).strip())
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed if any_time or plausible(parsed) else None


def _parse_text(text: str) -> datetime | None:
    iso = text.replace("Z", "+00:00") if text.endswith("Z") else text
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    match = CJK_DATE.search(text)
    if match:
        year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
        try:
            return datetime(year, month, day, hour, minute, second)
        except ValueError:
            return None
    if re.fullmatch(r"\d{8}T\d{6}Z", text):  # GDELT's seendate
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return dateparser.parse(text, settings={"RETURN_AS_TIMEZONE_AWARE": False, "STRICT_PARSING": True})


def date_from_url(url: str) -> date | None:
    match = URL_DATE.search(url)
    if not match:
        return None
    try:
        found = date(*(int(g) for g in match.groups()))
    except ValueError:
        return None
    return found if plausible(datetime.combine(found, time(), UTC)) else None
