"""A large day split into territories around the hub, each solved with its own vehicles.

OR-Tools' first solution grows steeply with the stops and trip slots of one model (a generated
region's day of 170 stops found none in 20 s), so a day above ``TERRITORY_STOPS`` stops is
cut into compact groups of stops (by road km from seeds spread farthest apart), which are
solved one after the other, each with the vehicles the earlier ones left unused, and merged.

What couples the two echelons is fixed first: pickups get their hub deadlines and deliveries
release at their goods' deadlines (``derive_hub_deadlines``), so a territory needs nothing
from the others, except that a delivery whose goods were not collected (in whatever territory)
is taken out of its trip afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from foodchain.routing.diagnosis import saturated
from foodchain.routing.echelons import derive_hub_deadlines
from foodchain.routing.fleet import FLEET_SLOTS
from foodchain.routing.options import Progress, SolverOptions
from foodchain.routing.ortools_engine import solve
from foodchain.routing.problem import (
    HUB,
    InitialRoutes,
    RoutingProblem,
    RoutingResult,
    StopKind,
    Unserved,
)
from foodchain.routing.problem import UnservedReason as Reason
from foodchain.routing.schedule import effective_release, evaluate

TERRITORY_STOPS = 60
"""Most stops solved in one model; a larger day is split (Lensois days have at most ~45)."""


def solve_day(
    problem: RoutingProblem,
    options: SolverOptions,
    progress: Progress | None = None,
    initial_routes: InitialRoutes | None = None,
) -> RoutingResult:
    """``solve``, by territories when the day has more than ``TERRITORY_STOPS`` stops and
    more than ``FLEET_SLOTS`` trip slots (a regional day: the slots slow OR-Tools' first
    solution most; a Solomon or Homberger day, one trip per vehicle, is solved whole as
    measured). ``initial_routes`` are used only by a day solved whole."""
    slots = sum(v.max_trips for v in problem.vehicles)
    if len(problem.stops) <= TERRITORY_STOPS or slots <= FLEET_SLOTS:
        return solve(problem, options, initial_routes=initial_routes, progress=progress)
    coupled = derive_hub_deadlines(problem)
    groups = territories(coupled, math.ceil(len(problem.stops) / (TERRITORY_STOPS * 0.8)))
    free = list(range(len(problem.vehicles)))
    routes: dict[int, list[list[int]]] = {}
    unserved: list[Unserved] = []
    seconds = 0.0
    found = True
    for group in sorted(groups, key=len, reverse=True):
        if not free:
            unserved += [saturated(coupled, s) for s in group]
            continue
        part = _part(coupled, group, free)
        if coupled.drivers is not None:  # the drivers the earlier territories left
            part = replace(
                part, drivers=max(0, coupled.drivers - (len(problem.vehicles) - len(free)))
            )
        # Straight to the search that may leave stops out: the compulsory-first search tends
        # to spend a territory's whole time proving it cannot serve everything.
        chosen = replace(options, hard_mandatory_first=False)
        if options.time_limit_s is not None:
            share = options.time_limit_s * len(group) / len(problem.stops)
            chosen = replace(chosen, time_limit_s=share)
        result = solve(part, chosen, progress=progress)
        seconds += result.seconds
        found = found and result.found_solution
        for vehicle, trips in result.routes().items():
            routes[free[vehicle]] = [[group[s] for s in trip] for trip in trips]
        unserved += [replace(u, stop=group[u.stop]) for u in result.unserved]
        used = {free[v] for v in result.routes()}
        free = [v for v in free if v not in used]
    routes, unserved = _without_goods_not_collected(coupled, routes, unserved)
    return evaluate(
        coupled,
        routes,
        unserved,
        found_solution=found,
        seconds=seconds,
        statistics={"territories": len(groups)},
    )


def territories(problem: RoutingProblem, count: int) -> list[list[int]]:
    """``count`` compact groups of about equal size: seeds spread farthest apart (the first
    farthest from the hub), each stop to the nearest seed with room left, farthest stops
    first so that outlying stops are placed before the room runs out."""
    n = len(problem.stops)
    count = max(1, min(count, n))
    km = problem.km

    def distance(a: int, b: int) -> float:  # stop indices; both directions of the road
        return km[a + 1][b + 1] + km[b + 1][a + 1]

    seeds = [max(range(n), key=lambda s: (km[HUB][s + 1], -s))]
    while len(seeds) < count:
        seeds.append(
            max(
                (s for s in range(n) if s not in seeds),
                key=lambda s: (min(distance(s, t) for t in seeds), -s),
            )
        )
    room = math.ceil(n / count)
    groups: list[list[int]] = [[] for _ in seeds]
    for s in sorted(range(n), key=lambda s: (-km[HUB][s + 1], s)):
        open_groups = [g for g in range(count) if len(groups[g]) < room]
        nearest = min(open_groups, key=lambda g: (distance(s, seeds[g]), g))
        groups[nearest].append(s)
    return [sorted(g) for g in groups if g]


def _part(problem: RoutingProblem, stops: Sequence[int], vehicles: Sequence[int]) -> RoutingProblem:
    """The problem of ``stops`` with ``vehicles``; deliveries keep their goods' release."""
    places = [HUB, *(s + 1 for s in stops)]

    def sliced(matrix: Sequence[Sequence[float]]) -> tuple[tuple[float, ...], ...]:
        return tuple(tuple(matrix[a][b] for b in places) for a in places)

    kept = []
    for s in stops:
        stop = problem.stops[s]
        if stop.kind is StopKind.DELIVERY:
            stop = replace(stop, release=effective_release(problem, s), supplied_by=())
        kept.append(stop)
    return replace(
        problem,
        stops=tuple(kept),
        vehicles=tuple(problem.vehicles[v] for v in vehicles),
        km=sliced(problem.km),
        minutes=tuple(sliced(m) for m in problem.minutes),
    )


def _without_goods_not_collected(
    problem: RoutingProblem, routes: dict[int, list[list[int]]], unserved: list[Unserved]
) -> tuple[dict[int, list[list[int]]], list[Unserved]]:
    """Take out deliveries whose goods' pickup (in any territory) was not made."""
    missed = {u.stop for u in unserved}
    late = {
        s
        for s, stop in enumerate(problem.stops)
        if s not in missed and any(p in missed for p in stop.supplied_by)
    }
    if not late:
        return routes, unserved
    kept = {
        v: [[s for s in trip if s not in late] for trip in trips] for v, trips in routes.items()
    }
    kept = {v: [t for t in trips if t] for v, trips in kept.items()}
    for s in sorted(late):
        pickup = next(p for p in problem.stops[s].supplied_by if p in missed)
        unserved.append(
            Unserved(
                s,
                Reason.GOODS_TOO_LATE,
                f"{problem.stops[s].site_id}: its goods from {problem.stops[pickup].site_id} "
                "are not collected that day",
            )
        )
    return {v: trips for v, trips in kept.items() if trips}, unserved
