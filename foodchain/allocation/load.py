"""The allocation of a stored week: read one snapshot of the database, build, solve."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine
from sqlmodel import select

from foodchain.allocation import AllocationParameters, AllocationResult, allocate
from foodchain.allocation.problem import AllocationProblem, build_problem
from foodchain.catalogue import Catalogue, load_catalogue
from foodchain.db import transaction
from foodchain.demand import read_week_demand
from foodchain.errors import FoodchainError
from foodchain.models import Forecast
from foodchain.routing.travel import Place, Travel
from foodchain.travel_matrix import load_matrix
from foodchain.weeks import Week


def km_to_hub(catalogue: Catalogue, travel: Travel | None = None) -> dict[str, float]:
    """Road km from each farm to the hub (what food-miles through the hub start with)."""
    travel = travel or Travel(catalogue.road_factor)
    hub = catalogue.sites.get(catalogue.hub)
    if hub is None:
        raise FoodchainError("the database has no hub: load a scenario with 'foodchain init'")
    to = Place(hub.id, hub.lat, hub.lon)
    return {
        farm_id: travel.km(Place(farm_id, site.lat, site.lon), to)
        for farm_id in catalogue.farms
        if (site := catalogue.sites.get(farm_id)) is not None
    }


def load_problem(engine: Engine, week: Week) -> AllocationProblem:
    with transaction(engine) as session:
        catalogue = load_catalogue(session)
        if catalogue.horizon and not catalogue.horizon[0] <= week <= catalogue.horizon[1]:
            first, last = catalogue.horizon
            raise FoodchainError(f"{week} is outside the planning horizon {first}..{last}")
        forecasts = session.exec(select(Forecast).where(Forecast.week == str(week))).all()
        demand = read_week_demand(session, catalogue, week)
        travel = Travel(catalogue.road_factor, load_matrix(session) or None)
    return build_problem(week, catalogue, forecasts, demand, km_to_hub(catalogue, travel))


def allocate_week(
    engine: Engine,
    week: Week,
    params: AllocationParameters | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> AllocationResult:
    return allocate(load_problem(engine, week), params, progress)
