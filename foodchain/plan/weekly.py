"""The weekly plan: one snapshot of the data -> allocation -> rounds of each day -> record.

Everything the plan uses is read in one transaction and fingerprinted, so a run says exactly
which inputs it was made from, and an import committed meanwhile cannot leak into it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import select

from foodchain.allocation import AllocationParameters, AllocationProblem, AllocationResult, allocate
from foodchain.allocation import Flow as AllocationFlow
from foodchain.allocation.load import problem_of
from foodchain.catalogue import Catalogue, load_catalogue
from foodchain.db import transaction
from foodchain.demand import WeekDemand, read_week_demand
from foodchain.errors import FoodchainError
from foodchain.models import Forecast, ForecastIn, Setting, Vehicle, VehicleIn
from foodchain.plan.kpis import compute_kpis
from foodchain.plan.record import PlanRecord, build_record
from foodchain.routing.problem import RoutingProblem
from foodchain.routing.solver import SolverOptions
from foodchain.routing.travel import Travel, TravelMatrix
from foodchain.routing.week import DayRounds, route_flows
from foodchain.travel_matrix import load_matrix
from foodchain.weeks import Week

DEFAULT_TIME_LIMIT_S = 5.0
"""Routing seconds for the whole week (measured: the Lensois weeks then plan in < 10 s)."""
MIN_DAY_SECONDS = 0.5


@dataclass(frozen=True)
class PlanOptions:
    """How to plan; ``deterministic`` replaces time limits by work limits (same plan twice)."""

    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    """Routing search time for the week, shared among the days by their number of stops."""
    seed: int = 0
    deterministic: bool = False
    solution_limit: int = 200
    """Deterministic mode: solutions the routing search may find per day."""
    allocation: AllocationParameters = field(default_factory=AllocationParameters)
    language: str | None = None
    """Documents' language; the scenario's setting by default."""

    def parameters(self) -> dict[str, Any]:
        """What a run records of how it was made."""
        return {
            "time_limit_s": self.time_limit_s,
            "seed": self.seed,
            "deterministic": self.deterministic,
            "solution_limit": self.solution_limit if self.deterministic else None,
            "allocation": dataclasses.asdict(self.allocation),
            "language": self.language,
        }


@dataclass(frozen=True)
class Snapshot:
    """The inputs of one week's plan, read together."""

    week: Week
    catalogue: Catalogue
    vehicles: list[VehicleIn]
    forecasts: list[ForecastIn]
    demand: WeekDemand
    matrix: TravelMatrix | None
    scenario: str = ""

    def fingerprint(self) -> str:
        """SHA-256 of every input in a canonical form: equal inputs, equal fingerprints."""
        content = {
            "week": str(self.week),
            "catalogue": self.catalogue,
            "vehicles": self.vehicles,
            "forecasts": sorted(self.forecasts, key=lambda f: (f.farm_id, f.product_id)),
            "demand": self.demand,
            "matrix": sorted(self.matrix.items()) if self.matrix else [],
        }
        text = json.dumps(_canonical(content), separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _canonical(value: Any) -> Any:
    """A JSON-ready copy of ``value`` whose dump does not depend on insertion order."""
    if isinstance(value, BaseModel):
        return _canonical(value.model_dump(mode="json"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return sorted(([_canonical(k), _canonical(v)] for k, v in value.items()), key=str)
    if isinstance(value, set | frozenset):
        return sorted((_canonical(v) for v in value), key=str)
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, dt.date | Week):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot fingerprint {type(value).__name__}")


def read_snapshot(engine: Engine, week: Week) -> Snapshot:
    """Read the week's inputs in one transaction (one consistent view of the database)."""
    with transaction(engine) as session:
        catalogue = load_catalogue(session)
        if catalogue.horizon and not catalogue.horizon[0] <= week <= catalogue.horizon[1]:
            first, last = catalogue.horizon
            raise FoodchainError(f"{week} is outside the planning horizon {first}..{last}")
        if catalogue.hub not in catalogue.sites:
            raise FoodchainError("the database has no hub: load a scenario with 'foodchain init'")
        forecasts = [
            ForecastIn.model_validate(f)
            for f in session.exec(select(Forecast).where(Forecast.week == str(week))).all()
        ]
        vehicles = [VehicleIn.model_validate(v) for v in session.exec(select(Vehicle)).all()]
        demand = read_week_demand(session, catalogue, week)
        matrix = load_matrix(session) or None
        scenario = session.get(Setting, "scenario")
    return Snapshot(
        week,
        catalogue,
        sorted(vehicles, key=lambda v: v.id),
        forecasts,
        demand,
        matrix,
        str(scenario.value) if scenario else "",
    )


@dataclass(frozen=True)
class Plan:
    """A finished plan: the record documents are made from, and how it was made."""

    record: PlanRecord
    fingerprint: str
    parameters: dict[str, Any]
    allocation_problem: AllocationProblem
    allocation: AllocationResult
    rounds: list[DayRounds]
    seconds: float


StageProgress = Callable[[str, float | None], None]
"""Called with a stage ('allocation: canteens', 'routing 2026-12-03') and, when the solver
improves, its objective value."""


def _day_options(options: PlanOptions, seconds: float) -> SolverOptions:
    base = SolverOptions()
    searches = tuple(replace(s, seed=s.seed + options.seed) for s in base.searches)
    if options.deterministic:
        return replace(
            base, time_limit_s=None, solution_limit=options.solution_limit, searches=searches
        )
    return replace(base, time_limit_s=seconds, searches=searches)


def _sites_moved(flows: Sequence[AllocationFlow]) -> Counter[dt.date]:
    """Sites visited each day (farms picked up, destinations delivered): the day's size."""
    visits = {(f.pickup_day, "farm", f.farm_id) for f in flows if f.kg > 1e-9}
    visits |= {(f.delivery_day, "to", f.destination_id) for f in flows if f.kg > 1e-9}
    return Counter(day for day, _, _ in visits)


def plan_snapshot(
    snapshot: Snapshot,
    options: PlanOptions | None = None,
    progress: StageProgress | None = None,
) -> Plan:
    """Allocate the week, plan each day's rounds, and gather the record with its KPIs."""
    options = options or PlanOptions()
    started = time.perf_counter()
    catalogue = snapshot.catalogue
    travel = Travel(catalogue.road_factor, snapshot.matrix)
    problem = problem_of(
        snapshot.week,
        catalogue,
        snapshot.forecasts,
        snapshot.demand,
        snapshot.vehicles,
        snapshot.matrix,
    )

    def on_tier(name: str, value: float) -> None:
        if progress is not None:
            progress(f"allocation: {name}", value)

    if progress is not None:
        progress("allocation", None)
    allocation = allocate(problem, options.allocation, on_tier)
    stops_of_week = sum(_sites_moved(allocation.flows).values())

    def day_options(day_routing: RoutingProblem) -> SolverOptions:
        share = options.time_limit_s * len(day_routing.stops) / max(1, stops_of_week)
        return _day_options(options, max(MIN_DAY_SECONDS, math.floor(share * 10) / 10))

    def day_progress(day: dt.date) -> Callable[[float], None]:
        stage = f"routing {day.isoformat()}"
        if progress is not None:
            progress(stage, None)

        def report(value: float) -> None:
            if progress is not None:
                progress(stage, value)

        return report

    rounds = route_flows(
        catalogue,
        snapshot.vehicles,
        allocation.flows,
        snapshot.matrix,
        day_options,
        progress=day_progress,
    )
    record = build_record(
        catalogue,
        snapshot.vehicles,
        problem,
        allocation,
        rounds,
        travel,
        scenario=snapshot.scenario,
        language=options.language,
    )
    record.kpis = compute_kpis(record)
    return Plan(
        record=record,
        fingerprint=snapshot.fingerprint(),
        parameters=options.parameters(),
        allocation_problem=problem,
        allocation=allocation,
        rounds=rounds,
        seconds=time.perf_counter() - started,
    )


def plan_week(
    engine: Engine,
    week: Week,
    options: PlanOptions | None = None,
    progress: StageProgress | None = None,
) -> Plan:
    """Read the week's snapshot from the database and plan it."""
    return plan_snapshot(read_snapshot(engine, week), options, progress)
