"""An independent checker of routing results.

Written apart from the engine: it recomputes everything from the problem and the result's
trips (never reuses the solver's or the scheduler's code) and returns every rule broken,
in words. An empty list means the plan is valid.
"""

from __future__ import annotations

import math
from typing import Any

from foodchain.routing import RoutingProblem, RoutingResult, StopKind, UnservedReason

EPS = 1e-6


def check_result(problem: RoutingProblem, result: RoutingResult) -> list[str]:
    """Every rule the result breaks; [] if it is a valid plan of the problem."""
    errors: list[str] = []
    stops = problem.stops
    served: dict[int, tuple[int, int]] = {}
    trip_end: dict[tuple[int, int], float] = {}
    for trip in result.trips:
        trip_end[(trip.vehicle, trip.number)] = trip.end
        for visit in trip.visits:
            if visit.stop in served:
                errors.append(f"stop {visit.stop} ({stops[visit.stop].site_id}) served twice")
            served[visit.stop] = (trip.vehicle, trip.number)

    # Each stop: served once, or reported unserved (once) with a reason.
    reported: dict[int, int] = {}
    for u in result.unserved:
        reported[u.stop] = reported.get(u.stop, 0) + 1
        if not u.explanation:
            errors.append(f"stop {u.stop} unserved without an explanation")
        if stops[u.stop].mandatory and u.reason is UnservedReason.OPTIONAL_DROPPED:
            errors.append(f"mandatory stop {u.stop} reported as an optional drop")
        if not stops[u.stop].mandatory and u.reason is not UnservedReason.OPTIONAL_DROPPED:
            pass  # an optional stop may also be impossible; any reason is acceptable
    for i in range(len(stops)):
        if i in served and i in reported:
            errors.append(f"stop {i} is both served and reported unserved")
        if i not in served and reported.get(i, 0) != 1:
            errors.append(f"stop {i} ({stops[i].site_id}) neither served nor reported once")

    # Per vehicle: trips numbered in order, within shift, chained, within range.
    by_vehicle: dict[int, list[int]] = {}
    for k, trip in enumerate(result.trips):
        if not 0 <= trip.vehicle < len(problem.vehicles):
            errors.append(f"trip {k}: unknown vehicle {trip.vehicle}")
            return errors
        by_vehicle.setdefault(trip.vehicle, []).append(k)
    total_km = total_hours = total_co2 = 0.0
    total_cost = 0.0
    for v, indices in by_vehicle.items():
        vehicle = problem.vehicles[v]
        trips = sorted((result.trips[k] for k in indices), key=lambda t: t.number)
        if [t.number for t in trips] != list(range(len(trips))):
            errors.append(f"{vehicle.id}: trips numbered {[t.number for t in trips]}")
        if len(trips) > vehicle.max_trips:
            errors.append(f"{vehicle.id}: {len(trips)} trips, at most {vehicle.max_trips}")
        day_km = 0.0
        previous_end = vehicle.shift[0]
        total_cost += vehicle.cost_fixed
        for trip in trips:
            where = f"{vehicle.id} trip {trip.number}"
            if not trip.visits:
                errors.append(f"{where}: empty trip reported")
                continue
            if trip.start < previous_end - EPS:
                errors.append(f"{where}: starts {trip.start:.2f} before {previous_end:.2f}")
            if trip.end > vehicle.shift[1] + EPS:
                errors.append(f"{where}: ends {trip.end:.2f} after the shift {vehicle.shift[1]}")
            previous_end = trip.end
            errors += _check_trip(problem, result, v, trip, served, trip_end, where)
            day_km += trip.km
            total_hours += (trip.end - trip.start) / 60.0
            total_cost += trip.km * vehicle.cost_per_km
            total_cost += (trip.end - trip.start) / 60.0 * vehicle.cost_per_hour
            total_co2 += trip.km * vehicle.co2_kg_per_km
        if day_km > vehicle.range_km + EPS:
            errors.append(f"{vehicle.id}: {day_km:.1f} km in the day, range {vehicle.range_km}")
        total_km += day_km

    # Reported totals.
    penalty = sum(
        stops[i].penalty for i in range(len(stops)) if i not in served and not stops[i].mandatory
    )
    total_cost += penalty
    for label, reported_value, computed in (
        ("km", result.km, total_km),
        ("hours", result.hours, total_hours),
        ("co2_kg", result.co2_kg, total_co2),
        ("penalty", result.penalty, penalty),
        ("cost", result.cost, total_cost),
    ):
        if abs(reported_value - computed) > 1e-6 * max(1.0, abs(computed)):
            errors.append(f"reported {label} {reported_value} but the trips give {computed}")
    if result.vehicles_used != len(by_vehicle):
        errors.append(f"reported {result.vehicles_used} vehicles, trips use {len(by_vehicle)}")
    # Drivers: one vehicle each for the day.
    if problem.drivers is not None and len(by_vehicle) > problem.drivers:
        errors.append(f"{len(by_vehicle)} vehicles used with {problem.drivers} drivers")
    errors += _check_breaks(problem, result, by_vehicle)
    errors += _check_cold(problem, result)
    return errors


