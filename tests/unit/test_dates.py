"""Choosing a publication date (issue 15): provenance, partial dates, a URL's local day against a
UTC instant, feeds before guesses, order-independent merging, dates written in page text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from itertools import permutations
from zoneinfo import ZoneInfo

import pytest

from digestcrawl.text.dates import (
    Dated,
    best_date,
    dates_in_text,
    in_stated_offset,
    parse_datetime,
    stated_offset,
    url_date,
    written_in,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 1, 20, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(("candidates", "zone", "expected"), [
    # Declared dates beat a feed's, a feed's beats the URL's day, the URL's beats guesses.
    ([Dated(at("2026-01-19T08:00+08:00"), "text"), Dated(at("2026-01-18T10:00+08:00"), "jsonld")], SHANGHAI,
     ("2026-01-18T10:00:00+08:00", "jsonld")),
    ([Dated(at("2026-01-19T08:00+08:00"), "htmldate"), Dated(at("2026-01-18T10:00+08:00"), "feed")], SHANGHAI,
     ("2026-01-18T10:00:00+08:00", "feed")),
    ([Dated(at("2026-01-19T08:00+08:00"), "text"), None, Dated(at("2026-01-18T00:00+08:00"), "url")], SHANGHAI,
     ("2026-01-18T00:00:00+08:00", "url")),
    ([Dated(at("2026-01-19T08:00+08:00"), "meta"), Dated(at("2026-01-19T09:00+08:00"), "jsonld")], SHANGHAI,
     ("2026-01-19T09:00:00+08:00", "jsonld")),
    # A URL's local day beats a UTC instant on the neighbouring day: the instant is kept, in the
    # source's zone when that puts it on the URL's day ...
    ([Dated(at("2019-11-19T03:05:46+00:00"), "jsonld"), Dated(at("2019-11-18T00:00-05:00"), "url")], NEW_YORK,
     ("2019-11-18T22:05:46-05:00", "jsonld")),
    # ... else in the nearest whole-hour offset that does.
    ([Dated(at("2019-11-19T03:05:46+00:00"), "meta"), Dated(at("2019-11-18T00:00+08:00"), "url")], SHANGHAI,
     ("2019-11-18T23:05:46-04:00", "meta")),
    ([Dated(at("2019-11-18T22:30:00+00:00"), "feed"), Dated(at("2019-11-19T00:00+08:00"), "url")], SHANGHAI,
     ("2019-11-19T06:30:00+08:00", "feed")),
    # Not a UTC instant, the same day, or no offset reaches the URL's day: unchanged.
    ([Dated(at("2019-11-19T03:05:46+01:00"), "jsonld"), Dated(at("2019-11-18T00:00+08:00"), "url")], SHANGHAI,
     ("2019-11-19T03:05:46+01:00", "jsonld")),
    ([Dated(at("2019-11-19T03:05:46+00:00"), "jsonld"), Dated(at("2019-11-19T00:00+08:00"), "url")], SHANGHAI,
     ("2019-11-19T03:05:46+00:00", "jsonld")),
    ([Dated(at("2019-11-19T15:00:00+00:00"), "jsonld"), Dated(at("2019-11-18T00:00+08:00"), "url")], SHANGHAI,
     ("2019-11-19T15:00:00+00:00", "jsonld")),
    # Outside [1990, now + 1 day]: no date, whatever its origin.
    ([Dated(at("1985-06-01T00:00+00:00"), "jsonld"), Dated(at("2026-01-18T08:00+08:00"), "text")], SHANGHAI,
     ("2026-01-18T08:00:00+08:00", "text")),
    ([Dated(at("3000-01-01T00:00+00:00"), "jsonld")], SHANGHAI, None),
    ([], SHANGHAI, None),
])
def test_best_date(candidates: list[Dated | None], zone: ZoneInfo, expected: tuple[str, str] | None) -> None:
    found = best_date(candidates, zone, NOW)
    assert ((found.moment.isoformat(), found.origin) if found else None) == expected


def test_merged_listings_keep_the_same_date_whatever_the_order() -> None:
    """A page listed by a feed (with a time), a sitemap (a day) and an API (a later update)."""
    listed = [Dated(at("2026-01-19T10:00+08:00"), "feed"), Dated(at("2026-01-19T00:00+08:00"), "feed"),
              Dated(at("2026-01-19T18:30+08:00"), "feed")]
    answers = {best_date(order, SHANGHAI, NOW) for order in permutations(listed)}
    assert answers == {Dated(at("2026-01-19T10:00+08:00"), "feed")}
    merged = None
    for entry in reversed(listed):  # merged one listing at a time, as the spider does
        merged = best_date([merged, entry], SHANGHAI, NOW)
    assert merged == Dated(at("2026-01-19T10:00+08:00"), "feed")


@pytest.mark.parametrize(("text", "expected"), [
    ("BUSINESS.SOHU.COM 2005年3月11日12:12 来源：人民网", "2005-03-11T12:12:00+08:00"),
    ("http://house.sina.com.cn 2005年03月31日03:18 北京娱乐信报", "2005-03-31T03:18:00+08:00"),
    ("发布时间：2012-3-5", "2012-03-05T00:00:00+08:00"),
    ("2005-04-27 14:32更新 来源：千龙新闻网", "2005-04-27T14:32:00+08:00"),
    ("发表于 2005-9-15 11:46:00", "2005-09-15T11:46:00+08:00"),
    ("2022.02.13 07:00", "2022-02-13T07:00:00+08:00"),
    ("发布日期： 9/17/2004 5:54:13 AM", "2004-09-17T05:54:13+08:00"),  # en-US, as ASP writes it
    ("发布日期： 7/5/2005 9:23:57 PM", "2005-07-05T21:23:57+08:00"),  # a 12-hour clock: month first
    ("Posted 19/11/2019", "2019-11-19T00:00:00+08:00"),  # a day over 12: day first
    ("By Reuters, Nov. 19, 2019 3:05 AM ET", "2019-11-19T00:00:00+08:00"),
    ("Tuesday 19 November 2019", "2019-11-19T00:00:00+08:00"),
    # A year or a month alone, a range, an ambiguous day, an implausible year: no date.
    ("Vol. 8 No. 2 (May 2018)", None),
    ("CopyRight@2004-2008 All rights reserved", None),
    ("2006年8月", None),
    ("05/07/2005", None),
    ("1985-01-01", None),
    ("2005-13-01 or 2005-02-30", None),
])
def test_dates_in_text(text: str, expected: str | None) -> None:
    found = dates_in_text(text, SHANGHAI)
    assert (found[0][2].isoformat() if found else None) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("2026", None), ("2026-01", None), ("2026年1月", None), ("January 2026", None),
    ("2026-01-05", "2026-01-05T00:00:00+08:00"), ("2026-01-05T10:00:00Z", "2026-01-05T10:00:00+00:00"),
])
def test_a_year_or_a_month_alone_is_no_day(value: str, expected: str | None) -> None:
    parsed = parse_datetime(value, SHANGHAI)
    assert (parsed.isoformat() if parsed else None) == expected


@pytest.mark.parametrize(("html", "day", "expected"), [
    ("<p>Copyright 2006</p>", date(2006, 1, 1), False),
    ("<p>2006-01-01</p>", date(2006, 1, 1), True),
    ("<p>2006年1月1日</p>", date(2006, 1, 1), True),
    ("<p>January 1, 2006</p>", date(2006, 1, 1), True),
    ("<p>1 Jan 2006</p>", date(2006, 1, 1), True),
    ("<p>01/01/2006</p>", date(2006, 1, 1), True),
    ("<p>2006-01-11</p>", date(2006, 1, 1), False),
])
def test_written_in(html: str, day: date, expected: bool) -> None:
    assert written_in(html, day) is expected


def test_url_date_first_dated_url() -> None:
    found = url_date([None, "https://example.com/news/1", "https://example.com/2019/11/18/a.html"], NEW_YORK)
    assert found == Dated(datetime(2019, 11, 18, tzinfo=NEW_YORK), "url")
    assert url_date(["https://example.com/2019/11/a.html"], NEW_YORK) is None
    assert found is not None and found.moment.utcoffset() == timedelta(hours=-5)


TAIPEI = ZoneInfo("Asia/Taipei")
MORNING = datetime(2026, 1, 18, 23, 30, tzinfo=UTC)  # 2026-01-19 07:30 in Taipei
MIDNIGHT = datetime(2026, 1, 18, 16, 30, tzinfo=UTC)  # 2026-01-19 00:30 in Taipei
EVENING = datetime(2026, 1, 19, 3, 0, tzinfo=UTC)  # 2026-01-18 22:00 in New York


@pytest.mark.parametrize(("value", "zone", "now", "expected"), [
    # Issue 20: relative dates count back from the clock in the source's zone, not the
    # machine's (UTC) clock with the zone attached afterwards, 8 hours off in Taipei.
    ("3 小時前", TAIPEI, MORNING, "2026-01-19T04:30:00+08:00"),
    ("3小時前", TAIPEI, MORNING, "2026-01-19T04:30:00+08:00"),
    ("30分鐘前", TAIPEI, MORNING, "2026-01-19T07:00:00+08:00"),
    ("昨天", TAIPEI, MORNING, "2026-01-18"),
    ("yesterday", TAIPEI, MORNING, "2026-01-18"),
    ("2 days ago", TAIPEI, MORNING, "2026-01-17"),
    ("2天前", TAIPEI, MORNING, "2026-01-17"),
    # Half an hour after midnight in Taipei, still the 18th in UTC.
    ("3 小時前", TAIPEI, MIDNIGHT, "2026-01-18T21:30:00+08:00"),
    ("昨天", TAIPEI, MIDNIGHT, "2026-01-18"),
    ("今天", TAIPEI, MIDNIGHT, "2026-01-19"),
    # West of UTC: the 19th in UTC, still the evening of the 18th in New York.
    ("3 hours ago", NEW_YORK, EVENING, "2026-01-18T19:00:00-05:00"),
    ("yesterday", NEW_YORK, EVENING, "2026-01-17"),
])
def test_relative_dates_count_back_in_the_sources_zone(value: str, zone: ZoneInfo, now: datetime,
                                                        expected: str) -> None:
    parsed = parse_datetime(value, zone, now=now)
    assert parsed is not None
    # A bare day ("昨天") keeps dateparser's clock time; only the day is the page's.
    assert parsed.isoformat().startswith(expected) and parsed.utcoffset() == now.astimezone(zone).utcoffset()


@pytest.mark.parametrize(("value", "expected"), [
    # Issue 24: a zone the text states is kept, not dropped for the source's (Taipei here).
    ("March 5, 2020 10:00 PM EST", "2020-03-05T22:00:00-05:00"),
    ("5. März 2020, 23:30 Uhr MEZ", "2020-03-05T23:30:00+01:00"),
    # Without one, the source's zone.
    ("March 5, 2020 10:00 PM", "2020-03-05T22:00:00+08:00"),
])
def test_a_stated_zone_is_kept(value: str, expected: str) -> None:
    parsed = parse_datetime(value, TAIPEI, now=NOW)
    assert parsed is not None and parsed.isoformat() == expected


def test_stated_offset_is_the_commonest_non_zero_one() -> None:
    values = ['{"datePublished": "2023-11-09T06:35:29+00:00"}', "2023-11-08T23:05:04-08:00",
              "2023-11-08T23:55:46-08:00", "2023-11-08T23:00+0100", "not a date: 12:00"]
    assert stated_offset(values) == timezone(timedelta(hours=-8))
    assert stated_offset(["2023-11-09T06:35:29Z", "2023-11-09T06:35:29+00:00", ""]) is None


def test_a_utc_instant_is_put_on_the_publishers_clock() -> None:
    pacific = timezone(timedelta(hours=-8))
    assert in_stated_offset(at("2023-11-09T06:35:29+00:00"), pacific).isoformat() == "2023-11-08T22:35:29-08:00"
    assert in_stated_offset(at("2023-11-09T06:35:29+01:00"), pacific).isoformat() == "2023-11-09T06:35:29+01:00"
    assert in_stated_offset(at("2023-11-09T06:35:29+00:00"), None).isoformat() == "2023-11-09T06:35:29+00:00"


def test_a_urls_day_still_beats_the_stated_offset() -> None:
    """Issue 24: 06:07 UTC on the 20th is 01:07 on the 20th on the page's clock (-05:00), but the
    URL names the 19th: the instant goes on the URL's day, as without a stated offset."""
    eastern = timezone(timedelta(hours=-5))
    instant = Dated(at("2019-11-20T06:07:01+00:00"), "jsonld")
    alone = best_date([instant], UTC, NOW, stated=eastern)
    assert alone is not None and alone.moment.isoformat() == "2019-11-20T01:07:01-05:00"
    dated_url = best_date([instant, Dated(datetime(2019, 11, 19, tzinfo=UTC), "url")], UTC, NOW, stated=eastern)
    assert dated_url is not None and dated_url.moment.date() == date(2019, 11, 19)
