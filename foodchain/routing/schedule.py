"""Turns the stops of each trip into times, loads, km and costs (exact arithmetic).

The solver works on scaled integers rounded so that what it finds is feasible here; this
module recomputes the day in floating point from the problem alone. Each trip starts as
early as its constraints allow, then its departure is delayed as long as that only removes
waiting (the end stays the same), so reported hours are the hours the plan really needs.
The drivers' breaks go at the hub between trips, where the day needs them (``time_day``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from foodchain.routing.problem import (
    HUB,
    Break,
    RoutingProblem,
    RoutingResult,
    StopKind,
    Trip,
    Unserved,
    Visit,
)
from foodchain.timing import visit_times


def effective_release(problem: RoutingProblem, stop: int) -> float | None:
    """When a delivery's goods are at the hub: its own release or its pickups' deadlines."""
    s = problem.stops[stop]
    times = [] if s.release is None else [s.release]
    for pickup in s.supplied_by:
        deadline = problem.stops[pickup].hub_deadline
        if deadline is not None:
            times.append(deadline)
    return max(times) if times else None


@dataclass(frozen=True)
class TripTiming:
    """When a trip does what, at the earliest, its departure then delayed by the waiting
    that delaying removes (the end stays the same): the one timing every module uses."""

    start: float
    """Loading at the hub begins."""
    departure: float
    stops: tuple[tuple[float, float, float], ...]
    """Per stop: arrival, start of service, departure."""
    back: float
    end: float
    """Unloading at the hub is over."""
    km: float
    loaded_kg: float
    loaded_crates: float
    unloaded_kg: float


def time_trip(
    problem: RoutingProblem, vehicle: int, stops: Sequence[int], ready: float
) -> TripTiming:
    """The timing of one trip of ``vehicle`` whose loading may begin at ``ready``: after the
    goods of its deliveries are at the hub, loading, the stops in order (waiting for windows
    to open), back, unloading. Windows are not enforced here (``verify`` judges)."""
    loaded = crates = unloaded = 0.0
    start = ready
    for i in stops:
        stop = problem.stops[i]
        if stop.kind is StopKind.DELIVERY:
            loaded += stop.kg
            crates += stop.crates
            release = effective_release(problem, i)
            if release is not None and release > start:
                start = release
        else:
            unloaded += stop.kg
    minutes = problem.minutes[problem.vehicles[vehicle].profile]
    places = [HUB, *(i + 1 for i in stops), HUB]
    calls = [
        (minutes[a][b], problem.stops[i].window[0], problem.stops[i].service_minutes)
        for a, b, i in zip(places, places[1:], stops, strict=False)
    ]
    departure = start + problem.loading_minutes(loaded)
    times = visit_times(departure, calls)
    # Delay the departure by what waiting absorbs without pushing any stop later.
    waiting, slack = 0.0, float("inf")
    for i, (arrival, begin, _) in zip(stops, times, strict=True):
        waiting += begin - arrival
        slack = min(slack, waiting + problem.stops[i].window[1] - begin)
    delay = max(0.0, min(waiting, slack))
    if delay > 0:
        start += delay
        departure += delay
        times = visit_times(departure, calls)
    back = (times[-1][2] if times else departure) + minutes[places[-2]][HUB]
    km = 0.0
    for a, b in pairwise(places):
        km += problem.km[a][b]
    end = back + problem.unloading_minutes(unloaded)
    return TripTiming(start, departure, tuple(times), back, end, km, loaded, crates, unloaded)


def time_day(
    problem: RoutingProblem, vehicle: int, trips: Sequence[Sequence[int]]
) -> tuple[list[TripTiming], list[tuple[float, float]]]:
    """The timing of a vehicle's day: its trips one after the other from the start of its
    shift, and the driver's breaks (start, end) at the hub between them.

    A break is placed only when the next trip would end more than ``after_minutes`` after
    work (re)started: in the latest wait between trips long enough for it (it then ends when
    the wait does, so it moves nothing), else right after the previous trip, the next one
    loading when the break is over. Rules are not enforced here (``verify`` judges): a trip
    longer than the longest stretch of work, say, stays as it is."""
    ready = problem.vehicles[vehicle].shift[0]
    rule = problem.breaks
    timings: list[TripTiming] = []
    breaks: list[tuple[float, float]] = []
    resume = 0.0  # when work started, or restarted after the last break
    for stops in trips:
        timing = time_trip(problem, vehicle, stops, ready)
        if not timings:
            resume = timing.start
        elif rule is not None and timing.end - resume > rule.after_minutes + 1e-9:
            placed = _free_break(timings, timing, resume, rule.after_minutes, rule.minutes)
            if placed is None:
                begin = timings[-1].end
                placed = (begin, begin + rule.minutes)
                timing = time_trip(problem, vehicle, stops, placed[1])
            breaks.append(placed)
            resume = placed[1]
        timings.append(timing)
        ready = timing.end
    return timings, breaks


def within_work_limit(
    problem: RoutingProblem, timings: Sequence[TripTiming], breaks: Sequence[tuple[float, float]]
) -> bool:
    """Whether the driver's day is within ``max_day_minutes`` and no stretch of its work
    (first loading, breaks, last unloading) longer than the break rule allows."""
    if not timings:
        return True
    limit = problem.max_day_minutes
    if limit is not None and timings[-1].end - timings[0].start > limit + 1e-6:
        return False
    rule = problem.breaks
    if rule is None:
        return True
    marks = [timings[0].start, *(x for pause in breaks for x in pause), timings[-1].end]
    return all(
        stop - begin <= rule.after_minutes + 1e-6
        for begin, stop in zip(marks[::2], marks[1::2], strict=True)
    )


def _free_break(
    timings: Sequence[TripTiming],
    following: TripTiming,
    resume: float,
    after: float,
    minutes: float,
) -> tuple[float, float] | None:
    """A break in the latest wait at the hub (since work resumed) after which ``following``
    ends within ``after`` minutes of work, ending as late as the wait and the rule allow."""
    for k in range(len(timings) - 1, -1, -1):
        gap_start = timings[k].end
        if gap_start < resume - 1e-9:
            return None
        gap_end = timings[k + 1].start if k + 1 < len(timings) else following.start
        begin = min(gap_end - minutes, resume + after)
        if begin < gap_start - 1e-9:
            continue
        if following.end - (begin + minutes) <= after + 1e-9:
            return (begin, begin + minutes)
        return None  # an earlier wait leaves even more work after it
    return None


def _timed_trip(
    problem: RoutingProblem, vehicle: int, number: int, stops: Sequence[int], timing: TripTiming
) -> Trip:
    visits = []
    kg_on_board, crates_on_board = timing.loaded_kg, timing.loaded_crates
    for i, (arrival, begin, leave) in zip(stops, timing.stops, strict=True):
        stop = problem.stops[i]
        sign = -1.0 if stop.kind is StopKind.DELIVERY else 1.0
        kg_on_board += sign * stop.kg
        crates_on_board += sign * stop.crates
        visits.append(Visit(i, arrival, begin, leave, kg_on_board, crates_on_board))
    return Trip(
        vehicle,
        number,
        timing.start,
        timing.departure,
        timing.back,
        timing.end,
        tuple(visits),
        timing.km,
        timing.loaded_kg,
        timing.unloaded_kg,
    )


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
    pauses: list[Break] = []
    for vehicle in sorted(routes):
        used_trips = [list(stops) for stops in routes[vehicle] if stops]
        timings, breaks = time_day(problem, vehicle, used_trips)
        for number, (stops, timing) in enumerate(zip(used_trips, timings, strict=True)):
            trips.append(_timed_trip(problem, vehicle, number, stops, timing))
        pauses += [Break(vehicle, start, end) for start, end in breaks]
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
        breaks=tuple(pauses),
    )
