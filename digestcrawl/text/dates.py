"""Turn the many ways pages and feeds write dates into timezone-aware datetimes, and choose an
article's publication date among them (``best_date``), keeping where it was read.

A date before 1990-01-01 or more than a day ahead of now is no article's date (a placeholder, a
typo, a hostile page's year 3000): it reads as no date at all. A year or a month alone is no
publication day either: nothing here turns "2006" into 2006-01-01.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from typing import Any

import dateparser
from dateparser.timezone_parser import pop_tz_offset_from_string

URL_DATE = re.compile(r"(?<!\d)(20\d\d)[/_-]?(0[1-9]|1[0-2])[/_-]?(0[1-9]|[12]\d|3[01])(?!\d)")
# 2026年1月19日 10:30, 2026/01/19 09:15: common on zh/ja pages, handled without dateparser's cost.
CJK_DATE = re.compile(
    r"(20\d\d)\s*[年/.-]\s*(\d{1,2})\s*[月/.-]\s*(\d{1,2})(?:\s*日)?"
    r"(?:[T\s]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)
# An ISO 8601 time with its offset, as pages write them in meta tags, JSON-LD and <time>.
ISO_OFFSET = re.compile(r"(?<!\d)(?:19|20)\d\d-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?([+-])(\d\d):?(\d\d)(?!\d)")
# Thu, 05 Mar 2020 22:00:00 -0500: the email parser also reads "March 5, 2020 10:00 PM" as
# 10:00 (it knows no AM/PM) and drops a zone it does not know; it gets only RFC 822's form.
RFC_822 = re.compile(r"(?:[A-Za-z]{3},?\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d\d(?::\d\d)?(?:\s+\S+)?\s*$")
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
# Clock skew and time zones: a page may honestly be dated up to a day ahead of our clock.
AHEAD = timedelta(days=1)


def plausible(moment: datetime, now: datetime | None = None) -> bool:
    """Whether a time (naive: UTC) can be an article's: from 1990-01-01 to a day from now."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return EARLIEST <= moment <= (now or datetime.now(UTC)) + AHEAD


def parse_datetime(value: Any, zone: tzinfo, any_time: bool = False, now: datetime | None = None) -> datetime | None:
    """Parse a feed/page/API date; naive values are taken to be in ``zone``.

    Accepts datetimes, epoch seconds, ISO 8601, RFC 822 and CJK-style dates, and relative ones
    ("3 小時前", "昨天", "2 days ago") counted back from ``now`` (default: the clock) as read on
    a clock in ``zone``; returns None for anything else rather than guessing, and for a time
    that is not ``plausible`` unless ``any_time`` (command-line arguments).
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
        parsed = _parse_text(str(value).strip(), zone, now)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed if any_time or plausible(parsed, now) else None


def _parse_text(text: str, zone: tzinfo, now: datetime | None) -> datetime | None:
    iso = text.replace("Z", "+00:00") if text.endswith("Z") else text
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        pass
    if RFC_822.match(text):
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
    # dateparser counts relative dates back from a naive base, by default the machine's clock
    # (UTC on a server): the base is now as read in ``zone``, where the naive answer is placed.
    # A zone the text states ("10:00 PM EST", "23:30 Uhr MEZ") is kept: dateparser would drop
    # it and leave its wall time to be labelled with ``zone``.
    base = (now or datetime.now(UTC)).astimezone(zone).replace(tzinfo=None)
    bare, stated = pop_tz_offset_from_string(text)
    parsed = dateparser.parse(bare if stated else text,
                              settings={"RETURN_AS_TIMEZONE_AWARE": False, "STRICT_PARSING": True,
                                        "RELATIVE_BASE": base})
    if parsed is not None and stated is not None:
        offset = stated.utcoffset(parsed)
        return parsed.replace(tzinfo=timezone(offset)) if offset is not None else parsed
    return parsed


def stated_offset(values: Iterable[str]) -> tzinfo | None:
    """The UTC offset a page writes its times in (the commonest non-zero offset of the ISO 8601
    times in ``values``: its meta tags, JSON-LD, <time> elements), or None: the publisher's
    clock, for its dates written without an offset and for its UTC instants, whose day is the
    publisher's only in its own offset."""
    offsets = Counter(match.groups() for value in values if ":" in value for match in ISO_OFFSET.finditer(value))
    for (sign, hours, minutes), _ in offsets.most_common():
        offset = timedelta(hours=int(hours), minutes=int(minutes))
        if offset and offset <= timedelta(hours=14):
            return timezone(-offset if sign == "-" else offset)
    return None


