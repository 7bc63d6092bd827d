"""What the week's transport emits, and what it saves against diesel (``settings.co2`` of a
scenario).

Kept in the scenario's settings (no table of its own), validated when the scenario is read and
copied into each plan record, so a stored run keeps the basis its KPIs were computed on.

- **Like for like.** Each vehicle is compared with the diesel van of its class that would do
  the same km: a large CNG van (Ducato/Daily class) with a 3.5 t diesel van, a small CNG van
  (Doblò class) with a small diesel van (Kangoo class), and a cargo bike with the small diesel
  van that would otherwise carry its load (a bike is no alternative to another bike).
- **bioGNV.** A vehicle's ``co2_kg_per_km`` is read on fossil CNG for the CNG types; with
  ``biomethane_share`` of its gas being biomethane, it is scaled by the bioCNG / CNG factors
  per kg (same consumption).
- **Farmers' own runs.** A farm that brings its own produce drives farm → hub → farm on each
  day it brings produce in the plan, at the diesel factor of its vehicle's class; a farm's
  entry under ``farms`` may give its vehicle, factor, km per run or runs per week instead.

Sources (facts.md §5): diesel 3.17 kgCO2e/L well-to-wheel (arrêté of 26 April 2017 on GHG
information for transport, same in ADEME Base Carbone) [S]; CNG 2.96 and bioCNG 0.61 kgCO2e/kg
(ADEME Base Carbone, via mobiogaz.fr) [S]; 3.5 t diesel van 10 L/100 km → 0.317 kg/km
(facts §5.2 [D]); small diesel van doing a Doblò's work: as many L/100 km as the Doblò burns
kg of CNG (facts §5.2 [S]: 1 kg of CNG covers about the distance of 1 L of diesel, CNG about
-6% CO2e), 7 L → 0.222 kg/km. (facts §5.1 gives a Kangoo 5.5-6.5 L [GK], 0.174-0.206 kg/km, on
which a small CNG van would save nothing: set ``diesel_kg_per_km.small`` to use it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

DIESEL_KG_PER_L = 3.17
"""kgCO2e per litre of road diesel, well-to-wheel (facts §5.2 [S])."""
LARGE_DIESEL_VAN_KG_PER_KM = 0.317
"""3.5 t diesel van, 10 L/100 km × 3.17 (facts §5.2 [D])."""
SMALL_DIESEL_VAN_KG_PER_KM = 0.222
"""Small diesel van doing a Doblò's work, 7 L/100 km (1 kg CNG ≈ 1 L diesel, facts §5.2) × 3.17."""

CNG_TYPES = frozenset({"cng_van_large", "cng_van_small"})
"""Vehicle types whose ``co2_kg_per_km`` is on fossil CNG (scaled by ``biomethane_share``)."""


class FarmRuns(BaseModel):
    """A farm's own runs to the hub, where the plan's derivation is not what it does."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    vehicle: str | None = None
    """Its vehicle's class (a key of ``diesel_kg_per_km``); default: ``farm_vehicle``."""
    kg_per_km: float | None = Field(default=None, ge=0, le=5)
    """Its vehicle's own factor, instead of its class's diesel factor."""
    km_per_run: float | None = Field(default=None, ge=0, le=2000)
    """Default: road km farm → hub → farm."""
    runs_per_week: float | None = Field(default=None, ge=0, le=50)
    """Default: the days it brings produce to the hub in the week's plan."""


class EmissionRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    diesel_kg_per_km: dict[str, float] = Field(
        default_factory=lambda: {
            "large": LARGE_DIESEL_VAN_KG_PER_KM,
            "small": SMALL_DIESEL_VAN_KG_PER_KM,
        }
    )
    """kgCO2e/km of the diesel van of each class: the baseline of "CO2 saved"."""
    vehicle_classes: dict[str, str] = Field(
        default_factory=lambda: {
            "cng_van_large": "large",
            "diesel_van": "large",
            "electric_van": "large",
            "cng_van_small": "small",
            "e_cargo_bike": "small",
        }
    )
    """Vehicle type → the class of diesel van it replaces (a type not listed: ``large``)."""
    biomethane_share: float = Field(default=0.0, ge=0.0, le=1.0)
    """Share of biomethane (bioGNV) in the CNG vans' gas: 0 fossil CNG, 1 all bioGNV."""
    cng_kg_per_kg: float = Field(default=2.96, gt=0, le=10)
    """kgCO2e per kg of fossil CNG, well-to-wheel (ADEME Base Carbone via facts §5.2)."""
    biocng_kg_per_kg: float = Field(default=0.61, ge=0, le=10)
    """kgCO2e per kg of bioCNG, well-to-wheel (ADEME Base Carbone via facts §5.2)."""
    farm_vehicle: str = "small"
    """The class of a farm's vehicle when its entry in ``farms`` does not say."""
    farms: dict[str, FarmRuns] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _classes_known(self) -> EmissionRules:
        known = set(self.diesel_kg_per_km)
        named = {
            *self.vehicle_classes.values(),
            self.farm_vehicle,
            *(f.vehicle for f in self.farms.values() if f.vehicle is not None),
        }
        unknown = sorted(named - known)
        if unknown:
            raise ValueError(
                f"vehicle class {', '.join(unknown)} has no diesel_kg_per_km "
                f"(known: {', '.join(sorted(known))})"
            )
        if any(not 0 <= v <= 5 for v in self.diesel_kg_per_km.values()):
            raise ValueError("diesel_kg_per_km values must be from 0 to 5")
        return self

    def baseline_kg_per_km(self, vehicle_type: str) -> float:
        """What the diesel van of this type's class emits per km."""
        return self.diesel_kg_per_km[self.vehicle_classes.get(str(vehicle_type), "large")]

    def kg_per_km(self, vehicle_type: str, stated: float) -> float:
        """A vehicle's factor: as the scenario states it, CNG vans with their biomethane."""
        if str(vehicle_type) not in CNG_TYPES or not self.biomethane_share:
            return stated
        bio = self.biocng_kg_per_kg / self.cng_kg_per_kg
        return stated * (1.0 - self.biomethane_share + self.biomethane_share * bio)

    def farm_kg_per_km(self, farm_id: str) -> float:
        runs = self.farms.get(farm_id, FarmRuns())
        if runs.kg_per_km is not None:
            return runs.kg_per_km
        return self.diesel_kg_per_km[runs.vehicle or self.farm_vehicle]


def emission_rules(settings: Mapping[str, Any]) -> EmissionRules:
    """The rules in a scenario's settings (``settings.co2``); defaults when absent. The older
    ``diesel_co2_kg_per_km`` setting, if set, is the large class's baseline."""
    raw = dict(settings.get("co2") or {})
    legacy = settings.get("diesel_co2_kg_per_km")
    if legacy is not None and "diesel_kg_per_km" not in raw:
        raw["diesel_kg_per_km"] = {"large": float(legacy), "small": SMALL_DIESEL_VAN_KG_PER_KM}
    return EmissionRules.model_validate(raw)
