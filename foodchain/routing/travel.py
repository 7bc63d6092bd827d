"""Travel distances and times between sites.

By default the road distance is the great-circle distance times a road factor (facts §1:
about 1.3 in the Lensois) and the time follows from the vehicle's average speed. A matrix
from a routing engine (OSRM, Valhalla, openrouteservice) can replace both: it maps
``(from_id, to_id)`` to ``(km, minutes)``; its minutes are for motor vehicles, so a vehicle
given ``use_matrix_minutes=False`` (a cargo bike) keeps km ÷ its own speed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

EARTH_RADIUS_KM = 6371.0088

TravelMatrix = Mapping[tuple[str, str], tuple[float, float]]


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
    """Distances and times between places: crow-flies × road factor, or an imported matrix."""

    road_factor: float = 1.3
    matrix: TravelMatrix | None = None
    _cache: dict[tuple[str, str], float] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.road_factor < 1.0:
            raise ValueError(f"road factor {self.road_factor} is below 1: roads are never shorter")

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
        self, origin: Place, destination: Place, speed_kmh: float, use_matrix_minutes: bool = True
    ) -> float:
        if origin.id == destination.id:
            return 0.0
        if use_matrix_minutes and self.matrix is not None:
            pair = self.matrix.get((origin.id, destination.id))
            if pair is not None:
                return pair[1]
        return self.km(origin, destination) / speed_kmh * 60.0

    def km_matrix(self, places: Sequence[Place]) -> tuple[tuple[float, ...], ...]:
        return tuple(tuple(self.km(a, b) for b in places) for a in places)

    def minutes_matrix(
        self, places: Sequence[Place], speed_kmh: float, use_matrix_minutes: bool = True
    ) -> tuple[tuple[float, ...], ...]:
        return tuple(
            tuple(self.minutes(a, b, speed_kmh, use_matrix_minutes) for b in places) for a in places
        )

    def missing_pairs(self, ids: Sequence[str]) -> list[tuple[str, str]]:
        """Pairs an imported matrix does not cover (they fall back to crow-flies × factor)."""
        if self.matrix is None:
            return []
        return [(a, b) for a in ids for b in ids if a != b and (a, b) not in self.matrix]
