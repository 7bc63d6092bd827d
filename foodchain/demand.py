"""The week's demand: kg per destination × product (or group) × delivery day, and baskets.

This is what the allocation consumes. ``compute_week_demand`` is pure (no database);
``load_week_demand`` reads what it needs and calls it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlmodel import Session, select

from foodchain.catalogue import Catalogue, load_catalogue
from foodchain.db import transaction
from foodchain.models import MenuLine, MenuLineIn, SiteKind, Subscription, SubscriptionIn
from foodchain.weeks import WEEKDAYS, Week


@dataclass(frozen=True)
class CanteenDemand:
    """Kg of a product or substitution group a canteen needs delivered on a day."""

    canteen_id: str
    item_id: str
    is_group: bool
    delivery_day: dt.date
    kg: float
    meal_days: tuple[dt.date, ...]
    """The days of the meals this delivery serves."""


@dataclass(frozen=True)
class BasketDemand:
    relay_point_id: str
    basket_type_id: str
    delivery_day: dt.date
    baskets: int


@dataclass(frozen=True)
class SkippedMeal:
    """A menu day that asks for nothing, and why (holiday, no service, no portion size)."""

    canteen_id: str
    day: dt.date
    reason: str


@dataclass(frozen=True)
class WeekDemand:
    week: Week
    canteens: list[CanteenDemand] = field(default_factory=list)
    baskets: list[BasketDemand] = field(default_factory=list)
    skipped: list[SkippedMeal] = field(default_factory=list)

    @property
    def canteen_kg(self) -> float:
        return sum(d.kg for d in self.canteens)

    @property
    def basket_count(self) -> int:
        return sum(b.baskets for b in self.baskets)

    def kg_of(self, canteen_id: str) -> float:
        return sum(d.kg for d in self.canteens if d.canteen_id == canteen_id)


def _delivery_day(
    meal_day: dt.date, delivery_days: list[str], closed: Callable[[dt.date], bool]
) -> dt.date:
    """The latest of the site's delivery days of the meal's week on or before the meal on
    which it is open (nobody receives on a bank holiday); if none is, the meal's own morning
    (the site is open: it serves the meal)."""
    weekday = meal_day.weekday()
    before = [
        day
        for d in delivery_days
        if WEEKDAYS.index(d) <= weekday
        and not closed(day := meal_day - dt.timedelta(days=weekday - WEEKDAYS.index(d)))
    ]
    return max(before, default=meal_day)


def holiday_name(catalogue: Catalogue, calendar: str | None, day: dt.date) -> str | None:
    if calendar is None:
        return None
    for period in catalogue.holidays:
        if period.calendar == calendar and period.first_day <= day <= period.last_day:
            return period.name or "holiday"
    return None


def _closed_on(catalogue: Catalogue, calendar: str | None) -> Callable[[dt.date], bool]:
    return lambda day: holiday_name(catalogue, calendar, day) is not None


def menu_line_kg(line: MenuLineIn, catalogue: Catalogue) -> tuple[float | None, str]:
    """Kg of harvest a menu line needs, or None with the reason it needs nothing.

    covers × grams served ÷ edible fraction × the canteen's local share; a line's own kg wins.
    """
    if line.kg is not None:
        return line.kg, ""
    canteen = catalogue.canteens[line.canteen_id]
    weekday = WEEKDAYS[line.date.weekday()]
    covers = line.covers if line.covers is not None else canteen.covers.get(weekday, 0)
    if not covers:
        return None, f"no service on {weekday}"
    grams = line.portion_g or catalogue.portion_grams(line.course, line.item_id, canteen.age_group)
    if grams is None:
        return None, f"no portion size for {line.course} ({line.item_id})"
    kg = covers * grams / 1000 / catalogue.item_edible_fraction(line.item_id)
    return kg * canteen.local_share, ""


def compute_week_demand(
    week: Week,
    catalogue: Catalogue,
    menu_lines: Iterable[MenuLineIn],
    subscriptions: Iterable[SubscriptionIn],
) -> WeekDemand:
    demand = WeekDemand(week)
    week_days = set(week.days())
    totals: dict[tuple[str, str, dt.date], float] = defaultdict(float)
    served: dict[tuple[str, str, dt.date], set[dt.date]] = defaultdict(set)
    skipped: dict[tuple[str, dt.date], str] = {}
    for line in menu_lines:
        if line.date not in week_days:
            continue
        canteen = catalogue.canteens[line.canteen_id]
        holiday = holiday_name(catalogue, canteen.holiday_calendar, line.date)
        if holiday:
            skipped[(line.canteen_id, line.date)] = f"holiday ({holiday})"
            continue
        kg, reason = menu_line_kg(line, catalogue)
        if kg is None:
            skipped.setdefault((line.canteen_id, line.date), reason)
            continue
        delivery = _delivery_day(
            line.date,
            catalogue.sites[line.canteen_id].delivery_days,
            _closed_on(catalogue, canteen.holiday_calendar),
        )
        key = (line.canteen_id, line.item_id, delivery)
        totals[key] += kg
        served[key].add(line.date)
    demand.canteens.extend(
        CanteenDemand(
            c,
            item,
            item in catalogue.groups,
            day,
            round(kg, 3),
            tuple(sorted(served[(c, item, day)])),
        )
        for (c, item, day), kg in sorted(totals.items())
        if kg > 0
    )
    demand.skipped.extend(SkippedMeal(c, d, r) for (c, d), r in sorted(skipped.items()))
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for sub in subscriptions:
        n = sub.baskets_in(week)
        if n:
            counts[(sub.relay_point_id, sub.basket_type_id)] += n
    relays = catalogue.sites_of(SiteKind.RELAY)
    demand.baskets.extend(
        BasketDemand(relay, basket, week.day(relays[relay].delivery_days[0]), n)
        for (relay, basket), n in sorted(counts.items())
    )
    return demand


def read_week_demand(session: Session, catalogue: Catalogue, week: Week) -> WeekDemand:
    """The week's demand from an open session (so callers can read one consistent snapshot)."""
    days = week.days()
    lines = session.exec(
        select(MenuLine).where(MenuLine.date >= days[0], MenuLine.date <= days[-1])
    ).all()
    return compute_week_demand(week, catalogue, lines, session.exec(select(Subscription)).all())


def load_week_demand(engine: Engine, week: Week) -> WeekDemand:
    with transaction(engine) as session:
        return read_week_demand(session, load_catalogue(session), week)
