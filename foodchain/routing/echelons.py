"""Coupling of the two echelons: when collected goods must be at the hub.

A delivery can leave the hub only once the goods of the pickups that supply it are
unloaded there. Rather than planning collections and deliveries one after the other, both
are in one model and each pickup gets a *hub deadline*: its goods must be unloaded by then,
and the deliveries it supplies may load from then on. The first deadlines are the latest
that still let every supplied delivery reach its window; after a solve, each deadline
tightens to the actual unloading time, which keeps that plan valid and frees deliveries.

The first deadline of a pickup lies halfway between the earliest moment its goods can be
at the hub and the latest one its deliveries allow: at the latest, every delivery would
have to leave at the last minute (and a trip carrying several could not); at the earliest,
every farm would need a vehicle of its own at dawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from foodchain.routing.diagnosis import vehicle_can_visit
from foodchain.routing.problem import HUB, RoutingProblem, RoutingResult, StopKind, Unserved
from foodchain.routing.schedule import evaluate
from foodchain.timing import goods_at_hub, latest_loading_start

SAFETY_MINUTES = 1.0
"""Slack kept between a deadline and the time it was derived from (solver rounding)."""

ACTUAL_DEADLINE_PASSES = 5
"""Timing passes of ``with_actual_deadlines`` (one or two settle every plan seen)."""


def earliest_unloading(problem: RoutingProblem, pickup: int) -> float | None:
    """When the pickup's goods can be at the hub at best (a trip of its own)."""
    s = problem.stops[pickup]
    best = None
    for v, vehicle in enumerate(problem.vehicles):
        if vehicle_can_visit(problem, v, pickup) is not None:
            continue
        reach = (
            vehicle.shift[0]
            + problem.loading_minutes(0.0)
            + problem.travel_minutes(v, HUB, pickup + 1)
        )
        if max(reach, s.window[0]) > s.window[1]:
            continue
        end = goods_at_hub(
            reach=reach,
            opens=s.window[0],
            service=s.service_minutes,
            drive_back=problem.travel_minutes(v, pickup + 1, HUB),
            unloading=problem.unloading_minutes(s.kg),
        )
        if end <= vehicle.shift[1] and (best is None or end < best):
            best = end
    return best


def latest_loading(problem: RoutingProblem, delivery: int) -> float | None:
    """The last moment the delivery's loading can begin and still reach its window."""
    s = problem.stops[delivery]
    best = None
    for v, vehicle in enumerate(problem.vehicles):
        if vehicle_can_visit(problem, v, delivery) is not None:
            continue
        latest = latest_loading_start(
            closes=min(s.window[1], vehicle.shift[1]),
            drive_out=problem.travel_minutes(v, HUB, delivery + 1),
            loading=problem.loading_minutes(s.kg),
        )
        if latest >= vehicle.shift[0] and (best is None or latest > best):
            best = latest
    return best


def derive_hub_deadlines(problem: RoutingProblem) -> RoutingProblem:
    """Give every supplying pickup without a hub deadline the latest workable one."""
    fed: dict[int, list[int]] = {}
    for j, stop in enumerate(problem.stops):
        for pickup in stop.supplied_by:
            fed.setdefault(pickup, []).append(j)
    stops = list(problem.stops)
    for pickup, deliveries in fed.items():
        if stops[pickup].kind is not StopKind.PICKUP:
            raise ValueError(f"stop {pickup} supplies a delivery but is not a pickup")
        if stops[pickup].hub_deadline is not None:
            continue
        earliest = earliest_unloading(problem, pickup)
        latest = [latest_loading(problem, j) for j in deliveries]
        workable = [t for t in latest if t is not None and (earliest is None or t >= earliest)]
        if workable:
            deadline = min(workable) - SAFETY_MINUTES
            if earliest is not None:
                deadline = max(earliest + SAFETY_MINUTES, (earliest + deadline) / 2)
        elif earliest is not None:
            deadline = earliest  # too late for all of them: diagnosis will say so
        else:
            continue
        stops[pickup] = replace(stops[pickup], hub_deadline=deadline)
    return replace(problem, stops=tuple(stops))


def tighten_hub_deadlines(problem: RoutingProblem, result: RoutingResult) -> RoutingProblem:
    """Deadlines of supplying pickups set to when the plan actually unloads them."""
    supplying = {p for stop in problem.stops for p in stop.supplied_by}
    unloaded: dict[int, float] = {}
    for trip in result.trips:
        for visit in trip.visits:
            if visit.stop in supplying:
                unloaded[visit.stop] = trip.end
    stops = list(problem.stops)
    for pickup, end in unloaded.items():
        current = stops[pickup].hub_deadline
        if current is None or end + SAFETY_MINUTES < current - 1e-9:
            stops[pickup] = replace(stops[pickup], hub_deadline=end + SAFETY_MINUTES)
    return replace(problem, stops=tuple(stops))


def with_actual_deadlines(
    problem: RoutingProblem,
    routes: Mapping[int, Sequence[Sequence[int]]],
    unserved: Sequence[Unserved] = (),
) -> RoutingResult:
    """``routes`` timed so that each delivery loads once its goods are unloaded at the hub.

    Deliveries wait for the trips that really collect their goods, not for deadlines fixed
    beforehand: each supplying pickup's deadline is set to its trip's end and the day timed
    again, until nothing moves (a few passes; a pickup's end can move only when a delivery
    trip before it on the same vehicle waited longer). The result may still break a rule
    (``verify`` says which): a delivery may then wait past its window."""
    supplying = {p for stop in problem.stops for p in stop.supplied_by}
    given = {p: problem.stops[p].hub_deadline for p in supplying}
    current = problem
    result = evaluate(current, routes, unserved)
    for _ in range(ACTUAL_DEADLINE_PASSES):
        ends = {v.stop: t.end for t in result.trips for v in t.visits if v.stop in supplying}
        stops = list(problem.stops)
        for pickup, end in ends.items():
            limit = given[pickup]
            stops[pickup] = replace(stops[pickup], hub_deadline=end if limit is None else limit)
        following = replace(problem, stops=tuple(stops))
        if following == current:
            break
        current = following
        result = evaluate(current, routes, unserved)
    return result
