"""Which part of a large fleet a day's OR-Tools model is first offered (fleet policy)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from foodchain.routing.problem import (
    HUB,
    InitialRoutes,
    RoutingProblem,
    RoutingResult,
    UnservedReason,
)

FLEET_SLOTS = 60
"""Above this many trip slots, a day is first solved with part of the fleet, one trip per
vehicle: OR-Tools' first solution slows down with every slot, chained trips most (measured on
a generated region, 37 stops: 13 vans of 3 trips, no first solution in 5 s; of 2 trips,
4.8 s; of 1 trip, 0.3 s; 20 vans of 1 trip, 0.1 s and 2 stops left out instead of 26)."""


def fleet_order(problem: RoutingProblem) -> list[int]:
    """Vehicles by cost of a full day per kg they can carry, cheapest first."""

    def cost_per_kg(v: int) -> float:
        vehicle = problem.vehicles[v]
        hours = (vehicle.shift[1] - vehicle.shift[0]) / 60.0
        day = vehicle.cost_fixed + vehicle.cost_per_hour * hours
        return day / max(vehicle.capacity_kg * vehicle.max_trips, 1e-9)

    return sorted(range(len(problem.vehicles)), key=lambda v: (cost_per_kg(v), v))


def initial_fleet(
    problem: RoutingProblem, allowed: dict[int, list[int]], initial_routes: InitialRoutes | None
) -> list[int]:
    """Enough vehicles (of one trip each) for twice the day's kg and work, every stop covered.

    The work of a stop is its service plus half a return trip from the hub (a rough share of
    the trip that brings the vehicle there). A fleet too small shows as stops left out, and
    ``solve_once`` then grows it."""
    everyone = list(range(len(problem.vehicles)))
    if sum(v.max_trips for v in problem.vehicles) <= FLEET_SLOTS:
        return everyone
    chosen = set(initial_routes or ())
    order = fleet_order(problem)
    rank = {v: i for i, v in enumerate(order)}
    for vehicles in allowed.values():
        if not chosen.intersection(vehicles):
            chosen.add(min(vehicles, key=rank.__getitem__))
    kg = sum(problem.stops[s].kg for s in allowed)
    work = sum(
        problem.stops[s].service_minutes + problem.travel_minutes(vehicles[0], HUB, s + 1)
        for s, vehicles in allowed.items()
    )

    def enough() -> bool:
        fleet = [problem.vehicles[v] for v in chosen]
        capacity = sum(v.capacity_kg for v in fleet)  # one trip each, see solve_once
        minutes = sum(v.shift[1] - v.shift[0] for v in fleet)
        return capacity >= 2 * kg and minutes >= 2 * work and len(chosen) >= 4

    for v in order:
        if enough():
            break
        chosen.add(v)
    return sorted(chosen)


def shortfall(result: RoutingResult) -> tuple[int, int]:
    """(no solution at all, stops left out for want of vehicles): what a larger fleet fixes."""
    saturated = sum(u.reason is UnservedReason.FLEET_SATURATED for u in result.unserved)
    return (0 if result.found_solution else 1, saturated)


def driver_fleet(
    problem: RoutingProblem,
    allowed: Mapping[int, Sequence[int]],
    routes: InitialRoutes,
) -> list[int] | None:
    """As many vehicles as the day has drivers, for an engine that cannot limit the vehicles
    it uses (PyVRP): those of ``routes`` first, then, for each stop none of them may serve,
    the cheapest (``fleet_order``) that may, then the cheapest; None if every vehicle has
    its driver."""
    limit = problem.driver_limit
    if limit >= len(problem.vehicles):
        return None
    chosen = [v for v, trips in routes.items() if any(trips)][:limit]
    order = fleet_order(problem)
    rank = {v: i for i, v in enumerate(order)}
    for s in sorted(allowed):
        if len(chosen) >= limit:
            break
        if not set(allowed[s]) & set(chosen):
            chosen.append(min(allowed[s], key=rank.__getitem__))
    for v in order:
        if len(chosen) >= limit:
            break
        if v not in chosen:
            chosen.append(v)
    return sorted(chosen)


DRIVER_SUBSETS = 12
"""Most sets of vehicles the construction tries when drivers are fewer than vehicles."""


def driver_subsets(
    problem: RoutingProblem, allowed: Mapping[int, Sequence[int]]
) -> list[list[int]]:
    """Sets of as many vehicles as the day has drivers, one per mix of vehicle kinds
    (identical vehicles are interchangeable), those able to serve every stop first, at most
    ``DRIVER_SUBSETS``: a greedy construction that opens the cheapest vehicle first (a bike
    for the kitchens) may leave no driver for the van the afternoon needs."""
    limit = problem.driver_limit
    if limit >= len(problem.vehicles) or limit == 0:
        return []
    groups: dict[object, list[int]] = {}
    for v, vehicle in enumerate(problem.vehicles):
        groups.setdefault(replace(vehicle, id=""), []).append(v)
    kinds = [sorted(g) for g in groups.values()]
    mixes: list[list[int]] = []

    def extend(k: int, chosen: list[int]) -> None:
        if len(mixes) >= 4 * DRIVER_SUBSETS:
            return
        if len(chosen) == limit:
            mixes.append(sorted(chosen))
            return
        if k == len(kinds):
            return
        for n in range(min(len(kinds[k]), limit - len(chosen)), -1, -1):
            extend(k + 1, chosen + kinds[k][:n])

    extend(0, [])
    covered = [m for m in mixes if all(set(vehicles) & set(m) for vehicles in allowed.values())]
    others = [m for m in mixes if m not in covered]
    return (covered + others)[:DRIVER_SUBSETS]