def in_stated_offset(moment: datetime, stated: tzinfo | None) -> datetime:
    """A UTC instant as the publisher's clock read it, when the page states that clock."""
    return moment.astimezone(stated) if stated is not None and moment.utcoffset() == timedelta(0) else moment


def date_from_url(url: str) -> date | None:
    match = URL_DATE.search(url)
    if not match:
        return None
    try:
        found = date(*(int(g) for g in match.groups()))
    except ValueError:
        return None
    return found if plausible(datetime.combine(found, time(), UTC)) else None


# --- Choosing a publication date among what a page, its URL and its listings say -------------

# Best first. Declared dates (JSON-LD, meta tags) are what the publisher states on purpose; a
# feed, sitemap or API entry is the publisher's too, and an instant; a URL names the local day;
# htmldate's and our own reading of the text are guesses.
# htmldate_text is htmldate's extensive search (any date in the text), the last resort.
ORIGINS: tuple[str, ...] = ("jsonld", "meta", "feed", "url", "htmldate", "text", "htmldate_text")
INSTANT_ORIGINS = frozenset({"jsonld", "meta", "feed"})
# 2005-04-27 14:32, 2005年03月31日03:18, 2005/3/11, 2022.02.13: year first, day required.
TEXT_YMD = re.compile(
    r"(?<![\d.])((?:19|20)\d\d)\s*[年/.-]\s*(\d{1,2})\s*[月/.-]\s*(\d{1,2})(?!\d)\s*日?"
    r"(?:[T\s]*(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?(?:\s*([AaPp])\.?[Mm]\b)?)?"
)
# 9/17/2004 5:54:13 AM: a month or a day first. Read month first only when the day is over 12 or
# a 12-hour clock follows (the en-US form, which ASP servers write in any language); a
# day-first date with a day over 12 reads as such; anything else is ambiguous and skipped.
TEXT_MDY = re.compile(
    r"(?<![\d/.])(\d{1,2})/(\d{1,2})/((?:19|20)\d\d)(?![\d/])"
    r"(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp])\.?[Mm]\b)?)?"
)
MONTHS = {name: number for number, names in enumerate(
    ("jan january", "feb february", "mar march", "apr april", "may", "jun june", "jul july",
     "aug august", "sep sept september", "oct october", "nov november", "dec december"), 1)
    for name in names.split()}
_MONTH = (r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
          r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
# November 19, 2019 / Nov. 19, 2019 / 19 November 2019: the day only (English clocks come with
# zone abbreviations we would have to guess).
TEXT_MONTH_DAY = re.compile(rf"\b{_MONTH}\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+((?:19|20)\d\d)\b", re.IGNORECASE)
TEXT_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH}\.?,?\s+((?:19|20)\d\d)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Dated:
    """A publication time and where it was read (one of ``ORIGINS``)."""

    moment: datetime
    origin: str

    @property
    def rank(self) -> int:
        return ORIGINS.index(self.origin)


def best_date(candidates: Iterable[Dated | None], zone: tzinfo, now: datetime | None = None,
              stated: tzinfo | None = None) -> Dated | None:
    """The publication date to keep among ``candidates``: the best origin (``ORIGINS``), and
    among dates of one origin (an article listed by several feeds, sitemaps and APIs) one with
    a clock time before a bare day, then the earliest, so the answer never depends on the order
    the listings were read. Implausible dates are ignored.

    A URL's day beats an instant written in UTC that falls on the neighbouring day: the
    publisher's local day is the URL's, and UTC moved the instant across midnight. The instant
    is kept, in the source's zone when that puts it on the URL's day, else in the nearest
    whole-hour offset that does. Otherwise a UTC instant is shown in the offset the page
    ``stated`` (``in_stated_offset``).
    """
    found = [c for c in candidates if c is not None and plausible(c.moment, now)]
    if not found:
        return None
    best = min(found, key=_preference)
    moment = in_stated_offset(best.moment, stated)
    url = next((c for c in found if c.origin == "url"), None)
    if url is not None and best.origin in INSTANT_ORIGINS and moment.date() != url.moment.date():
        moment = _on_day(best.moment, url.moment.date(), zone)
    return Dated(moment, best.origin)