_COLDNESS = {"none": 0, "insulated": 1, "refrigerated": 2}
"""How cold a body keeps goods: a refrigerated body does what an insulated one does."""


def _check_cold(problem, result) -> list[str]:
    """The cold chain of the day: goods of a class that needs cold ride only in a body at
    least that cold; no goods stay on board longer than their classes allow (a delivery's
    from the trip's first loading to the end of its service, a pickup's from the start of
    its service to the end of unloading at the hub); no trip carries two classes kept apart."""
    rules = problem.cold
    if rules is None:
        return []
    errors: list[str] = []
    for trip in result.trips:
        vehicle = problem.vehicles[trip.vehicle]
        where = f"{vehicle.id} trip {trip.number}"
        body = _COLDNESS[str(vehicle.cold)]
        carried: set[str] = set()
        for visit in trip.visits:
            stop = problem.stops[visit.stop]
            carried |= set(stop.classes)
            for name in stop.classes:
                need = rules.needs.get(name)
                if need is not None and _COLDNESS[str(need)] > body:
                    errors.append(
                        f"{where}: {stop.site_id}'s {name} goods need {need}, "
                        f"{vehicle.id} is {vehicle.cold}"
                    )
                limit = rules.max_minutes_on_board.get(name)
                if limit is None:
                    continue
                if str(stop.kind) == "delivery":
                    on_board = visit.departure - trip.start
                else:
                    on_board = trip.end - visit.start
                if on_board > limit + EPS:
                    errors.append(
                        f"{where}: {stop.site_id}'s {name} goods {on_board:.1f} min on board, "
                        f"limit {limit}"
                    )
        for pair in rules.incompatible:
            if all(name in carried for name in pair):
                errors.append(f"{where}: carries {' and '.join(sorted(pair))} together")
    return errors


