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
        if not brings[farm]:
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
    unloaded first), no more vehicles out on a day than the scenario's drivers that day, and
    the minimum pickup (``check_collections``; a farm the plan asks to bring a collection,
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
    to_deliver: dict[tuple[dt.date, str], float] = defaultdict(float)
    same_day: dict[tuple[dt.date, str], set[str]] = defaultdict(set)
    brought: dict[tuple[dt.date, str, str], float] = defaultdict(float)
    for f in flows:
        pickup, delivery = f.pickup_day, f.delivery_day  # type: ignore[attr-defined]
        farm, site, kg = f.farm_id, f.destination_id, f.kg  # type: ignore[attr-defined]
        if brings(farm, pickup):
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
        if key[1] in always and brings(key[1], key[0]) and collected.get(key):
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
