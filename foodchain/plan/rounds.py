"""The week's rounds from the allocation's flows: one routing problem per day.

Produce is collected on its pickup day and delivered on its delivery day: flows with both on
the same day tie a delivery to today's collections (it leaves the hub after them); produce
collected earlier waits at the hub, produce for a later day is collected and kept there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Engine

from foodchain.allocation import AllocationParameters, allocate
from foodchain.allocation import Flow as AllocationFlow
from foodchain.allocation.load import problem_of
from foodchain.catalogue import Catalogue
from foodchain.errors import FoodchainError
from foodchain.inputs import read_snapshot
from foodchain.models import SiteKind, VehicleIn
from foodchain.routing.build import Flow, build_day_problem
from foodchain.routing.options import Progress, SolverOptions
from foodchain.routing.portfolio import solve
from foodchain.routing.problem import InitialRoutes, RoutingProblem, RoutingResult
from foodchain.routing.travel import Travel, TravelMatrix
from foodchain.weeks import Week


@dataclass(frozen=True)
class DayRounds:
    day: dt.date
    problem: RoutingProblem
    result: RoutingResult


@dataclass(frozen=True)
class WeekRounds:
    week: Week
    flows: Sequence[AllocationFlow]
    """What the rounds move: the allocation's flows."""
    days: list[DayRounds]


def _flow(f: AllocationFlow, day: dt.date) -> Flow:
    return Flow(f.farm_id, f.product_id, f.destination_id, day, f.kg)


def day_problem(
    day: dt.date,
    catalogue: Catalogue,
    vehicles: Sequence[VehicleIn],
    flows: Sequence[AllocationFlow],
    matrix: TravelMatrix | None = None,
) -> RoutingProblem:
    """The routing problem of ``day`` for the allocation's ``flows``."""
    hub = catalogue.sites.get(catalogue.hub)
    if hub is None:
        raise FoodchainError("the database has no hub: load a scenario with 'foodchain init'")
    same_day = [_flow(f, day) for f in flows if f.pickup_day == day == f.delivery_day]
    later = [_flow(f, day) for f in flows if f.pickup_day == day < f.delivery_day]
    stocked = [_flow(f, day) for f in flows if f.pickup_day < day == f.delivery_day]
    return build_day_problem(
        day,
        hub,
        catalogue.sites,
        catalogue.farms,
        list(vehicles),
        same_day,
        catalogue.road_factor,
        matrix,
        optional_sites=set(catalogue.sites_of(SiteKind.SHOP)),
        kg_per_crate={p.id: p.kg_per_crate for p in catalogue.products.values()},
        collected_for_later=later,
        from_stock=stocked,
        travel=Travel.of(catalogue.settings, matrix),
        drivers=catalogue.driver_rules.on(day),
        breaks=catalogue.driver_rules.break_rule,
        max_day_minutes=catalogue.driver_rules.max_day_minutes,
        cold=catalogue.cold_chain.on(day),
        classes={p.id: p.temperature_class for p in catalogue.products.values()},
    )


EarlierRoutes = Mapping[str, Sequence[Sequence[tuple[str, str, int]]]]
"""One day's rounds of an earlier plan: vehicle id -> trips -> (site id, action, part)."""


def carry_over(problem: RoutingProblem, earlier: EarlierRoutes) -> InitialRoutes | None:
    """``earlier`` in ``problem``'s stop and vehicle numbers, if those rounds visit exactly
    the problem's stops (a re-plan whose quantities changed, say) with its vehicles."""
    index = {
        (stop.site_id, str(stop.kind), part): i
        for i, (stop, (part, _)) in enumerate(zip(problem.stops, problem.parts(), strict=True))
    }
    vehicles = {vehicle.id: v for v, vehicle in enumerate(problem.vehicles)}
    routes: dict[int, list[list[int]]] = {}
    visited: list[int] = []
    for vehicle_id, trips in earlier.items():
        v = vehicles.get(vehicle_id)
        if v is None or len(trips) > problem.vehicles[v].max_trips:
            return None
        if any(visit not in index for trip in trips for visit in trip):
            return None
        routes[v] = [[index[visit] for visit in trip] for trip in trips]
        visited += [s for trip in routes[v] for s in trip]
    if sorted(visited) != list(range(len(problem.stops))):
        return None
    return routes


MIN_DAY_SECONDS = 0.5
"""The least search time a day gets when the week's time is shared."""


def route_flows(
    catalogue: Catalogue,
    vehicles: Sequence[VehicleIn],
    flows: Sequence[AllocationFlow],
    matrix: TravelMatrix | None,
    options: SolverOptions | None = None,
    days: Sequence[dt.date] | None = None,
    progress: Callable[[dt.date], Progress] | None = None,
    week_seconds: float | None = None,
    earlier: Mapping[dt.date, EarlierRoutes] | None = None,
) -> list[DayRounds]:
    """Plan the rounds of each day the flows move something on (or of ``days`` only).

    With ``week_seconds`` (and a time-limited ``options``), the week's search time is shared
    among the days by their number of stops, each day getting at least ``MIN_DAY_SECONDS``.
    A day whose ``earlier`` rounds visit the same stops starts its search from them, so a
    re-plan keeps its rounds unless it finds cheaper ones (``portfolio.solve``).
    """
    options = options or SolverOptions()
    moving = [f for f in flows if f.kg > 1e-9]
    busy = sorted({f.pickup_day for f in moving} | {f.delivery_day for f in moving})
    problems = [
        (day, day_problem(day, catalogue, vehicles, moving, matrix))
        for day in busy
        if days is None or day in days
    ]
    stops = sum(len(p.stops) for _, p in problems) or 1
    rounds = []
    for day, problem in problems:
        chosen = options
        if week_seconds is not None and options.time_limit_s is not None:
            share = week_seconds * len(problem.stops) / stops
            chosen = replace(options, time_limit_s=max(MIN_DAY_SECONDS, share))
        start = carry_over(problem, earlier[day]) if earlier and day in earlier else None
        report = progress(day) if progress else None
        result = solve(problem, chosen, initial_routes=start, progress=report)
        rounds.append(DayRounds(day, problem, result))
    return rounds


def route_week(
    engine: Engine,
    week: Week,
    options: SolverOptions | None = None,
    days: Sequence[dt.date] | None = None,
    allocation_params: AllocationParameters | None = None,
    progress: Callable[[dt.date], Progress] | None = None,
    flows: Sequence[AllocationFlow] | None = None,
) -> WeekRounds:
    """Plan the collection and delivery rounds of each day of the week.

    The flows are the week's allocation, made now from the stored inputs, or ``flows`` as
    given (a stored run's, to re-plan its rounds after the fleet or the roads changed).
    Sites, fleet and travel times are always the database's current ones."""
    inputs = read_snapshot(engine, week)
    if flows is None:
        flows = allocate(problem_of(inputs), allocation_params).flows
    rounds = route_flows(
        inputs.catalogue, inputs.vehicles, flows, inputs.matrix, options, days, progress
    )
    return WeekRounds(week, flows, rounds)
