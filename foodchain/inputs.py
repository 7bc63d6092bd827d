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

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import select

from foodchain.catalogue import Catalogue, load_catalogue
from foodchain.db import consistent_read
from foodchain.demand import WeekDemand, read_week_demand
from foodchain.errors import FoodchainError
from foodchain.models import Forecast, ForecastIn, Setting, Vehicle, VehicleIn
from foodchain.routing.travel import TravelMatrix
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