def _check_breaks(problem, result, by_vehicle) -> list[str]:
    """Each vehicle's work (first loading to last unloading) is cut by breaks of the rule's
    length, taken at the hub while the vehicle is between trips, into pieces no longer than
    the rule's stretch of work."""
    errors: list[str] = []
    rule = problem.breaks
    for pause in result.breaks:
        if pause.vehicle not in by_vehicle:
            errors.append(f"break of unused vehicle {pause.vehicle}")
    for v, indices in by_vehicle.items():
        first = min(result.trips[k].start for k in indices)
        last = max(result.trips[k].end for k in indices)
        if problem.max_day_minutes is not None and last - first > problem.max_day_minutes + EPS:
            errors.append(f"vehicle {v}: a driver's day of {last - first:.1f} min")
    if rule is None:
        return errors
    for v, indices in by_vehicle.items():
        trips = sorted((result.trips[k] for k in indices), key=lambda t: t.number)
        pauses = sorted((b.start, b.end) for b in result.breaks if b.vehicle == v)
        busy = [(t.start, t.end) for t in trips]
        for start, end in pauses:
            if end - start + EPS < rule.minutes:
                errors.append(f"vehicle {v}: break {start:.1f}-{end:.1f} too short")
            if any(a + EPS < end and start < b - EPS for a, b in busy):
                errors.append(f"vehicle {v}: break {start:.1f}-{end:.1f} during a trip")
            if not busy[0][0] - EPS <= start and end <= busy[-1][1] + EPS:
                errors.append(f"vehicle {v}: break {start:.1f}-{end:.1f} outside its day")
        since = busy[0][0]
        for start, end in pauses:
            if start - since > rule.after_minutes + EPS:
                errors.append(f"vehicle {v}: {start - since:.0f} min of work before a break")
            since = end
        if busy[-1][1] - since > rule.after_minutes + EPS:
            errors.append(f"vehicle {v}: {busy[-1][1] - since:.0f} min of work at the end")
    return errors


def _check_trip(problem, result, v, trip, served, trip_end, where) -> list[str]:
    errors: list[str] = []
    vehicle = problem.vehicles[v]
    stops = problem.stops
    minutes = problem.minutes[vehicle.profile]
    deliveries = [i for i in trip.stops if stops[i].kind is StopKind.DELIVERY]
    pickups = [i for i in trip.stops if stops[i].kind is StopKind.PICKUP]
    loaded_kg = sum(stops[i].kg for i in deliveries)
    unloaded_kg = sum(stops[i].kg for i in pickups)
    if abs(trip.loaded_kg - loaded_kg) > EPS or abs(trip.unloaded_kg - unloaded_kg) > EPS:
        errors.append(f"{where}: reported loads {trip.loaded_kg}/{trip.unloaded_kg} kg")
    # Goods must be at the hub before loading starts.
    for i in deliveries:
        if stops[i].release is not None and trip.start < stops[i].release - EPS:
            errors.append(f"{where}: loads stop {i} at {trip.start:.2f} before its release")
        for pickup in stops[i].supplied_by:
            if pickup not in served:
                errors.append(f"{where}: delivers stop {i} whose pickup {pickup} is not made")
                continue
            arrived = trip_end[served[pickup]]
            if trip.start < arrived - EPS:
                errors.append(
                    f"{where}: loads stop {i} at {trip.start:.2f}, its goods (stop {pickup}) "
                    f"are unloaded at {arrived:.2f}"
                )
    loading = problem.hub_fixed_minutes + problem.hub_minutes_per_100kg * loaded_kg / 100
    if trip.departure < trip.start + loading - EPS:
        errors.append(
            f"{where}: leaves {trip.departure:.2f}, loading ends {trip.start + loading:.2f}"
        )
    # Visits in order: travel, windows, service, loads, allowed sites.
    kg = loaded_kg
    crates = sum(stops[i].crates for i in deliveries)
    if kg > vehicle.capacity_kg + EPS or crates > vehicle.capacity_crates + EPS:
        errors.append(f"{where}: leaves with {kg} kg / {crates} crates, above capacity")
    clock, here, km = trip.departure, 0, 0.0
    for visit in trip.visits:
        stop = stops[visit.stop]
        location = visit.stop + 1
        if (
            vehicle.allowed_site_kinds is not None
            and stop.site_kind not in vehicle.allowed_site_kinds
        ):
            errors.append(f"{where}: {vehicle.id} may not serve {stop.site_kind} {stop.site_id}")
        if (
            vehicle.max_km_from_hub is not None
            and problem.km[0][location] > vehicle.max_km_from_hub + EPS
        ):
            errors.append(f"{where}: {stop.site_id} is outside the zone of {vehicle.id}")
        if visit.arrival < clock + minutes[here][location] - EPS:
            errors.append(f"{where}: arrives at {stop.site_id} faster than the road allows")
        if visit.start < max(visit.arrival, stop.window[0]) - EPS:
            errors.append(f"{where}: serves {stop.site_id} before arrival or window opening")
        if visit.start > stop.window[1] + EPS:
            errors.append(
                f"{where}: serves {stop.site_id} at {visit.start:.2f}, window closes {stop.window[1]}"
            )
        if visit.departure < visit.start + stop.service_minutes - EPS:
            errors.append(f"{where}: leaves {stop.site_id} before the service is done")
        sign = -1 if stop.kind is StopKind.DELIVERY else 1
        kg += sign * stop.kg
        crates += sign * stop.crates
        if kg > vehicle.capacity_kg + EPS or crates > vehicle.capacity_crates + EPS or kg < -EPS:
            errors.append(f"{where}: {kg:.1f} kg / {crates} crates on board after {stop.site_id}")
        if abs(visit.load_kg - kg) > 1e-6 * max(1.0, kg):
            errors.append(f"{where}: reports {visit.load_kg} kg on board after {stop.site_id}")
        km += problem.km[here][location]
        clock, here = visit.departure, location
    km += problem.km[here][0]
    if trip.back < clock + minutes[here][0] - EPS:
        errors.append(f"{where}: back at the hub faster than the road allows")
    unloading = problem.hub_minutes_per_100kg * unloaded_kg / 100
    if trip.end < trip.back + unloading - EPS:
        errors.append(f"{where}: unloading ends before {trip.back + unloading:.2f}")
    for i in pickups:
        deadline = stops[i].hub_deadline
        if deadline is not None and trip.end > deadline + EPS:
            errors.append(
                f"{where}: stop {i} unloaded at {trip.end:.2f}, due at the hub {deadline}"
            )
    if abs(trip.km - km) > 1e-6 * max(1.0, km):
        errors.append(f"{where}: reports {trip.km} km, the road gives {km}")
    return errors


