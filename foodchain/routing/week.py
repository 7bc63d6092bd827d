"""The week's rounds from the allocation's flows: one routing problem per day.

Produce is collected on its pickup day and delivered on its delivery day: flows with both on
the same day tie a delivery to today's collections (it leaves the hub after them); produce
collected earlier waits at the hub, produce for a later day is collected and kept there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import select

from foodchain.allocation import AllocationParameters, AllocationResult
from foodchain.allocation import Flow as AllocationFlow
from foodchain.allocation.load import allocate_week
from foodchain.catalogue import Catalogue, load_catalogue
from foodchain.db import transaction
from foodchain.errors import FoodchainError
from foodchain.models import SiteKind, Vehicle, VehicleIn
from foodchain.routing.build import Flow, build_day_problem
from foodchain.routing.problem import RoutingProblem, RoutingResult
from foodchain.routing.solver import Progress, SolverOptions, solve
from foodchain.routing.travel import TravelMatrix
from foodchain.travel_matrix import load_matrix
from foodchain.weeks import Week


@dataclass(frozen=True)
class DayRounds:
    day: dt.date
    problem: RoutingProblem
    result: RoutingResult


@dataclass(frozen=True)
class WeekRounds:
    week: Week
    allocation: AllocationResult
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
    )


DayOptions = Callable[[RoutingProblem], SolverOptions]
"""Search options for one day's problem (e.g. a share of the week's time by its size)."""


def route_flows(
    catalogue: Catalogue,
    vehicles: Sequence[VehicleIn],
    flows: Sequence[AllocationFlow],
    matrix: TravelMatrix | None,
    options: SolverOptions | DayOptions | None = None,
    days: Sequence[dt.date] | None = None,
    progress: Callable[[dt.date], Progress] | None = None,
) -> list[DayRounds]:
    """Plan the rounds of each day the flows move something on (or of ``days`` only)."""
    moving = [f for f in flows if f.kg > 1e-9]
    busy = sorted({f.pickup_day for f in moving} | {f.delivery_day for f in moving})
    problems = [
        (day, day_problem(day, catalogue, vehicles, moving, matrix))
        for day in busy
        if days is None or day in days
    ]
    rounds = []
    for day, problem in problems:
        chosen = options(problem) if callable(options) else options
        result = solve(problem, chosen, progress=progress(day) if progress else None)
        rounds.append(DayRounds(day, problem, result))
    return rounds


def route_week(
    engine: Engine,
    week: Week,
    options: SolverOptions | None = None,
    days: Sequence[dt.date] | None = None,
    allocation_params: AllocationParameters | None = None,
    progress: Callable[[dt.date], Progress] | None = None,
) -> WeekRounds:
    """Allocate the week, then plan the collection and delivery rounds of each day."""
    allocation = allocate_week(engine, week, allocation_params)
    with transaction(engine) as session:
        catalogue = load_catalogue(session)
        vehicles = [VehicleIn.model_validate(v) for v in session.exec(select(Vehicle)).all()]
        matrix = load_matrix(session) or None
    rounds = route_flows(catalogue, vehicles, allocation.flows, matrix, options, days, progress)
    return WeekRounds(week, allocation, rounds)
