import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foodchain.weeks import (
    Week,
    parse_date,
    parse_time,
    parse_weekdays,
    parse_window,
    week_range,
)


@pytest.mark.parametrize(
    "text", ["2026-W49", "2026W49", "2026-49", "W49-2026", "S49 2026", "2026-w49"]
)
def test_week_is_read_in_the_ways_people_write_it(text):
    assert Week.parse(text) == Week(2026, 49)


def test_2026_has_a_53rd_week_and_2027_does_not():
    assert Week.parse("2026-W53").monday() == dt.date(2026, 12, 28)
    with pytest.raises(ValueError, match="1 to 52"):
        Week.parse("2027-W53")


@pytest.mark.parametrize("text", ["semaine 49", "2026-W00", "49", "", "2026-W5x"])
def test_bad_weeks_are_refused(text):
    with pytest.raises(ValueError):
        Week.parse(text)


def test_week_range_crosses_the_new_year():
    weeks = week_range("2026-W52..2027-W02")
    assert [str(w) for w in weeks] == ["2026-W52", "2026-W53", "2027-W01", "2027-W02"]
    with pytest.raises(ValueError, match="ends before"):
        week_range("2027-W02..2026-W52")


@given(st.dates(min_value=dt.date(2000, 1, 3), max_value=dt.date(2100, 12, 31)))
def test_week_of_a_day_contains_it_and_round_trips(day):
    week = Week.of(day)
    assert day in week.days()
    assert Week.parse(str(week)) == week
    assert week.shift(1).index() == week.index() + 1


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("lun, mar, jeu", ["mon", "tue", "thu"]),
        ("Lundi Jeudi", ["mon", "thu"]),
        ("mon-fri", ["mon", "tue", "wed", "thu", "fri"]),
        ("lundi-mercredi et vendredi", ["mon", "tue", "wed", "fri"]),
        ("thu/mon", ["mon", "thu"]),
    ],
)
def test_weekdays_in_french_or_english(text, days):
    assert parse_weekdays(text) == days


def test_unknown_weekday_is_refused():
    with pytest.raises(ValueError, match="not a weekday"):
        parse_weekdays("lundo")


@pytest.mark.parametrize("text", ["2026-12-01", "01/12/2026", "1/12/26", "01.12.2026"])
def test_dates_iso_or_french(text):
    assert parse_date(text) == dt.date(2026, 12, 1)


def test_impossible_date_is_refused():
    with pytest.raises(ValueError):
        parse_date("31/02/2026")


def test_times_and_windows():
    assert parse_time("7h30") == dt.time(7, 30)
    assert parse_window("7h-9h30") == ("07:00", "09:30")
    with pytest.raises(ValueError, match="closes before"):
        parse_window("10:00-09:00")
