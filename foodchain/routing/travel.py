"""Travel distances and times between sites: the one place both the allocation's timing and
the rounds take them from.

Distance: the great-circle distance times a road factor (facts §1: about 1.3 in the
Lensois). Driving time of a motor vehicle (``by_road``): by leg class (``LegSpeeds``,
``settings.travel`` of a scenario), a leg's first ``town_km`` at the town speed, its km up
to ``motorway_from_km`` at the road speed, the rest at the motorway speed, so a short leg is
a town leg, a 5-30 km leg mostly road and a long one mostly motorway, and a longer leg
never takes less time than a shorter one. A cargo bike (``by_road=False``) never takes
roads or motorways: km ÷ its own speed everywhere. A matrix from a routing engine (OSRM,
Valhalla, openrouteservice; ``foodchain matrix import``) overrides both for the pairs it
gives: it maps ``(from_id, to_id)`` to ``(km, minutes)``; its minutes are for motor
vehicles, so a bike keeps km ÷ its own speed there too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

EARTH_RADIUS_KM = 6371.0088

TravelMatrix = Mapping[tuple[str, str], tuple[float, float]]

OWN_SPEED_TYPES = frozenset({"e_cargo_bike"})
"""Vehicle types that ride at their own speed everywhere (no road or motorway legs)."""


def by_road(vehicle_type: str) -> bool:
    """Whether a vehicle of this type drives like a motor vehicle (leg speeds, matrix minutes);
    a cargo bike rides at its own speed."""
    return str(vehicle_type) not in OWN_SPEED_TYPES


class LegSpeeds(BaseModel):
    """Motor vehicles' driving speeds by leg class, where no imported matrix gives the minutes
    (``settings.travel``). Defaults: facts §5.3 [GK], van in the Lens agglomeration 25-30 km/h
    with junctions, peri-urban RD/RN 45-60 km/h, motorway (A21, A1, A26, A25) 90-110 km/h."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    by_leg: bool = True
    """False: each vehicle at its own ``speed_kmh`` on every leg (one speed per vehicle)."""
    town_kmh: float = Field(default=25.0, gt=0, le=130)
    road_kmh: float = Field(default=55.0, gt=0, le=130)
    motorway_kmh: float = Field(default=100.0, gt=0, le=130)
    town_km: float = Field(default=5.0, ge=0, le=100)
    """A leg's first km are in town."""
    motorway_from_km: float = Field(default=30.0, ge=0, le=1000)
    """Beyond this many km from its start, a leg is on the motorway."""

    @model_validator(mode="after")
    def _ordered(self) -> LegSpeeds:
        if self.motorway_from_km < self.town_km:
            raise ValueError(
                f"motorway_from_km ({self.motorway_from_km:g}) is below town_km "
                f"({self.town_km:g}): a leg leaves town before it reaches the motorway"
            )
        return self

    def minutes(self, km: float) -> float:
        """Driving minutes of a motor vehicle on a leg of ``km`` road km."""
        town = min(km, self.town_km)
        road = min(km, self.motorway_from_km) - town
        motorway = km - town - road
        return (town / self.town_kmh + road / self.road_kmh + motorway / self.motorway_kmh) * 60


def leg_speeds(settings: Mapping[str, Any]) -> LegSpeeds:
    """The speeds in a scenario's settings (``settings.travel``); defaults when absent."""
    return LegSpeeds.model_validate(settings.get("travel") or {})


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance, accurate to well under a metre at the scale of a region."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Place:
    id: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Travel:
    """Distances and times between places: crow-flies × road factor and speeds by leg class,
    or an imported matrix."""

    road_factor: float = 1.3
    matrix: TravelMatrix | None = None
    speeds: LegSpeeds = field(default_factory=LegSpeeds)
    _cache: dict[tuple[str, str], float] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.road_factor < 1.0:
            raise ValueError(f"road factor {self.road_factor} is below 1: roads are never shorter")

    @classmethod
    def of(cls, settings: Mapping[str, Any], matrix: TravelMatrix | None = None) -> Travel:
        """The travel of a scenario's settings (``road_factor``, ``travel``)."""
        return cls(float(settings.get("road_factor", 1.3)), matrix, leg_speeds(settings))

    def km(self, origin: Place, destination: Place) -> float:
        if origin.id == destination.id:
            return 0.0
        if self.matrix is not None and (origin.id, destination.id) in self.matrix:
            return self.matrix[(origin.id, destination.id)][0]
        key = (origin.id, destination.id)
        if key not in self._cache:
            crow = great_circle_km(origin.lat, origin.lon, destination.lat, destination.lon)
            self._cache[key] = crow * self.road_factor
        return self._cache[key]

    def minutes(
        self, origin: Place, destination: Place, speed_kmh: float, by_road: bool = True
    ) -> float:
        """Driving minutes of a vehicle whose own speed is ``speed_kmh``: a motor vehicle
        (``by_road``) takes the matrix's minutes, else the leg speeds (its own speed if the
        scenario turns them off); a cargo bike km ÷ its own speed."""
        if origin.id == destination.id:
            return 0.0
        if by_road and self.matrix is not None:
            pair = self.matrix.get((origin.id, destination.id))
            if pair is not None:
                return pair[1]
        km = self.km(origin, destination)
        if by_road and self.speeds.by_leg:
            return self.speeds.minutes(km)
        return km / speed_kmh * 60.0

    def km_matrix(self, places: Sequence[Place]) -> tuple[tuple[float, ...], ...]:
        return tuple(tuple(self.km(a, b) for b in places) for a in places)

    def minutes_matrix(
        self, places: Sequence[Place], speed_kmh: float, by_road: bool = True
    ) -> tuple[tuple[float, ...], ...]:
        return tuple(tuple(self.minutes(a, b, speed_kmh, by_road) for b in places) for a in places)

    def missing_pairs(self, ids: Sequence[str]) -> list[tuple[str, str]]:
        """Pairs an imported matrix does not cover (they fall back to crow-flies × factor)."""
        if self.matrix is None:
            return []
        return [(a, b) for a in ids for b in ids if a != b and (a, b) not in self.matrix]
