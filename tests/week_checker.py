"""Independent checker of a week's rounds against the allocation, from the scenario alone.

It reads the allocation's flows, the rounds as written out (the record's stop rows) and the
scenario's sites: not the routing problems the solver was given, so a bug in building them
(a delivery cut from the pickups that feed it, a farm left out, a release time lost) shows
here even when the solver and the routing checker agree on the wrong problem.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

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


def _minimum(scenario: Scenario, farm: str) -> tuple[float | None, float | None]:
    """The farm's minimum pickup (kg, €) as ``settings.consolidation`` writes it: the farm's
    own entry, else the default; README "Consolidated collections"."""
    rules = scenario.settings.get("consolidation") or {}
    own = (rules.get("farms") or {}).get(farm) or {}
    kg = own["min_pickup_kg"] if "min_pickup_kg" in own else rules.get("min_pickup_kg")
    eur = own["min_pickup_eur"] if "min_pickup_eur" in own else rules.get("min_pickup_eur")
    return kg, eur


def _under(kg: float, eur: float, minimum: tuple[float | None, float | None]) -> bool:
    """Under every minimum given: a collection reaching one of them is worth the trip."""
    pairs = [(kg, minimum[0]), (eur, minimum[1])]
    given = [(value, least) for value, least in pairs if least is not None]
    return bool(given) and all(value < least - KG for value, least in given)


def check_collections(
    scenario: Scenario, flows: Iterable[object], collections: Iterable[object] = ()
) -> list[str]:
    """Every way the week's collections break the minimum pickup (``settings.consolidation``):
    a farm collected by a van for less than its minimum (kg and €, at the flows' prices)
    without a reason the plan states (``collections``: the record's rows, ``kept`` with a
    reason), a farm asked to bring a collection that was not small, and goods picked up
    after their delivery, kept beyond their shelf life, or picked up on a day the farm's
    forecast does not offer them."""
    errors: list[str] = []
    brings = {f.site_id: f.brings_own_produce for f in scenario.farms}
    shelf = {p.id: p.shelf_life_days for p in scenario.products}
    offered: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for forecast in scenario.forecasts:
        offered[(forecast.farm_id, forecast.product_id, forecast.week)] |= set(
            forecast.days_available
        )
    rows = list(collections)
    asked = {(c.day, c.farm_id) for c in rows if c.action == "brought"}  # type: ignore[attr-defined]
    reasons = {
        (c.day, c.farm_id): c.reason  # type: ignore[attr-defined]
        for c in rows
        if c.action == "kept"  # type: ignore[attr-defined]
    }
    kg: dict[tuple[dt.date, str], float] = defaultdict(float)
    eur: dict[tuple[dt.date, str], float] = defaultdict(float)
    for f in flows:
        pickup, delivery = f.pickup_day, f.delivery_day  # type: ignore[attr-defined]
        farm, product = f.farm_id, f.product_id  # type: ignore[attr-defined]
        if f.bought or f.kg <= 0:  # type: ignore[attr-defined]
            continue
        kept = (delivery - pickup).days
        if kept < 0 or kept >= shelf[product]:
            errors.append(
                f"{farm} {product}: picked up {pickup}, delivered {delivery} to "
                f"{f.destination_id}: {kept} days, shelf life {shelf[product]} days"  # type: ignore[attr-defined]
            )
        iso = pickup.isocalendar()
        days = offered.get((farm, product, f"{iso[0]}-W{iso[1]:02d}"))
        if days and WEEKDAYS[pickup.weekday()] not in days:
            errors.append(f"{farm} {product}: picked up {pickup}, offered on {sorted(days)} only")
        if not brings[farm] and getattr(f, "delivered_by", "") != farm:  # a van collects it
            kg[(pickup, farm)] += f.kg  # type: ignore[attr-defined]
            eur[(pickup, farm)] += f.kg * f.price_eur_per_kg  # type: ignore[attr-defined]
    for collection in sorted(kg):
        small = _under(kg[collection], eur[collection], _minimum(scenario, collection[1]))
        if collection in asked and not small:
            errors.append(
                f"{collection}: asked to bring {kg[collection]:.3f} kg, not under the minimum"
            )
        if small and collection not in asked and not reasons.get(collection):
            errors.append(
                f"{collection}: collected for {kg[collection]:.3f} kg ({eur[collection]:.2f} €), "
                "under the minimum pickup, with no reason stated"
            )
    return errors


def check_week(
    scenario: Scenario,
    flows: Iterable[object],
    stops: Sequence[object],
    unserved: Iterable[object] = (),
    collections: Iterable[object] = (),
) -> list[str]:
    """Every way the rounds (``stops``: the record's rows) fail to carry the allocation
    (``flows``): each collected farm visited on its pickup day for exactly what it sells that
    day, each destination delivered on its delivery day exactly its flows, nothing moved that
    the allocation did not decide, a same-day delivery loaded only once its goods are at
    the hub (unloaded from the trip that collected them, or brought by the farm: when the
    farm's window opens, plus the hub's handling of this destination's share of its load,
    unloaded first), no more hub vehicles out on a day than the scenario's drivers that day,
    no visit on a day the calendar closes the site, and canteens' produce before the meals it
    is for (``_calendar_errors``). Direct deliveries: every trip leaves from and returns to
    its vehicle's depot (the scenario's); a farm's own produce for a destination it delivers
    itself is never collected and is delivered from the farm by its own vehicle, other farms'
    produce on its round is collected as usual and handed over on a day the farm comes to the
    hub; every flow is delivered once, from the hub or from the farm (``_check_direct_flows``).
    The minimum pickup (``check_collections``; a farm the plan asks to bring a collection,
    ``collections``, brings it as the farms that always do; goods merged into another day's
    collection reach their deliveries). Sites the rounds report as unserved are skipped, not
    excused elsewhere."""
    flows = list(flows)
    collections = list(collections)
    errors = check_collections(scenario, flows, collections)
    always = {f.site_id: f.brings_own_produce for f in scenario.farms}
    asked = {(c.day, c.farm_id) for c in collections if c.action == "brought"}  # type: ignore[attr-defined]

    def brings(farm: str, day: dt.date) -> bool:
        return always[farm] or (day, farm) in asked

    hub = next(s for s in scenario.sites if s.kind.value == "hub")
    per_100kg = hub.service_minutes_per_100kg
    unserved = list(unserved)
    skipped = {(u.day, u.site_id) for u in unserved}  # type: ignore[attr-defined]
    depot = {v.id: v.depot_id for v in scenario.vehicles}
    own_destinations = {f.site_id: set(f.direct_destinations) for f in scenario.farms}
    errors += _check_direct_flows(scenario, flows)
    late = {
        (u.day, u.site_id)  # type: ignore[attr-defined]
        for u in unserved
        if u.action == "delivery" and u.reason != "optional_dropped"  # type: ignore[attr-defined]
    }
    merged = {
        (c.farm_id, c.into, product)  # type: ignore[attr-defined]
        for c in collections
        if c.action == "merged"  # type: ignore[attr-defined]
        for product in c.products  # type: ignore[attr-defined]
    }
    for f in flows:
        moved = (f.farm_id, f.pickup_day, f.product_id)  # type: ignore[attr-defined]
        if moved in merged and (f.delivery_day, f.destination_id) in late:  # type: ignore[attr-defined]
            errors.append(
                f"{f.farm_id}'s {f.product_id} merged into {f.pickup_day}'s collection does not "  # type: ignore[attr-defined]
                f"reach {f.destination_id} on {f.delivery_day}"  # type: ignore[attr-defined]
            )

    to_collect: dict[tuple[dt.date, str], float] = defaultdict(float)
    to_deliver: dict[tuple[dt.date, str, str], float] = defaultdict(float)
    same_day: dict[tuple[dt.date, str], set[str]] = defaultdict(set)
    brought: dict[tuple[dt.date, str, str], float] = defaultdict(float)
    for f in flows:
        pickup, delivery = f.pickup_day, f.delivery_day  # type: ignore[attr-defined]
        farm, site, kg = f.farm_id, f.destination_id, f.kg  # type: ignore[attr-defined]
        # Who delivers it, from the scenario: the farm itself when it lists the destination
        # (its own produce never goes to the hub), else the hub; what the flow says of it is
        # checked against that in _check_direct_flows.
        carrier = getattr(f, "delivered_by", "") or (farm if site in own_destinations[farm] else "")
        to_deliver[(delivery, site, carrier or hub.id)] += kg
        if carrier == farm:
            continue
        if brings(farm, pickup):
            if pickup == delivery:  # what is delivered later is unloaded after it
                brought[(pickup, farm, site)] += kg
        else:
            to_collect[(pickup, farm)] += kg
        if pickup == delivery:
            same_day[(delivery, site)].add(farm)

    collected: dict[tuple[dt.date, str], float] = defaultdict(float)
    delivered: dict[tuple[dt.date, str, str], float] = defaultdict(float)
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
        base = depot.get(vehicle, "?")
        if {depart.site_id, back.site_id} != {base}:  # type: ignore[attr-defined]
            errors.append(
                f"{day} {vehicle} trip {number}: leaves {depart.site_id} and returns to "  # type: ignore[attr-defined]
                f"{back.site_id}, its depot is {base}"  # type: ignore[attr-defined]
            )
        for row in rows[1:-1]:
            key = (day, row.site_id)  # type: ignore[attr-defined]
            if row.action == "pickup":  # type: ignore[attr-defined]
                if base != hub.id:
                    errors.append(f"{key}: {vehicle} of {base} collects for the hub")
                collected[key] += row.pickup_kg  # type: ignore[attr-defined]
                end = back.departure  # type: ignore[attr-defined]
                unloaded[key] = max(unloaded.get(key, end), end)
            elif row.action == "delivery":  # type: ignore[attr-defined]
                delivered[(*key, base)] += row.delivery_kg  # type: ignore[attr-defined]
                if base == hub.id:
                    loading[key].append(depart.arrival)  # type: ignore[attr-defined]

    for key in sorted(set(to_collect) | set(collected)):
        if key in skipped:
            continue
        if key[1] in always and brings(key[1], key[0]) and collected.get(key):
            errors.append(f"{key}: a vehicle collects a farm that brings its own produce")
        if abs(collected.get(key, 0.0) - to_collect.get(key, 0.0)) > KG:
            errors.append(
                f"{key}: collected {collected.get(key, 0.0):.3f} kg, the allocation has "
                f"{to_collect.get(key, 0.0):.3f} kg picked up there that day"
            )
    for place in sorted(set(to_deliver) | set(delivered)):
        if place[:2] in skipped:
            continue
        if abs(delivered.get(place, 0.0) - to_deliver.get(place, 0.0)) > KG:
            errors.append(
                f"{place}: delivered {delivered.get(place, 0.0):.3f} kg from {place[2]}, the "
                f"allocation sends {to_deliver.get(place, 0.0):.3f} kg there that day from it"
            )
    errors += _calendar_errors(scenario, flows, trips)
    drivers = (scenario.settings.get("drivers") or {}).get("per_day")
    vehicles_on: dict[dt.date, set[str]] = defaultdict(set)
    for day, vehicle, _ in trips:
        if depot.get(vehicle) == hub.id:  # a farm's own vehicle has the farm's driver
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
            if brings(farm, day):
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


def _packers_on(rules: dict[str, Any], day: dt.date) -> int:
    packers = rules.get("packers", 1)
    if isinstance(packers, dict):
        weekday = WEEKDAYS[day.weekday()]
        return int(packers[weekday] if weekday in packers else packers.get("*", 0))
    return int(packers)


def _crates_of(kg_by_product: dict[str, float], per_crate: dict[str, float]) -> int:
    return sum(math.ceil(kg / per_crate.get(p, 10.0) - 1e-9) for p, kg in kg_by_product.items())


def check_packing(
    scenario: Scenario,
    flows: Iterable[object],
    fills: Iterable[object],
    stops: Sequence[object],
    packing: Sequence[object],
    unserved: Iterable[object] = (),
    collections: Iterable[object] = (),
) -> list[str]:
    """Every way the hub's packing (``settings.hub_work``) fails, from the scenario, the
    allocation and the record alone: each delivery's work (its baskets x minutes per basket,
    shared among the farms whose goods fill them by kg, plus a crate per product and farm x
    minutes per crate) is packed in full, by the day's packers, no packer doing two things
    at once nor starting before the hub's packing opens, each piece after its farm's goods
    are at the hub (the trip that collected them unloaded, or the farm's own delivery) and
    over before the trip carrying that delivery starts loading. A farm asked to bring a
    collection (``collections``, ``brought``) brings it as the farms that always do."""
    errors: list[str] = []
    rules = scenario.settings.get("hub_work")
    if rules is None:
        return [f"packing rows without settings.hub_work: {len(packing)}"] if packing else []
    opens = _minutes(rules.get("start", "06:00"))
    per_basket = rules.get("minutes_per_basket", 1.5)
    per_crate_minutes = rules.get("minutes_per_crate", 0.5)
    per_crate = {p.id: p.kg_per_crate for p in scenario.products if p.kg_per_crate}
    always = {f.site_id: f.brings_own_produce for f in scenario.farms}
    asked = {(c.day, c.farm_id) for c in collections if c.action == "brought"}  # type: ignore[attr-defined]

    def brings(farm: str, day: dt.date) -> bool:
        return always[farm] or (day, farm) in asked

    hub = next(s for s in scenario.sites if s.kind.value == "hub")
    skipped = {(u.day, u.site_id) for u in unserved}  # type: ignore[attr-defined]

    basket_kg: dict[tuple[dt.date, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    crate_kg: dict[tuple[dt.date, str, str], dict[str, float]] = defaultdict(
        lambda: defaultdict(float)
    )
    brought: dict[tuple[dt.date, str, str], float] = defaultdict(float)
    for f in flows:
        day = f.delivery_day  # type: ignore[attr-defined]
        same_day = f.pickup_day == day  # type: ignore[attr-defined]
        farm = f.farm_id if same_day else ""  # type: ignore[attr-defined]
        if getattr(f, "delivered_by", ""):  # packed at the farm that delivers it
            farm = "(by the farm)"
        site = f.destination_id  # type: ignore[attr-defined]
        if f.purpose == "basket":  # type: ignore[attr-defined]
            basket_kg[(day, site)][farm] += f.kg  # type: ignore[attr-defined]
        elif farm != "(by the farm)":
            crate_kg[(day, site, farm)][f.product_id] += f.kg  # type: ignore[attr-defined]
        if same_day and brings(f.farm_id, day):  # type: ignore[attr-defined]
            brought[(day, f.farm_id, site)] += f.kg  # type: ignore[attr-defined]
    filled: dict[tuple[dt.date, str], int] = defaultdict(int)
    for fill in fills:
        filled[(fill.day, fill.relay_point_id)] += fill.filled  # type: ignore[attr-defined]
    expected: dict[tuple[dt.date, str, str], float] = defaultdict(float)
    for (day, site), by_farm in basket_kg.items():
        total = sum(by_farm.values())
        for farm, kg in by_farm.items():
            if farm != "(by the farm)":
                expected[(day, site, farm)] += filled[(day, site)] * per_basket * kg / total
    for (day, site, farm), by_product in crate_kg.items():
        expected[(day, site, farm)] += _crates_of(by_product, per_crate) * per_crate_minutes

    unloaded: dict[tuple[dt.date, str], float] = {}
    loading: dict[tuple[dt.date, str, int], float] = {}
    trips: dict[tuple[dt.date, str, int], list[object]] = defaultdict(list)
    for row in stops:
        trips[(row.day, row.vehicle_id, row.trip)].append(row)  # type: ignore[attr-defined]
    depots = {v.id: v.depot_id for v in scenario.vehicles}
    for (day, vehicle, _), rows in trips.items():
        rows.sort(key=lambda r: r.seq)  # type: ignore[attr-defined]
        from_hub = depots.get(vehicle) == hub.id  # a farm's own van is loaded at the farm
        for row in rows:
            if row.action == "pickup":  # type: ignore[attr-defined]
                key = (day, row.site_id)  # type: ignore[attr-defined]
                unloaded[key] = max(unloaded.get(key, 0.0), rows[-1].departure)  # type: ignore[attr-defined]
            elif row.action == "delivery" and from_hub:  # type: ignore[attr-defined]
                loading[(day, row.site_id, row.part)] = rows[0].arrival  # type: ignore[attr-defined]

    done: dict[tuple[dt.date, str, str], float] = defaultdict(float)
    by_packer: dict[tuple[dt.date, int], list[tuple[float, float, str]]] = defaultdict(list)
    for job in packing:
        day, site, farm = job.day, job.site_id, job.farm_id  # type: ignore[attr-defined]
        start, end = job.start, job.end  # type: ignore[attr-defined]
        what = f"{day} packer {job.packer} {site} ({farm or 'at the hub'})"  # type: ignore[attr-defined]
        done[(day, site, farm)] += end - start
        by_packer[(day, job.packer)].append((start, end, what))  # type: ignore[attr-defined]
        if not 1 <= job.packer <= _packers_on(rules, day):  # type: ignore[attr-defined]
            errors.append(f"{what}: {_packers_on(rules, day)} packers that day")
        if start < opens - MINUTES or end < start - MINUTES:
            errors.append(f"{what}: packs {start:.1f}-{end:.1f}, packing opens at {opens:.0f}")
        if (day, site) in skipped:
            continue
        if farm and brings(farm, day):
            ready = _opens(scenario, farm, day) + (
                hub.service_minutes_per_100kg * brought[(day, farm, site)] / 100
            )
        elif farm:
            ready = unloaded.get((day, farm), float("inf"))
        else:
            ready = opens
        if start < ready - MINUTES:
            errors.append(f"{what}: starts {start:.1f}, its goods are at the hub at {ready:.1f}")
        loads = loading.get((day, site, job.part))  # type: ignore[attr-defined]
        if loads is None:
            errors.append(f"{what}: no trip delivers part {job.part}")  # type: ignore[attr-defined]
        elif end > loads + MINUTES:
            errors.append(f"{what}: ends {end:.1f}, its trip loads at {loads:.1f}")
    for piece in sorted(set(expected) | set(done)):
        if (piece[0], piece[1]) in skipped:
            continue
        packed, work = done.get(piece, 0.0), expected.get(piece, 0.0)
        if abs(packed - work) > 1e-6 * max(1.0, work):
            errors.append(f"{piece}: {packed:.2f} min packed, the work is {work:.2f} min")
    for jobs in by_packer.values():
        jobs.sort()
        for (_, end, what), (start, _, following) in itertools.pairwise(jobs):
            if start < end - MINUTES:
                errors.append(f"{following} starts {start:.1f} before {what} ends {end:.1f}")
    return errors


def check_crates(scenario: Scenario, flows: Iterable[object], stops: Sequence[object]) -> list[str]:
    """Every way the crate counts break the rules: each stop's crates are those of what the
    allocation moves there (a crate per product started; a split load at least that many in
    all), a delivery takes back no more empties than the site has out there (the crates of
    its last delivery of the week to start with, then those left since), and at every point
    of a trip full crates plus the empties folded (``folded_crate_share``) fit in the
    vehicle's crate capacity."""
    errors: list[str] = []
    rules = scenario.settings.get("hub_work")
    share = (rules or {}).get("folded_crate_share", 0.2)
    per_crate = {p.id: p.kg_per_crate for p in scenario.products if p.kg_per_crate}
    capacity = {v.id: float(v.capacity_crates) for v in scenario.vehicles}
    moved: dict[tuple[dt.date, str, str], dict[str, float]] = defaultdict(
        lambda: defaultdict(float)
    )
    for f in flows:
        moved[(f.delivery_day, f.destination_id, "delivery")][f.product_id] += f.kg  # type: ignore[attr-defined]
        if not next(x for x in scenario.farms if x.site_id == f.farm_id).brings_own_produce:  # type: ignore[attr-defined]
            moved[(f.pickup_day, f.farm_id, "pickup")][f.product_id] += f.kg  # type: ignore[attr-defined]
    counted: dict[tuple[dt.date, str, str], float] = defaultdict(float)
    split: set[tuple[dt.date, str, str]] = set()
    trips: dict[tuple[dt.date, str, int], list[object]] = defaultdict(list)
    for row in stops:
        trips[(row.day, row.vehicle_id, row.trip)].append(row)  # type: ignore[attr-defined]
        if row.action in ("pickup", "delivery"):  # type: ignore[attr-defined]
            key = (row.day, row.site_id, row.action)  # type: ignore[attr-defined]
            counted[key] += row.crates  # type: ignore[attr-defined]
            if row.parts > 1:  # type: ignore[attr-defined]
                split.add(key)
            if row.empties and row.action != "delivery":  # type: ignore[attr-defined]
                errors.append(f"{key}: empties taken back at a pickup")
    for key, total in sorted(counted.items()):
        crates = _crates_of(moved.get(key, {}), per_crate)
        if total + 1e-9 < crates or (key not in split and abs(total - crates) > 1e-9):
            errors.append(f"{key}: {total:g} crates, what it moves fills {crates}")
    in_order = sorted(trips.items(), key=lambda kv: (kv[0][0], kv[1][0].arrival))  # type: ignore[attr-defined]
    out_there: dict[str, float] = {}
    for _, rows in in_order:
        for row in rows:
            if row.action == "delivery" and row.crates:  # type: ignore[attr-defined]
                out_there[row.site_id] = row.crates  # type: ignore[attr-defined]
    for (day, vehicle, number), rows in in_order:
        rows.sort(key=lambda r: r.seq)  # type: ignore[attr-defined]
        visits = [r for r in rows if r.action in ("pickup", "delivery")]  # type: ignore[attr-defined]
        full = sum(r.crates for r in visits if r.action == "delivery")  # type: ignore[attr-defined]
        folded = 0.0
        for row in visits:
            site = row.site_id  # type: ignore[attr-defined]
            if row.action == "delivery":  # type: ignore[attr-defined]
                if row.empties > out_there.get(site, 0) + 1e-9:  # type: ignore[attr-defined]
                    errors.append(
                        f"{day} {vehicle} trip {number} {site}: takes back {row.empties} "  # type: ignore[attr-defined]
                        f"empties, {out_there.get(site, 0):g} are out there"
                    )
                out_there[site] = out_there.get(site, 0) - row.empties + row.crates  # type: ignore[attr-defined]
                full -= row.crates  # type: ignore[attr-defined]
                folded += share * row.empties  # type: ignore[attr-defined]
            else:
                full += row.crates  # type: ignore[attr-defined]
            if full + folded > capacity[vehicle] + 1e-6:
                errors.append(
                    f"{day} {vehicle} trip {number} after {site}: {full:g} full crates and "
                    f"{folded:g} crates' room of empties, capacity {capacity[vehicle]:g}"
                )
    return errors


def _check_direct_flows(scenario: Scenario, flows: Iterable[object]) -> list[str]:
    """Flows a farm delivers itself, from the scenario: a farm's produce for a destination it
    lists in ``direct_destinations`` (and has a vehicle based at the farm for) is delivered by
    it; another farm's produce goes on its round only when handed over at the hub on a day
    the farm comes there with its own produce, after it is collected and before delivery;
    nothing else is said to be delivered by a farm."""
    errors: list[str] = []
    farms = {f.site_id: f for f in scenario.farms}
    has_vehicle = {v.depot_id for v in scenario.vehicles}
    sites = {s.id: s for s in scenario.sites}
    for f in flows:
        farm, site = f.farm_id, f.destination_id  # type: ignore[attr-defined]
        carrier = getattr(f, "delivered_by", "")
        handed = getattr(f, "handed_over", None)
        own = site in farms[farm].direct_destinations and farm in has_vehicle
        if own and (carrier != farm or handed is not None):
            errors.append(f"{farm} delivers {site} itself, the flow says {carrier!r}: {f}")
        if not carrier:
            continue
        if carrier not in farms or site not in farms[carrier].direct_destinations:
            errors.append(f"{carrier} does not deliver {site} itself: {f}")
            continue
        if carrier not in has_vehicle:
            errors.append(f"{carrier} has no vehicle of its own: {f}")
        if carrier == farm:
            continue
        days = sites[carrier].windows
        pickup, delivery = f.pickup_day, f.delivery_day  # type: ignore[attr-defined]
        if handed is None or not farms[carrier].brings_own_produce:
            errors.append(f"{farm}'s produce on {carrier}'s round without a hand-over: {f}")
        elif not pickup < handed < delivery:
            errors.append(f"handed over {handed}, not after pickup and before delivery: {f}")
        elif WEEKDAYS[handed.weekday()] not in days and "*" not in days:
            errors.append(f"handed over {handed}, a day {carrier} does not come: {f}")
    return errors
