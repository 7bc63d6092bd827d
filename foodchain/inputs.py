"""The inputs of one week, read from the database in one consistent view and fingerprinted.

Everything the allocation and the rounds use comes from one snapshot, so a plan says exactly
which inputs it was made from, and an import committed meanwhile cannot leak into it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from foodchain.catalogue import Catalogue, load_catalogue
from foodchain.db import consistent_read
from foodchain.demand import WeekDemand, read_week_demand
from foodchain.errors import FoodchainError
from foodchain.models import Forecast, ForecastIn, Run, RunStatus, Setting, Vehicle, VehicleIn
from foodchain.plan.record import PlanRecord
from foodchain.routing.travel import TravelMatrix
from foodchain.stock import StockRow
from foodchain.travel_matrix import load_matrix
from foodchain.weeks import Week


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
    stock: list[StockRow] = dataclasses.field(default_factory=list)
    """What the previous week's run left in stock (``foodchain.stock``)."""
    stock_run: int | None = None
    """That run (its week's published run, else its newest); None: no stock."""

    def fingerprint(self) -> str:
        """SHA-256 of every input in a canonical form: equal inputs, equal fingerprints."""
        content = {
            "week": str(self.week),
            "catalogue": self.catalogue,
            "vehicles": self.vehicles,
            "forecasts": sorted(self.forecasts, key=lambda f: (f.farm_id, f.product_id)),
            "demand": self.demand,
            "matrix": sorted(self.matrix.items()) if self.matrix else [],
            "stock": self.stock,
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
    """Read the week's inputs in one consistent view of the database."""
    with consistent_read(engine) as session:
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
        catalogue = catalogue.with_morning_deadline(demand.mornings)
        matrix = load_matrix(session) or None
        scenario = session.get(Setting, "scenario")
        stock_run, stock = _stock_left(session, week.shift(-1))
    return Snapshot(
        week,
        catalogue,
        sorted(vehicles, key=lambda v: v.id),
        forecasts,
        demand,
        matrix,
        str(scenario.value) if scenario else "",
        stock,
        stock_run,
    )


def _stock_left(session: Session, week: Week) -> tuple[int | None, list[StockRow]]:
    """The stock ``week``'s run left: its published run's, else its newest run's."""
    runs = session.exec(
        select(Run)
        .where(Run.week == str(week))
        .order_by(col(Run.status) == RunStatus.PUBLISHED, col(Run.created_at), col(Run.id))
    ).all()
    if not runs:
        return None, []
    run = runs[-1]
    try:
        stock = PlanRecord.model_validate_json(run.record).stock_out
    except ValidationError as exc:
        raise FoodchainError(
            f"run {run.id} of {week} cannot be read by this version of foodchain: its stock "
            "cannot be carried into the next week. Fix: plan that week again"
        ) from exc
    return run.id, list(stock)
