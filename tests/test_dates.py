"""Date resolution: relative words and weekdays land in the week after the email, in the recipient's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.dates import DateReader, latest_time, local_date, resolve
from parsers.phrases import languages, phrases

ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc", "SystemV")))
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC))


def relative_and_weekday_words(language: str) -> list[str]:
    reader = DateReader(language)
    return [*phrases(language).words["today"], *phrases(language).words["tomorrow"], *reader.names.weekdays]


@settings(max_examples=300, deadline=None)
@given(moment=moments, zone=st.sampled_from(ZONES), language=st.sampled_from(languages()), data=st.data())
def test_any_relative_word_or_weekday_resolves_within_the_week_after_the_email(
    moment: datetime, zone: str, language: str, data: st.DataObject
) -> None:
    word = data.draw(st.sampled_from(relative_and_weekday_words(language)))
    reference = local_date(moment, ZoneInfo(zone))
    assert reference is not None
    [found] = DateReader(language).find(word)
    resolved = resolve(found, reference)
    assert resolved is not None
    assert reference <= resolved <= reference + timedelta(days=7)


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=date(2001, 1, 1), max_value=date(2089, 12, 31)),
       offset=st.integers(min_value=-20, max_value=40), language=st.sampled_from(languages()))
def test_a_date_without_year_takes_the_year_nearest_the_email(day: date, offset: int, language: str) -> None:
    reference = day - timedelta(days=offset)  # the email was sent `offset` days before the date it names
    month = DateReader(language).names
    if language == "ja":
        text = f"{day.month}月{day.day}日"
    else:
        name = max((n for n, number in month.months.items() if number == day.month), key=len)
        text = f"{day.day} {name}" if language != "en" else f"{name} {day.day}"
    [found] = DateReader(language).find(text)
    assert resolve(found, reference) == day


def test_new_year_rolls_forward_and_back() -> None:
    reader = DateReader("de")
    [found] = reader.find("Samstag, 2. Januar")
    assert resolve(found, date(2026, 12, 28)) == date(2027, 1, 2)
    [found] = DateReader("en").find("December 30")
    assert resolve(found, date(2027, 1, 2)) == date(2026, 12, 30)


def test_a_weekday_alone_is_the_next_such_day() -> None:
    [found] = DateReader("en").find("Tuesday")
    assert resolve(found, date(2025, 6, 15)) == date(2025, 6, 17)  # a Sunday: two days on
    assert resolve(found, date(2025, 6, 17)) == date(2025, 6, 24)  # a Tuesday says "today" for today


def test_the_recipients_zone_decides_the_day() -> None:
    evening_in_california = datetime(2025, 7, 2, 5, 59, tzinfo=UTC)
    assert local_date(evening_in_california, ZoneInfo("America/Los_Angeles")) == date(2025, 7, 1)
    assert local_date(evening_in_california, ZoneInfo("Europe/Paris")) == date(2025, 7, 2)


def test_latest_times() -> None:
    assert latest_time(", by 10 p.m.").hour == 22  # type: ignore[union-attr]
    assert latest_time("5 p.m - 10 p.m.").hour == 22  # type: ignore[union-attr]
    assert latest_time("aujourd'hui avant 20h").hour == 20  # type: ignore[union-attr]
    assert latest_time("heute 10–14 Uhr").hour == 14  # type: ignore[union-attr]
    assert latest_time("17:00-22:00").hour == 22  # type: ignore[union-attr]
    assert latest_time("Order total 59.99 for 2 items") is None
