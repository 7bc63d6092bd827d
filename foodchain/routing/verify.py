"""Is a routing result a valid plan of its problem? Checked from the timed trips alone.

Every engine's answer passes here before the portfolio may keep it: what an engine modelled
approximately (PyVRP's hub handling, say) or rounded is judged by the problem's own rules in
exact arithmetic. The coupling of the echelons is checked as it really is: a delivery loads
only once the trip that collected its goods has unloaded them, whatever deadlines the engine
used to get there. (The tests use an independent checker of their own.)
"""

from __future__ import annotations

from itertools import pairwise

from foodchain.routing.cold import trip_breach
from foodchain.routing.diagnosis import vehicle_can_visit
from foodchain.routing.problem import RoutingProblem, RoutingResult, StopKind, Trip

EPS = 1e-6


def violations(problem: RoutingProblem, result: RoutingResult) -> list[str]:
    """Every rule ``result`` breaks, in words; [] for a valid plan."""
    errors: list[str] = []
    stops = problem.stops
    carried_by: dict[int, Trip] = {}
    for trip in result.trips:
        for stop in trip.stops:
            if stop in carried_by:
                errors.append(f"stop {stop} served twice")
            carried_by[stop] = trip
    reported = [u.stop for u in result.unserved]
    if len(set(reported)) != len(reported):
        errors.append("a stop reported unserved twice")
    for index in range(len(stops)):
        if (index in carried_by) == (index in reported):
            errors.append(f"stop {index} ({stops[index].site_id}) neither served nor unserved")
    by_vehicle: dict[int, list[Trip]] = {}
    for trip in result.trips:
        by_vehicle.setdefault(trip.vehicle, []).append(trip)
    if problem.drivers is not None and len(by_vehicle) > problem.drivers:
        errors.append(f"{len(by_vehicle)} vehicles leave the hub, {problem.drivers} drivers")
    errors += break_violations(problem, result, by_vehicle)
    for v, trips in by_vehicle.items():
        vehicle = problem.vehicles[v]
        trips.sort(key=lambda t: t.number)
        if len(trips) > vehicle.max_trips:
            errors.append(f"{vehicle.id}: {len(trips)} trips, at most {vehicle.max_trips}")
        if sum(t.km for t in trips) > vehicle.range_km + EPS:
            errors.append(f"{vehicle.id}: beyond its range of {vehicle.range_km:g} km")
        ready = vehicle.shift[0]
        for trip in trips:
            where = f"{vehicle.id} trip {trip.number}"
            if trip.start < ready - EPS or trip.end > vehicle.shift[1] + EPS:
                errors.append(f"{where}: outside the shift or overlapping the previous trip")
            ready = trip.end
            errors += _trip_violations(problem, trip, carried_by, where)
    return errors


def break_violations(
    problem: RoutingProblem, result: RoutingResult, by_vehicle: dict[int, list[Trip]]
) -> list[str]:
    """The drivers' breaks: each at the hub between two of its vehicle's trips, long enough,
    and no stretch of work (first loading, breaks, last unloading) longer than the rule's."""
    errors: list[str] = []
    rule = problem.breaks
    pauses: dict[int, list[tuple[float, float]]] = {}
    for pause in result.breaks:
        pauses.setdefault(pause.vehicle, []).append((pause.start, pause.end))
    for v in set(pauses) - set(by_vehicle):
        errors.append(f"{problem.vehicles[v].id}: a break on a day without trips")
    limit = problem.max_day_minutes
    for v, trips in by_vehicle.items():
        day = max(t.end for t in trips) - min(t.start for t in trips)
        if limit is not None and day > limit + EPS:
            errors.append(f"{problem.vehicles[v].id}: a day of {day:.0f} min, at most {limit:g}")
    if rule is None:
        return errors
    for v, trips in by_vehicle.items():
        name = problem.vehicles[v].id
        trips = sorted(trips, key=lambda t: t.start)
        taken = sorted(pauses.get(v, []))
        gaps = [(a.end, b.start) for a, b in pairwise(trips)]
        for start, end in taken:
            if end - start < rule.minutes - EPS:
                errors.append(f"{name}: a break of {end - start:.0f} min, {rule.minutes:g} due")
            if not any(a - EPS <= start and end <= b + EPS for a, b in gaps):
                errors.append(f"{name}: a break at {start:.0f} is not at the hub between trips")
        marks = [trips[0].start, *(x for pause in taken for x in pause), trips[-1].end]
        for begin, stop in zip(marks[::2], marks[1::2], strict=True):
            if stop - begin > rule.after_minutes + EPS:
                errors.append(
                    f"{name}: {stop - begin:.0f} min of work without a break "
                    f"(at most {rule.after_minutes:g})"
                )
    return errors


def _trip_violations(
    problem: RoutingProblem, trip: Trip, carried_by: dict[int, Trip], where: str
) -> list[str]:
    errors: list[str] = []
    vehicle = problem.vehicles[trip.vehicle]
    kg = sum(problem.stops[s].kg for s in trip.stops if problem.stops[s].kind is StopKind.DELIVERY)
    crates = sum(
        problem.stops[s].crates for s in trip.stops if problem.stops[s].kind is StopKind.DELIVERY
    )
    if trip.departure < trip.start + problem.loading_minutes(kg) - EPS:
        errors.append(f"{where}: leaves before it is loaded")
    if kg > vehicle.capacity_kg + EPS or crates > vehicle.capacity_crates + EPS:
        errors.append(f"{where}: leaves the hub over capacity")
    clock, here = trip.departure, 0
    for visit in trip.visits:
        stop = problem.stops[visit.stop]
        if vehicle_can_visit(problem, trip.vehicle, visit.stop) is not None:
            errors.append(f"{where}: {vehicle.id} may not serve {stop.site_id}")
        travel = problem.travel_minutes(trip.vehicle, here, visit.stop + 1)
        if visit.arrival < clock + travel - EPS or visit.start < visit.arrival - EPS:
            errors.append(f"{where}: reaches {stop.site_id} faster than the road allows")
        if not stop.window[0] - EPS <= visit.start <= stop.window[1] + EPS:
            errors.append(f"{where}: serves {stop.site_id} outside its window")
        if visit.departure < visit.start + stop.service_minutes - EPS:
            errors.append(f"{where}: leaves {stop.site_id} before the service is done")
        sign = -1.0 if stop.kind is StopKind.DELIVERY else 1.0
        kg += sign * stop.kg
        crates += sign * stop.crates
        if kg > vehicle.capacity_kg + EPS or crates > vehicle.capacity_crates + EPS:
            errors.append(f"{where}: over capacity after {stop.site_id}")
        if stop.kind is StopKind.DELIVERY:
            if stop.release is not None and trip.start < stop.release - EPS:
                errors.append(f"{where}: loads {stop.site_id} before its goods are at the hub")
            for pickup in stop.supplied_by:
                source = carried_by.get(pickup)
                if source is None or trip.start < source.end - EPS:
                    errors.append(f"{where}: loads {stop.site_id} before its goods are collected")
        elif stop.hub_deadline is not None and trip.end > stop.hub_deadline + EPS:
            errors.append(f"{where}: {stop.site_id}'s goods reach the hub after their deadline")
        clock, here = visit.departure, visit.stop + 1
    if trip.back < clock + problem.travel_minutes(trip.vehicle, here, 0) - EPS:
        errors.append(f"{where}: back at the hub faster than the road allows")
    services = [(visit.start, visit.departure) for visit in trip.visits]
    breach = trip_breach(problem, trip.stops, trip.start, services, trip.end)
    if breach is not None:
        errors.append(f"{where}: {breach}")
    return errors
