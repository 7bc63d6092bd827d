"""The week's rounds from the allocation's flows: one routing problem per day.

Produce is collected on its pickup day and delivered on its delivery day: flows with both on
the same day tie a delivery to today's collections (it leaves the hub after them); produce
collected earlier waits at the hub, produce for a later day is collected and kept there.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Engine

from foodchain.allocation import AllocationParameters, allocate
from foodchain.allocation import Flow as AllocationFlow
from foodchain.allocation.load import problem_of
from foodchain.allocation.result import BasketFill
from foodchain.catalogue import Catalogue
from foodchain.consolidation import consolidate_flows
from foodchain.errors import FoodchainError
from foodchain.hub_work import PackingJob, hub_work, packing_work, plan_packing
from foodchain.inputs import read_snapshot
from foodchain.models import SiteKind, VehicleIn
from foodchain.routing.build import Flow, build_day_problem
from foodchain.routing.direct import build_direct_problem
from foodchain.routing.options import Progress, SolverOptions
from foodchain.routing.portfolio import solve
from foodchain.routing.problem import InitialRoutes, RoutingProblem, RoutingResult
from foodchain.routing.travel import Travel, TravelMatrix
from foodchain.timing import site_window
from foodchain.weeks import WEEKDAYS, Week


@dataclass(frozen=True)
class DayRounds:
    """The rounds of one day from one depot: the hub's, or a farm's own direct deliveries
    (``problem.hub_id`` is the depot)."""

    day: dt.date
    problem: RoutingProblem
    result: RoutingResult
    packing: tuple[PackingJob, ...] = ()
    """The hub's packing of the day's deliveries (``settings.hub_work``), in stop numbers of
    ``problem``, whose deliveries are released when it is over."""


@dataclass(frozen=True)
class WeekRounds:
    week: Week
    flows: Sequence[AllocationFlow]
    """What the rounds move: the allocation's flows."""
    days: list[DayRounds]
    hub_id: str = ""
    """The hub; a day's rounds from another depot are a farm's own (``DayRounds``)."""


def _flow(f: AllocationFlow, day: dt.date) -> Flow:
    return Flow(f.farm_id, f.product_id, f.destination_id, day, f.kg)