def _road_km(a, b, road_factor: float) -> float:
    """Crow-flies km (haversine, written here) × the scenario's road factor."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b.lon - a.lon) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h))) * road_factor


def check_depots(scenario, stops) -> list[str]:
    """Every trip of the week's rounds (``stops``: the record's rows) leaves from its vehicle's
    depot and comes back to it, as the scenario bases the vehicle (the hub, or a farm for its
    own direct deliveries), and its first and last legs are the road km from and to that
    depot (crow-flies × road factor: a round built from the wrong depot shows in its km)."""
    errors: list[str] = []
    depot = {v.id: v.depot_id for v in scenario.vehicles}
    sites = {s.id: s for s in scenario.sites}
    factor = float(scenario.settings.get("road_factor", 1.3))
    trips: dict[tuple[Any, ...], list[Any]] = {}
    for row in stops:
        trips.setdefault((row.day, row.vehicle_id, row.trip), []).append(row)
    for (day, vehicle, number), rows in sorted(trips.items()):
        rows.sort(key=lambda r: r.seq)
        where = f"{day} {vehicle} trip {number}"
        base = depot.get(vehicle)
        if base is None:
            errors.append(f"{where}: no such vehicle in the scenario")
            continue
        first, last = rows[0], rows[-1]
        if (first.action, first.site_id) != ("depart", base):
            errors.append(f"{where}: starts with {first.action} at {first.site_id}, not at {base}")
        if (last.action, last.site_id) != ("return", base):
            errors.append(f"{where}: ends with {last.action} at {last.site_id}, not at {base}")
        if len(rows) < 3:
            continue
        legs = ((base, rows[1]), (rows[-2].site_id, last))
        for origin, row in legs:
            end = base if row is last else row.site_id
            km = _road_km(sites[origin], sites[end], factor)
            if abs(row.km - km) > 0.01 + 1e-3 * km:
                errors.append(f"{where}: {row.km:.2f} km {origin} -> {end}, the road is {km:.2f}")
    return errors