def _preference(candidate: Dated) -> tuple[int, bool, datetime]:
    moment = candidate.moment
    day_only = (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0)
    return candidate.rank, day_only, moment


def _on_day(moment: datetime, day: date, zone: tzinfo) -> datetime:
    """``moment`` as the local time of the day ``day`` when it is a UTC instant one day off."""
    if moment.utcoffset() != timedelta(0) or abs((moment.date() - day).days) != 1:
        return moment
    local = moment.astimezone(zone)
    if local.date() == day:
        return local
    hours = 24 - moment.hour if day > moment.date() else -(moment.hour + 1)
    if not -12 <= hours <= 14:  # no zone puts it there
        return moment
    return moment.astimezone(timezone(timedelta(hours=hours)))


def url_date(urls: Iterable[str | None], zone: tzinfo) -> Dated | None:
    """The day the first dated URL of ``urls`` names (its start, in ``zone``), as ``url``."""
    for url in urls:
        day = date_from_url(url) if url else None
        if day is not None:
            return Dated(datetime.combine(day, time(), zone), "url")
    return None


def dates_in_text(text: str, zone: tzinfo) -> list[tuple[int, int, datetime]]:
    """Every full, plausible date written in ``text`` (a year or a month alone is none), as
    (start, end, moment) in reading order; naive values are in ``zone``."""
    found: list[tuple[int, int, datetime]] = []
    for pattern in (TEXT_YMD, TEXT_MDY, TEXT_MONTH_DAY, TEXT_DAY_MONTH):
        for match in pattern.finditer(text):
            moment = _text_match(pattern, match)
            if moment is not None and plausible(moment.replace(tzinfo=zone)):
                found.append((match.start(), match.end(), moment.replace(tzinfo=zone)))
    found.sort(key=lambda item: item[0])
    return found


def _text_match(pattern: re.Pattern[str], match: re.Match[str]) -> datetime | None:
    groups = match.groups()
    try:
        if pattern is TEXT_MONTH_DAY:
            return datetime(int(groups[2]), MONTHS[groups[0].lower()[:3]], int(groups[1]))
        if pattern is TEXT_DAY_MONTH:
            return datetime(int(groups[2]), MONTHS[groups[1].lower()[:3]], int(groups[0]))
        if pattern is TEXT_YMD:
            year, month, day = int(groups[0]), int(groups[1]), int(groups[2])
        else:
            first, second, year = int(groups[0]), int(groups[1]), int(groups[2])
            if second > 12 or (first <= 12 and groups[6]):
                month, day = first, second
            elif first > 12:
                month, day = second, first
            else:
                return None
        hour = int(groups[3]) if groups[3] else 0
        if groups[6] and groups[6].lower() == "p" and hour < 12:
            hour += 12
        elif groups[6] and groups[6].lower() == "a" and hour == 12:
            hour = 0
        return datetime(year, month, day, hour, int(groups[4] or 0), int(groups[5] or 0))
    except (ValueError, KeyError):
        return None


def written_in(html: str, day: date) -> bool:
    """Whether ``day`` is written as a full date anywhere in ``html``: a guess of the first of a
    month or a year may stand for a month or a year alone (htmldate answers 2006-01-01 for a
    page that only says 2006), which is no publication day."""
    y, m, d = day.year, day.month, day.day
    numeric = re.compile(rf"(?<!\d){y}\s*[-/.年]\s*0?{m}\s*[-/.月]\s*0?{d}(?!\d)|(?<!\d){y}{m:02d}{d:02d}(?!\d)"
                         rf"|(?<![\d/])0?{m}/0?{d}/{y}|(?<![\d/])0?{d}[./]0?{m}[./]{y}")
    if numeric.search(html):
        return True
    words = "|".join(name for name, number in MONTHS.items() if number == m)
    worded = (rf"\b(?:{words})\.?\s+0?{d}(?:st|nd|rd|th)?,?\s+{y}\b"
              rf"|\b0?{d}(?:st|nd|rd|th)?\s+(?:{words})\.?,?\s+{y}\b")
    return re.search(worded, html, re.IGNORECASE) is not None
