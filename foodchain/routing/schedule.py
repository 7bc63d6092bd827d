"""Turns the stops of each trip into times, loads, km and costs (exact arithmetic).

The solver works on scaled integers rounded so that what it finds is feasible here; this
module recomputes the day in floating point from the problem alone. Each trip starts as
early as its constraints allow, then its departure is delayed as long as that only removes
waiting (the end stays the same), so reported hours are the hours the plan really needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise

from foodchain.routing.problem import (
    HUB,
    RoutingProblem,
    RoutingResult,
    StopKind,
    Trip,
    Unserved,
    Visit,
)


def effective_release(problem: RoutingProblem, stop: int) -> float | None:
    """When a delivery's goods are at the hub: its own release or its pickups' deadlines."""
    s = problem.stops[stop]
    times = [] if s.release is None else [s.release]
    for pickup in s.supplied_by:
        deadline = problem.stops[pickup].hub_deadline
        if deadline is not None:
            times.append(deadline)
    return max(times) if times else None


def _trip_loads(problem: RoutingProblem, stops: Sequence[int]) -> tuple[float, float]:
    loaded = sum(problem.stops[i].kg for i in stops if problem.stops[i].kind is StopKind.DELIVERY)
    unloaded = sum(problem.stops[i].kg for i in stops if problem.stops[i].kind is StopKind.PICKUP)
    return loaded, unloaded


def _timed_trip(
    problem: RoutingProblem, vehicle: int, number: int, stops: Sequence[int], ready: float
) -> Trip:
    """Earliest timing of one trip whose loading may begin at ``ready``, then waits removed."""
    loaded, unloaded = _trip_loads(problem, stops)
    crates_loaded = sum(
        problem.stops[i].crates for i in stops if problem.stops[i].kind is StopKind.DELIVERY
    )
    start = ready
    for i in stops:
        if problem.stops[i].kind is StopKind.DELIVERY:
            release = effective_release(problem, i)
            if release is not None:
                start = max(start, release)
    departure = start + problem.loading_minutes(loaded)

    def run(leave_hub: float) -> tuple[list[tuple[float, float, float]], float]:
        times = []
        clock, here = leave_hub, HUB
        for i in stops:
            arrival = clock + problem.travel_minutes(vehicle, here, i + 1)
            begin = max(arrival, problem.stops[i].window[0])
            clock = begin + problem.stops[i].service_minutes
            times.append((arrival, begin, clock))
            here = i + 1
        return times, clock + problem.travel_minutes(vehicle, here, HUB)

    times, back = run(departure)
    # Delay the departure by what waiting absorbs without pushing any stop later.
    waiting, slack = 0.0, float("inf")
    for i, (arrival, begin, _) in zip(stops, times, strict=True):
        waiting += begin - arrival
        slack = min(slack, waiting + problem.stops[i].window[1] - begin)
    delay = max(0.0, min(waiting, slack))
    if delay > 0:
        departure += delay
        start += delay
        times, back = run(departure)

    visits = []
    kg_on_board, crates_on_board = loaded, crates_loaded
    for i, (arrival, begin, leave) in zip(stops, times, strict=True):
        stop = problem.stops[i]
        sign = -1.0 if stop.kind is StopKind.DELIVERY else 1.0
        kg_on_board += sign * stop.kg
        crates_on_board += sign * stop.crates
        visits.append(Visit(i, arrival, begin, leave, kg_on_board, crates_on_board))
    locations = [HUB, *(i + 1 for i in stops), HUB]
    km = sum(problem.km[a][b] for a, b in pairwise(locations))
    end = back + problem.unloading_minutes(unloaded)
    return Trip(vehicle, number, start, departure, back, end, tuple(visits), km, loaded, unloaded)


def evaluate(
    problem: RoutingProblem,
    routes: Mapping[int, Sequence[Sequence[int]]],
    unserved: Sequence[Unserved] = (),
    *,
    found_solution: bool = True,
    seconds: float = 0.0,
    objective: int | None = None,
    statistics: Mapping[str, float | int | str] | None = None,
) -> RoutingResult:
    """The result of serving ``routes`` (vehicle -> trips -> stops); costs in euros."""
    trips: list[Trip] = []
    for vehicle in sorted(routes):
        ready = problem.vehicles[vehicle].shift[0]
        number = 0
        for stops in routes[vehicle]:
            if not stops:
                continue
            trip = _timed_trip(problem, vehicle, number, stops, ready)
            trips.append(trip)
            ready = trip.end
            number += 1
    used = sorted({t.vehicle for t in trips})
    cost = sum(problem.vehicles[v].cost_fixed for v in used)
    km = hours = co2 = 0.0
    for trip in trips:
        spec = problem.vehicles[trip.vehicle]
        km += trip.km
        hours += trip.hours
        co2 += trip.km * spec.co2_kg_per_km
        cost += trip.km * spec.cost_per_km + trip.hours * spec.cost_per_hour
    penalty = sum(
        problem.stops[u.stop].penalty for u in unserved if not problem.stops[u.stop].mandatory
    )
    return RoutingResult(
        trips=tuple(trips),
        unserved=tuple(sorted(unserved, key=lambda u: u.stop)),
        cost=cost + penalty,
        km=km,
        hours=hours,
        co2_kg=co2,
        penalty=penalty,
        vehicles_used=len(used),
        found_solution=found_solution,
        seconds=seconds,
        objective=objective,
        statistics=dict(statistics or {}),
    )
