"""ISO weeks, weekdays, dates and clock times as people write them (French or English)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_WEEKDAY_WORDS: dict[str, str] = {}
for _code, _words in zip(
    WEEKDAYS,
    (
        "mon monday lun lundi lu",
        "tue tuesday tues mar mardi ma",
        "wed wednesday mer mercredi me",
        "thu thursday thur thurs jeu jeudi je",
        "fri friday ven vendredi ve",
        "sat saturday sam samedi sa",
        "sun sunday dim dimanche di",
    ),
    strict=True,
):
    for _w in _words.split():
        _WEEKDAY_WORDS[_w] = _code


def fold(text: str) -> str:
    """Lowercase, strip accents and surrounding space: how names and headers are compared."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


FIRST_YEAR, LAST_YEAR = 2000, 2999
"""Weeks a plan can be about: their days and the weeks around them stay valid dates."""


@dataclass(frozen=True, order=True)
class Week:
    """An ISO 8601 week, written ``2026-W49``."""

    year: int
    number: int

    def __post_init__(self) -> None:
        if not FIRST_YEAR <= self.year <= LAST_YEAR:
            raise ValueError(
                f"{self.year}: foodchain plans weeks of the years {FIRST_YEAR} to {LAST_YEAR}"
            )
        last = dt.date(self.year, 12, 28).isocalendar().week
        if not 1 <= self.number <= last:
            raise ValueError(f"{self.year} has ISO weeks 1 to {last}, not {self.number}")

    def __str__(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @classmethod
    def parse(cls, text: str) -> Week:
        """Accept ``2026-W49``, ``2026W49``, ``2026-49``, ``W49-2026`` or ``S49 2026``."""
        t = fold(str(text)).replace(" ", "")
        m = re.fullmatch(r"(\d{4})-?[ws]?(\d{1,2})", t) or None
        if m:
            year, number = int(m.group(1)), int(m.group(2))
        else:
            m2 = re.fullmatch(r"[ws](\d{1,2})[-/]?(\d{4})", t)
            if not m2:
                raise ValueError(f"{text!r} is not an ISO week; write it like 2026-W49")
            number, year = int(m2.group(1)), int(m2.group(2))
        return cls(year, number)

    @classmethod
    def of(cls, day: dt.date) -> Week:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    def day(self, weekday: str) -> dt.date:
        return dt.date.fromisocalendar(self.year, self.number, WEEKDAYS.index(weekday) + 1)

    def days(self) -> list[dt.date]:
        return [self.day(w) for w in WEEKDAYS]

    def monday(self) -> dt.date:
        return self.day("mon")

    def shift(self, weeks: int) -> Week:
        return Week.of(self.monday() + dt.timedelta(weeks=weeks))

    def index(self) -> int:
        """Weeks since an arbitrary origin, so that differences count weeks across years."""
        return (self.monday() - dt.date(2000, 1, 3)).days // 7


def week_range(text: str) -> list[Week]:
    """``2026-W49..2026-W52`` (inclusive) or a single week, as a list."""
    parts = [p for p in re.split(r"\.\.|:", text.strip()) if p]
    if len(parts) == 1:
        return [Week.parse(parts[0])]
    if len(parts) != 2:
        raise ValueError(f"{text!r} is not a week range; write it like 2026-W49..2026-W52")
    first, last = Week.parse(parts[0]), Week.parse(parts[1])
    if last < first:
        raise ValueError(f"the range {text!r} ends before it starts")
    return list(iter_weeks(first, last))


def iter_weeks(first: Week, last: Week) -> Iterator[Week]:
    week = first
    while week <= last:
        yield week
        week = week.shift(1)


def parse_weekday(text: str) -> str:
    code = _WEEKDAY_WORDS.get(fold(text).rstrip("."))
    if code is None:
        raise ValueError(f"{text!r} is not a weekday; use mon..sun or lundi..dimanche")
    return code


def parse_weekdays(text: str) -> list[str]:
    """``lun, mar, jeu``, ``mon thu``, ``lundi-vendredi`` → weekday codes in week order."""
    found: set[str] = set()
    for token in re.split(r"[,;/+\s]+|\bet\b|\band\b", fold(text)):
        if not token:
            continue
        if "-" in token or ".." in token or "…" in token:
            ends = [t for t in re.split(r"-|\.\.|…", token) if t]
            if len(ends) != 2:
                raise ValueError(f"{token!r} is not a weekday range; write it like mon-fri")
            a, b = WEEKDAYS.index(parse_weekday(ends[0])), WEEKDAYS.index(parse_weekday(ends[1]))
            if b < a:
                raise ValueError(f"the weekday range {token!r} ends before it starts")
            found.update(WEEKDAYS[a : b + 1])
        else:
            found.add(parse_weekday(token))
    return [d for d in WEEKDAYS if d in found]


def parse_date(text: str) -> dt.date:
    """``2026-12-01``, ``01/12/2026``, ``1/12/26`` or ``01.12.2026`` (day first, French style)."""
    t = str(text).strip()
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?", t)
    if m:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})", t)
    if m:
        year = int(m.group(3))
        year = year + 2000 if year < 100 else year
        return dt.date(year, int(m.group(2)), int(m.group(1)))
    raise ValueError(f"{text!r} is not a date; write it like 2026-12-01 or 01/12/2026")


def parse_time(text: str) -> dt.time:
    """``07:30``, ``7h30``, ``7h`` → a clock time."""
    m = re.fullmatch(r"(\d{1,2})\s*[:hH]\s*(\d{2})?", str(text).strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2) or 0) > 59:
        raise ValueError(f"{text!r} is not a time of day; write it like 07:30")
    return dt.time(int(m.group(1)), int(m.group(2) or 0))


def clock(minutes: float) -> str:
    """Minutes since midnight as ``HH:MM``, to the nearest minute (benchmarks' abstract time
    units may pass 24 h)."""
    whole = round(minutes)
    return f"{whole // 60:02d}:{whole % 60:02d}"


def parse_window(text: str) -> tuple[str, str]:
    """``07:00-09:30`` → (``07:00``, ``09:30``), checked and normalised."""
    parts = re.split(r"\s*[-–à]\s*", str(text).strip())
    if len(parts) != 2:
        raise ValueError(f"{text!r} is not a time window; write it like 07:00-09:30")
    start, end = parse_time(parts[0]), parse_time(parts[1])
    if end <= start:
        raise ValueError(f"the window {text!r} closes before it opens")
    return start.strftime("%H:%M"), end.strftime("%H:%M")
