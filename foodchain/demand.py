"""The week's demand: kg per destination × product (or group) × delivery day, and baskets.

This is what the allocation consumes. ``compute_week_demand`` is pure (no database);
``load_week_demand`` reads what it needs and calls it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

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
class MovedDelivery:
    """A relay point's baskets delivered on another day than usual, and why."""

    relay_point_id: str
    usual_day: dt.date
    day: dt.date
    reason: str


@dataclass(frozen=True)
class WeekDemand:
    week: Week
    canteens: list[CanteenDemand] = field(default_factory=list)
    baskets: list[BasketDemand] = field(default_factory=list)
    skipped: list[SkippedMeal] = field(default_factory=list)
    moved: list[MovedDelivery] = field(default_factory=list)
    mornings: list[tuple[str, dt.date]] = field(default_factory=list)
    """(canteen, day) whose produce comes that morning although the scenario delivers the
    day before: no open delivery day in the week before the meal (after holidays)."""

    @property
    def canteen_kg(self) -> float:
        return sum(d.kg for d in self.canteens)

    @property
    def basket_count(self) -> int:
        return sum(b.baskets for b in self.baskets)

    def kg_of(self, canteen_id: str) -> float:
        return sum(d.kg for d in self.canteens if d.canteen_id == canteen_id)


def _delivery_day(
    meal_day: dt.date,
    delivery_days: list[str],
    closed: Callable[[dt.date], bool],
    day_before: bool = False,
) -> dt.date:
    """The latest of the site's delivery days on which it is open (nobody receives on a bank
    holiday): on or before the meal, in its week; ``day_before``: before the meal, up to a
    week back (the previous week's for a Monday). If there is none, the meal's own morning
    (the site is open: it serves the meal)."""
    first, last = (1, 7) if day_before else (0, meal_day.weekday())
    for back in range(first, last + 1):
        day = meal_day - dt.timedelta(days=back)
        if WEEKDAYS[day.weekday()] in delivery_days and not closed(day):
            return day
    return meal_day


def _closed(catalogue: Catalogue, site_id: str, day: dt.date) -> bool:
    return not catalogue.open_on(site_id, day)


def _relay_day(catalogue: Catalogue, relay_id: str, usual: dt.date) -> dt.date | None:
    """The relay point's delivery day: its usual day if it and the hub are open, else the
    nearest open working day of the week (Monday to Saturday) in the scenario's direction
    first (``calendar.moved_deliveries``); None if the whole week is closed."""
    if catalogue.open_on(relay_id, usual):
        return usual
    week = [usual + dt.timedelta(days=k - usual.weekday()) for k in range(6)]
    earlier = [d for d in reversed(week) if d < usual]
    later = [d for d in week if d > usual]
    first, then = (
        (earlier, later)
        if catalogue.calendar_rules.moved_deliveries == "earlier"
        else (later, earlier)
    )
    for k in range(6):
        for side in (first, then):
            if k < len(side) and catalogue.open_on(relay_id, side[k]):
                return side[k]
    return None


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
    next_days = {day + dt.timedelta(days=7) for day in week_days}
    totals: dict[tuple[str, str, dt.date], float] = defaultdict(float)
    served: dict[tuple[str, str, dt.date], set[dt.date]] = defaultdict(set)
    skipped: dict[tuple[str, dt.date], str] = {}
    mornings: set[tuple[str, dt.date]] = set()
    day_before = catalogue.calendar_rules.day_before
    for line in menu_lines:
        if line.date not in week_days and not (day_before and line.date in next_days):
            continue
        this_week = line.date in week_days  # its skipped meals are said by this week
        holiday = catalogue.canteen_holiday(line.canteen_id, line.date)
        if holiday:
            if this_week:
                skipped[(line.canteen_id, line.date)] = f"holiday ({holiday})"
            continue
        kg, reason = menu_line_kg(line, catalogue)
        if kg is None:
            if this_week:
                skipped.setdefault((line.canteen_id, line.date), reason)
            continue
        delivery = _delivery_day(
            line.date,
            catalogue.sites[line.canteen_id].delivery_days,
            partial(_closed, catalogue, line.canteen_id),
            day_before,
        )
        if delivery not in week_days:
            continue  # the previous week's plan delivers it (or the next week's)
        if not catalogue.open_on(line.canteen_id, delivery):
            closed = catalogue.closed(line.canteen_id, delivery) or catalogue.closed(
                catalogue.hub, delivery
            )
            skipped.setdefault(
                (line.canteen_id, line.date),
                f"{closed}: no delivery that day, nor on an open delivery day before it this "
                "week (the produce comes with the previous week's last delivery)",
            )
            continue
        if day_before and delivery == line.date:
            mornings.add((line.canteen_id, delivery))
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
    demand.mornings.extend(sorted(mornings))
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for sub in subscriptions:
        n = sub.baskets_in(week)
        if n:
            counts[(sub.relay_point_id, sub.basket_type_id)] += n
    relays = catalogue.sites_of(SiteKind.RELAY)
    days: dict[str, dt.date | None] = {}
    for relay in sorted({relay for relay, _basket in counts}):
        usual = week.day(relays[relay].delivery_days[0])
        days[relay] = day = _relay_day(catalogue, relay, usual)
        if day != usual:
            reason = str(catalogue.closed(relay, usual) or catalogue.closed(catalogue.hub, usual))
            if day is None:
                reason += ": no open day this week, baskets not delivered"
            demand.moved.append(MovedDelivery(relay, usual, day or usual, reason))
    demand.baskets.extend(
        BasketDemand(relay, basket, day, n)
        for (relay, basket), n in sorted(counts.items())
        if (day := days[relay]) is not None
    )
    return demand


def read_week_demand(session: Session, catalogue: Catalogue, week: Week) -> WeekDemand:
    """The week's demand from an open session (so callers can read one consistent snapshot);
    the next week's menus too, whose produce may come the day before."""
    days = week.days()
    last = days[-1] + dt.timedelta(days=7)
    lines = session.exec(
        select(MenuLine).where(MenuLine.date >= days[0], MenuLine.date <= last)
    ).all()
    return compute_week_demand(week, catalogue, lines, session.exec(select(Subscription)).all())


def load_week_demand(engine: Engine, week: Week) -> WeekDemand:
    with transaction(engine) as session:
        return read_week_demand(session, load_catalogue(session), week)
