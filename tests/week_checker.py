"""Independent checker of a week's rounds against the allocation, from the scenario alone.

It reads the allocation's flows, the rounds as written out (the record's stop rows) and the
scenario's sites: not the routing problems the solver was given, so a bug in building them
(a delivery cut from the pickups that feed it, a farm left out, a release time lost) shows
here even when the solver and the routing checker agree on the wrong problem.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence

from foodchain.scenario import Scenario

KG = 2e-3  # kg: what rounding the flows to grams may leave
MINUTES = 1e-6
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _minutes(hhmm: str) -> float:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _opens(scenario: Scenario, site_id: str, day: dt.date) -> float:
    """When the site's window opens that day (all day: midnight)."""
    site = next(s for s in scenario.sites if s.id == site_id)
    window = site.windows.get(WEEKDAYS[day.weekday()]) or site.windows.get("*")
    return _minutes(window.split("-")[0]) if window else 0.0


def check_week(
    scenario: Scenario,
    flows: Iterable[object],
    stops: Sequence[object],
    unserved: Iterable[object] = (),
) -> list[str]:
    """Every way the rounds (``stops``: the record's rows) fail to carry the allocation
    (``flows``): each collected farm visited on its pickup day for exactly what it sells that
    day, each destination delivered on its delivery day exactly its flows, nothing moved that
    the allocation did not decide, a same-day delivery loaded only once its goods are at
    the hub (unloaded from the trip that collected them, or brought by the farm: when the
    farm's window opens, plus the hub's handling of this destination's share of its load,
    unloaded first), no more vehicles out on a day than the scenario's drivers that day, no
    visit on a day the calendar closes the site, and canteens' produce before the meals it
    is for (``_calendar_errors``).
    Sites the rounds report as unserved are skipped, not excused elsewhere."""
    errors: list[str] = []
    brings = {f.site_id: f.brings_own_produce for f in scenario.farms}
    hub = next(s for s in scenario.sites if s.kind.value == "hub")
    per_100kg = hub.service_minutes_per_100kg
    skipped = {(u.day, u.site_id) for u in unserved}  # type: ignore[attr-defined]

    to_collect: dict[tuple[dt.date, str], float] = defaultdict(float)
    to_deliver: dict[tuple[dt.date, str], float] = defaultdict(float)
    same_day: dict[tuple[dt.date, str], set[str]] = defaultdict(set)
    brought: dict[tuple[dt.date, str, str], float] = defaultdict(float)
    for f in flows:
        pickup, delivery = f.pickup_day, f.delivery_day  # type: ignore[attr-defined]
        farm, site, kg = f.farm_id, f.destination_id, f.kg  # type: ignore[attr-defined]
        if brings[farm]:
            if pickup == delivery:  # what is delivered later is unloaded after it
                brought[(pickup, farm, site)] += kg
        else:
            to_collect[(pickup, farm)] += kg
        to_deliver[(delivery, site)] += kg
        if pickup == delivery:
            same_day[(delivery, site)].add(farm)

    collected: dict[tuple[dt.date, str], float] = defaultdict(float)
    delivered: dict[tuple[dt.date, str], float] = defaultdict(float)
    unloaded: dict[tuple[dt.date, str], float] = {}
    loading: dict[tuple[dt.date, str], list[float]] = defaultdict(list)
    trips: dict[tuple[dt.date, str, int], list[object]] = defaultdict(list)
    for row in stops:
        trips[(row.day, row.vehicle_id, row.trip)].append(row)  # type: ignore[attr-defined]
    for (day, vehicle, number), rows in trips.items():
        rows.sort(key=lambda r: r.seq)  # type: ignore[attr-defined]
        depart, back = rows[0], rows[-1]
        if depart.action != "depart" or back.action != "return":  # type: ignore[attr-defined]
            errors.append(f"{day} {vehicle} trip {number}: not from the hub and back")
            continue
        for row in rows[1:-1]:
            key = (day, row.site_id)  # type: ignore[attr-defined]
            if row.action == "pickup":  # type: ignore[attr-defined]
                collected[key] += row.pickup_kg  # type: ignore[attr-defined]
                end = back.departure  # type: ignore[attr-defined]
                unloaded[key] = max(unloaded.get(key, end), end)
            elif row.action == "delivery":  # type: ignore[attr-defined]
                delivered[key] += row.delivery_kg  # type: ignore[attr-defined]
                loading[key].append(depart.arrival)  # type: ignore[attr-defined]

    for key in sorted(set(to_collect) | set(collected)):
        if key in skipped:
            continue
        if key[1] in brings and brings[key[1]] and collected.get(key):
            errors.append(f"{key}: a vehicle collects a farm that brings its own produce")
        if abs(collected.get(key, 0.0) - to_collect.get(key, 0.0)) > KG:
            errors.append(
                f"{key}: collected {collected.get(key, 0.0):.3f} kg, the allocation has "
                f"{to_collect.get(key, 0.0):.3f} kg picked up there that day"
            )
    for key in sorted(set(to_deliver) | set(delivered)):
        if key in skipped:
            continue
        if abs(delivered.get(key, 0.0) - to_deliver.get(key, 0.0)) > KG:
            errors.append(
                f"{key}: delivered {delivered.get(key, 0.0):.3f} kg, the allocation sends "
                f"{to_deliver.get(key, 0.0):.3f} kg there that day"
            )
    errors += _calendar_errors(scenario, flows, trips)
    drivers = (scenario.settings.get("drivers") or {}).get("per_day")
    vehicles_on: dict[dt.date, set[str]] = defaultdict(set)
    for day, vehicle, _ in trips:
        vehicles_on[day].add(vehicle)
    for day, used in sorted(vehicles_on.items()):
        if isinstance(drivers, dict):
            allowed = drivers.get(WEEKDAYS[day.weekday()], drivers.get("*", 0))
        else:
            allowed = drivers
        if allowed is not None and len(used) > allowed:
            errors.append(f"{day}: {len(used)} vehicles out, {allowed} drivers that day")
    for (day, site), farms in sorted(same_day.items()):
        for farm in sorted(farms):
            if (day, farm) in skipped or (day, site) in skipped:
                continue
            if brings[farm]:
                ready = _opens(scenario, farm, day) + per_100kg * brought[(day, farm, site)] / 100
            else:
                ready = unloaded.get((day, farm), float("inf"))
            for start in loading.get((day, site), []):
                if start < ready - MINUTES:
                    errors.append(
                        f"{day} {site}: loaded at minute {start:.1f}, before {farm}'s goods "
                        f"are at the hub (minute {ready:.1f})"
                    )
    return errors