def day_problem(
    day: dt.date,
    catalogue: Catalogue,
    vehicles: Sequence[VehicleIn],
    flows: Sequence[AllocationFlow],
    matrix: TravelMatrix | None = None,
    brought: Collection[str] = (),
) -> RoutingProblem:
    """The hub's routing problem of ``day`` for the allocation's ``flows``: what a farm
    delivers itself (``delivered_by``) is left to its own rounds (``direct_problems``), but
    other farms' produce handed to its van at the hub is collected as usual; the farms
    ``brought`` bring their produce that day (asked to: ``foodchain.consolidation``)."""
    hub = catalogue.sites.get(catalogue.hub)
    if hub is None:
        raise FoodchainError("the database has no hub: load a scenario with 'foodchain init'")
    from_hub = [f for f in flows if not f.delivered_by]
    # Collected to the hub too: other farms' produce handed to a farm's van there later on.
    collected = [f for f in flows if f.delivered_by != f.farm_id]
    same_day = [_flow(f, day) for f in from_hub if f.pickup_day == day == f.delivery_day]
    later = [_flow(f, day) for f in collected if f.pickup_day == day < f.delivery_day]
    stocked = [_flow(f, day) for f in from_hub if f.pickup_day < day == f.delivery_day]
    return build_day_problem(
        day,
        hub,
        catalogue.sites,
        {
            farm_id: farm.model_copy(update={"brings_own_produce": True})
            if farm_id in brought
            else farm
            for farm_id, farm in catalogue.farms.items()
        },
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


def direct_problems(
    day: dt.date,
    catalogue: Catalogue,
    vehicles: Sequence[VehicleIn],
    flows: Sequence[AllocationFlow],
    matrix: TravelMatrix | None = None,
) -> list[RoutingProblem]:
    """One routing problem per farm that delivers some of ``flows`` itself on ``day``, with
    its own vehicles from the farm (``routing.direct``)."""
    direct = [f for f in flows if f.delivered_by and f.delivery_day == day and f.kg > 1e-9]
    return [
        build_direct_problem(
            day,
            catalogue.sites[farm_id],
            catalogue.sites,
            catalogue.farms,
            vehicles,
            [_flow(f, day) for f in direct if f.delivered_by == farm_id],
            Travel.of(catalogue.settings, matrix),
            optional_sites=set(catalogue.sites_of(SiteKind.SHOP)),
            kg_per_crate={p.id: p.kg_per_crate for p in catalogue.products.values()},
            breaks=catalogue.driver_rules.break_rule,
            max_day_minutes=catalogue.driver_rules.max_day_minutes,
        )
        for farm_id in sorted({f.delivered_by for f in direct})
    ]


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


def brought_to_hub(
    catalogue: Catalogue,
    flows: Sequence[AllocationFlow],
    day: dt.date,
    asked: Collection[str] = (),
) -> dict[tuple[str, str], float]:
    """(farm, destination) -> when the goods a farm brings on ``day`` (always, or ``asked``
    to that day) for that destination are unloaded at the hub: the farm's window opens, then
    its share is unloaded first, as ``build_day_problem`` times a delivery's release."""
    hub = catalogue.sites[catalogue.hub]
    kg: dict[tuple[str, str], float] = defaultdict(float)
    for f in flows:
        farm = catalogue.farms.get(f.farm_id)
        brings = farm is not None and (farm.brings_own_produce or f.farm_id in asked)
        if brings and f.pickup_day == day == f.delivery_day:
            kg[(f.farm_id, f.destination_id)] += f.kg
    weekday = WEEKDAYS[day.weekday()]
    return {
        (farm, site): site_window(catalogue.sites[farm], weekday)[0]
        + hub.service_minutes_per_100kg * amount / 100.0
        for (farm, site), amount in kg.items()
    }


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
    fills: Sequence[BasketFill] = (),
    brought: Collection[tuple[dt.date, str]] = (),
) -> list[DayRounds]:
    """Plan the rounds of each day the flows move something on (or of ``days`` only).

    With ``week_seconds`` (and a time-limited ``options``), the week's search time is shared
    among the days by their number of stops, each day getting at least ``MIN_DAY_SECONDS``.
    A day whose ``earlier`` rounds visit the same stops starts its search from them, so a
    re-plan keeps its rounds unless it finds cheaper ones (``portfolio.solve``).
    With ``settings.hub_work``, each day's deliveries are packed first (``fills``: the
    baskets filled) and leave the hub once their packing is over (``hub_work``).
    A farm of ``brought`` (day, farm) brings that day's produce to the hub, no van collects
    it.
    """
    options = options or SolverOptions()
    moving = [f for f in flows if f.kg > 1e-9]
    collected = [f for f in moving if f.delivered_by != f.farm_id]  # to the hub
    delivered = [f for f in moving if not f.delivered_by]  # from the hub
    busy = sorted({f.pickup_day for f in collected} | {f.delivery_day for f in delivered})
    problems = [
        (
            day,
            day_problem(
                day, catalogue, vehicles, moving, matrix, {f for d, f in brought if d == day}
            ),
        )
        for day in busy
        if days is None or day in days
    ]
    for day in sorted({f.delivery_day for f in moving if f.delivered_by}):
        if days is None or day in days:
            problems += [
                (day, p) for p in direct_problems(day, catalogue, vehicles, moving, matrix)
            ]
    problems.sort(key=lambda dp: (dp[0], dp[1].hub_id != catalogue.hub, dp[1].hub_id))
    stops = sum(len(p.stops) for _, p in problems) or 1
    rules = hub_work(catalogue.settings)
    work = packing_work(moving, fills, {p.id: p.kg_per_crate for p in catalogue.products.values()})
    rounds = []
    for day, problem in problems:
        packing: tuple[PackingJob, ...] = ()
        if rules is not None and problem.hub_id == catalogue.hub:  # the hub's packers
            asked = {farm for d, farm in brought if d == day}
            at_hub = brought_to_hub(catalogue, moving, day, asked)
            problem, packing = plan_packing(problem, work.get(day, {}), at_hub, rules, day)
        chosen = options
        if week_seconds is not None and options.time_limit_s is not None:
            share = week_seconds * len(problem.stops) / stops
            chosen = replace(options, time_limit_s=max(MIN_DAY_SECONDS, share))
        start = None
        if earlier and day in earlier:  # this depot's vehicles' rounds of that day
            own = {vehicle.id for vehicle in problem.vehicles}
            start = carry_over(problem, {v: t for v, t in earlier[day].items() if v in own})
        report = progress(day) if progress else None
        result = solve(problem, chosen, initial_routes=start, progress=report)
        rounds.append(DayRounds(day, problem, result, packing))
    return rounds


def route_week(
    engine: Engine,
    week: Week,
    options: SolverOptions | None = None,
    days: Sequence[dt.date] | None = None,
    allocation_params: AllocationParameters | None = None,
    progress: Callable[[dt.date], Progress] | None = None,
    flows: Sequence[AllocationFlow] | None = None,
    fills: Sequence[BasketFill] = (),
    brought: Collection[tuple[dt.date, str]] = (),
) -> WeekRounds:
    """Plan the collection and delivery rounds of each day of the week.

    The flows are the week's allocation, made now from the stored inputs, or ``flows`` as
    given (a stored run's, to re-plan its rounds after the fleet or the roads changed, with
    its baskets ``fills``, the (day, farm) it ``brought``). Collections under the minimum
    pickup are consolidated (``foodchain.consolidation``) as the weekly plan does. Sites,
    fleet and travel times are always the database's current ones."""
    inputs = read_snapshot(engine, week)
    if flows is None:
        problem = problem_of(inputs)
        allocation = allocate(problem, allocation_params)
        consolidated = consolidate_flows(problem, allocation.flows, inputs.catalogue)
        flows, fills, brought = consolidated.flows, allocation.fills, consolidated.brought
    rounds = route_flows(
        inputs.catalogue,
        inputs.vehicles,
        flows,
        inputs.matrix,
        options,
        days,
        progress,
        fills=fills,
        brought=brought,
    )
    return WeekRounds(week, flows, rounds, inputs.catalogue.hub)
