"""The allocation of a stored week: read one snapshot of the database, build, solve."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Engine
from sqlmodel import select

from foodchain.allocation import AllocationParameters, AllocationResult, allocate
from foodchain.allocation.problem import AllocationProblem, build_problem
from foodchain.catalogue import Catalogue, load_catalogue
from foodchain.db import transaction
from foodchain.demand import WeekDemand, read_week_demand
from foodchain.errors import FoodchainError
from foodchain.models import Forecast, ForecastIn, Vehicle, VehicleIn
from foodchain.routing.travel import Place, Travel, TravelMatrix
from foodchain.travel_matrix import load_matrix
from foodchain.weeks import Week

DEFAULT_SPEED_KMH = 30.0


def _hub(catalogue: Catalogue) -> Place:
    hub = catalogue.sites.get(catalogue.hub)
    if hub is None:
        raise FoodchainError("the database has no hub: load a scenario with 'foodchain init'")
    return Place(hub.id, hub.lat, hub.lon)


def km_to_hub(catalogue: Catalogue, travel: Travel | None = None) -> dict[str, float]:
    """Road km from each farm to the hub (what food-miles through the hub start with)."""
    travel = travel or Travel(catalogue.road_factor)
    to = _hub(catalogue)
    return {
        farm_id: travel.km(Place(farm_id, site.lat, site.lon), to)
        for farm_id in catalogue.farms
        if (site := catalogue.sites.get(farm_id)) is not None
    }


def hub_minutes(
    catalogue: Catalogue, vehicles: Sequence[VehicleIn], travel: Travel
) -> dict[str, float]:
    """Minutes from the hub to each site (and back) for the slowest vehicle that goes anywhere:
    what decides whether a same-day pickup can still feed a morning delivery."""
    vans = [v for v in vehicles if v.max_km_from_hub is None] or list(vehicles)
    speed = min((v.speed_kmh for v in vans), default=DEFAULT_SPEED_KMH)
    hub = _hub(catalogue)
    out = {}
    for site in catalogue.sites.values():
        place = Place(site.id, site.lat, site.lon)
        out[site.id] = max(travel.minutes(hub, place, speed), travel.minutes(place, hub, speed))
    return out


def problem_of(
    week: Week,
    catalogue: Catalogue,
    forecasts: Sequence[ForecastIn],
    demand: WeekDemand,
    vehicles: Sequence[VehicleIn],
    matrix: TravelMatrix | None,
) -> AllocationProblem:
    """The allocation problem of a week's inputs, with distances and same-day timing."""
    travel = Travel(catalogue.road_factor, matrix)
    return build_problem(
        week,
        catalogue,
        forecasts,
        demand,
        km_to_hub(catalogue, travel),
        hub_minutes(catalogue, vehicles, travel),
    )


def load_problem(engine: Engine, week: Week) -> AllocationProblem:
    with transaction(engine) as session:
        catalogue = load_catalogue(session)
        if catalogue.horizon and not catalogue.horizon[0] <= week <= catalogue.horizon[1]:
            first, last = catalogue.horizon
            raise FoodchainError(f"{week} is outside the planning horizon {first}..{last}")
        forecasts = [
            ForecastIn.model_validate(f)
            for f in session.exec(select(Forecast).where(Forecast.week == str(week))).all()
        ]
        vehicles = [VehicleIn.model_validate(v) for v in session.exec(select(Vehicle)).all()]
        demand = read_week_demand(session, catalogue, week)
        matrix = load_matrix(session) or None
    return problem_of(week, catalogue, forecasts, demand, vehicles, matrix)


def allocate_week(
    engine: Engine,
    week: Week,
    params: AllocationParameters | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> AllocationResult:
    return allocate(load_problem(engine, week), params, progress)