def _days_of(scenario: Scenario, calendar: str | None) -> set[dt.date]:
    days: set[dt.date] = set()
    for period in scenario.holidays:
        if calendar is not None and period.calendar == calendar:
            day = period.first_day
            while day <= period.last_day:
                days.add(day)
                day += dt.timedelta(days=1)
    return days


def _calendar_errors(
    scenario: Scenario, flows: Iterable[object], trips: dict[tuple[dt.date, str, int], list[object]]
) -> list[str]:
    """From the scenario's calendars and menus alone: no trip on a public holiday, no canteen
    visited in its holidays; each canteen flow serves a menu line of that canteen and item on
    a later day within a week (``day_before``; on the delivery day itself only when no open
    delivery day lies in the week before it) or on the delivery day or later in its week
    (``same_morning``); produce for that day's meals arrives by ``canteen_deadline``."""
    errors: list[str] = []
    calendar = scenario.settings.get("calendar") or {}
    public = _days_of(scenario, calendar.get("public_holidays"))
    canteens = {c.site_id: c for c in scenario.canteens}
    closed = {c: public | _days_of(scenario, k.holiday_calendar) for c, k in canteens.items()}
    receives = {s.id: set(s.delivery_days) for s in scenario.sites if s.id in canteens}
    day_before = calendar.get("canteen_delivery") == "day_before"
    deadline = calendar.get("canteen_deadline")
    meals: dict[tuple[str, str], set[dt.date]] = defaultdict(set)
    for line in scenario.menu_lines:
        meals[(line.canteen_id, line.item_id)].add(line.date)

    def nothing_before(canteen: str, meal: dt.date) -> bool:
        """No open delivery day of the canteen in the week before the meal."""
        return not any(
            WEEKDAYS[day.weekday()] in receives[canteen] and day not in closed[canteen]
            for day in (meal - dt.timedelta(days=k) for k in range(1, 8))
        )

    same_morning: set[tuple[str, dt.date]] = set()
    for f in flows:
        if f.purpose != "canteen" or f.kg <= 0:  # type: ignore[attr-defined]
            continue
        day, site = f.delivery_day, f.destination_id  # type: ignore[attr-defined]
        served = meals[(site, f.item_id)]  # type: ignore[attr-defined]
        if day_before:
            ok = any(day < m <= day + dt.timedelta(days=7) for m in served)
            if day in served and nothing_before(site, day):
                ok = True
                same_morning.add((site, day))
        else:
            ok = any(day <= m <= day + dt.timedelta(days=6 - day.weekday()) for m in served)
            if day in served:
                same_morning.add((site, day))
        if not ok:
            errors.append(
                f"{day} {site}: {f.product_id} for {f.item_id}, which no meal it may be "  # type: ignore[attr-defined]
                f"delivered for needs ({'day before' if day_before else 'same morning'})"
            )
    for (day, vehicle, number), rows in sorted(trips.items()):
        if day in public:
            errors.append(f"{day} {vehicle} trip {number}: a trip on a public holiday")
        for row in rows:
            site = row.site_id  # type: ignore[attr-defined]
            if row.action != "delivery" or site not in canteens:  # type: ignore[attr-defined]
                continue
            if day in closed[site]:
                errors.append(f"{day} {site}: delivered on a day the canteen is closed")
            arrival = row.arrival  # type: ignore[attr-defined]
            late = deadline is not None and arrival > _minutes(deadline) + MINUTES
            if late and (site, day) in same_morning:
                errors.append(f"{day} {site}: arrives at minute {arrival:.0f}, after {deadline}")
    return errors
