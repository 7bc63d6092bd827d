"""The allocation of a stored week: read one snapshot of the database, build, solve."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from sqlalchemy import Engine

from foodchain.allocation import AllocationParameters, AllocationResult, allocate
from foodchain.allocation.direct import direct_arcs
from foodchain.allocation.problem import AllocationProblem, build_problem
from foodchain.catalogue import Catalogue
from foodchain.errors import FoodchainError
from foodchain.inputs import Snapshot, read_snapshot
from foodchain.models import VehicleIn
from foodchain.routing.travel import Place, Travel, by_road
from foodchain.stock import offers_with_stock
from foodchain.timing import site_window, window_of
from foodchain.weeks import WEEKDAYS, Week

DEFAULT_SPEED_KMH = 30.0


def _hub(catalogue: Catalogue) -> Place:
    hub = catalogue.sites.get(catalogue.hub)
    if hub is None:
        raise FoodchainError("the database has no hub: load a scenario with 'foodchain init'")
    return Place(hub.id, hub.lat, hub.lon)


def km_to_hub(catalogue: Catalogue, travel: Travel | None = None) -> dict[str, float]:
    """Road km from each farm to the hub (what food-miles through the hub start with)."""
    travel = travel or Travel.of(catalogue.settings)
    to = _hub(catalogue)
    return {
        farm_id: travel.km(Place(farm_id, site.lat, site.lon), to)
        for farm_id in catalogue.farms
        if (site := catalogue.sites.get(farm_id)) is not None
    }


def hub_minutes(
    catalogue: Catalogue, vehicles: Sequence[VehicleIn], travel: Travel
) -> dict[str, float]:
    """Minutes from the hub to each site (and back) for the slowest vehicle that goes anywhere,
    as the rounds time it (``Travel.minutes``: leg speeds or the matrix for a motor vehicle,
    its own speed for a bike): what decides whether a same-day pickup can still feed a
    morning delivery."""
    vans = [v for v in vehicles if v.max_km_from_hub is None] or list(vehicles)
    profiles = {(v.speed_kmh, by_road(v.type)) for v in vans} or {(DEFAULT_SPEED_KMH, True)}
    hub = _hub(catalogue)
    out = {}
    for site in catalogue.sites.values():
        place = Place(site.id, site.lat, site.lon)
        out[site.id] = max(
            max(travel.minutes(hub, place, *p), travel.minutes(place, hub, *p)) for p in profiles
        )
    return out


def first_departures(catalogue: Catalogue, vehicles: Sequence[VehicleIn]) -> tuple[float, ...]:
    """Per weekday, when the first van can leave the hub loaded (its shift within the hub's
    opening, the hub's fixed loading time): where a same-day collection starts at best."""
    hub = catalogue.sites.get(catalogue.hub)
    if hub is None:
        return ()
    vans = [v for v in vehicles if v.max_km_from_hub is None] or list(vehicles)
    out = []
    for day in WEEKDAYS:
        opens = site_window(hub, day)[0]
        start = min((max(window_of(v.shift)[0], opens) for v in vans), default=opens)
        out.append(start + hub.service_minutes)
    return tuple(out)


def problem_of(inputs: Snapshot) -> AllocationProblem:
    """The allocation problem of a week's inputs (the stock the previous week left in the
    offers), with distances and same-day timing."""
    catalogue = inputs.catalogue
    travel = Travel.of(catalogue.settings, inputs.matrix)
    hub_fleet = [v for v in inputs.vehicles if v.depot_id == catalogue.hub]  # farms' own: apart
    problem = build_problem(
        inputs.week,
        catalogue,
        offers_with_stock(inputs.forecasts, inputs.stock),
        inputs.demand,
        km_to_hub(catalogue, travel),
        hub_minutes(catalogue, hub_fleet or inputs.vehicles, travel),
        first_departures(catalogue, hub_fleet or inputs.vehicles),
    )
    direct = direct_arcs(catalogue, inputs.vehicles, travel, problem.supplies)
    return dataclasses.replace(problem, direct=direct)


def load_problem(engine: Engine, week: Week) -> AllocationProblem:
    return problem_of(read_snapshot(engine, week))


def allocate_week(
    engine: Engine,
    week: Week,
    params: AllocationParameters | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> AllocationResult:
    return allocate(load_problem(engine, week), params, progress)
