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
    unloaded first), and no more hub vehicles out on a day than the scenario's drivers that
    day. Direct deliveries: every trip leaves from and returns to its vehicle's depot (the
    scenario's); a farm's own produce for a destination it delivers itself is never collected
    and is delivered from the farm by its own vehicle, other farms' produce on its round is
    collected as usual and handed over on a day the farm comes to the hub; every flow is
    delivered once, from the hub or from the farm (``_check_direct_flows``). Sites the rounds
    report as unserved are skipped, not excused elsewhere."""
    errors: list[str] = []
    brings = {f.site_id: f.brings_own_produce for f in scenario.farms}
    hub = next(s for s in scenario.sites if s.kind.value == "hub")
    per_100kg = hub.service_minutes_per_100kg
    skipped = {(u.day, u.site_id) for u in unserved}  # type: ignore[attr-defined]
    depot = {v.id: v.depot_id for v in scenario.vehicles}
    own_destinations = {f.site_id: set(f.direct_destinations) for f in scenario.farms}
    errors += _check_direct_flows(scenario, flows)

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
        if brings[farm]:
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
        if key[1] in brings and brings[key[1]] and collected.get(key):
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
