"""The routing engine's own data: immutable, number-indexed problems and results.

A day problem is what the solver sees once domain objects (sites, farms, vehicles, flows)
have been turned into numbers: stops with loads and time windows, vehicles with capacities
and costs, and travel matrices. Location 0 of every matrix is the hub; stop ``i`` is
location ``i + 1``. Times are minutes since midnight, distances km, costs euros; the
benchmarks reuse the same shapes with abstract units.

A result is data, never an exception: unserved mandatory stops carry the reason found.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

HUB = 0
"""Location index of the hub in every matrix."""


class StopKind(StrEnum):
    PICKUP = "pickup"
    """Goods collected at a farm and brought back to the hub by the same trip."""
    DELIVERY = "delivery"
    """Goods loaded at the hub and dropped at a canteen, relay point or shop."""


class UnservedReason(StrEnum):
    NO_ALLOWED_VEHICLE = "no_allowed_vehicle"
    TOO_HEAVY = "too_heavy"
    OUT_OF_RANGE = "out_of_range"
    WINDOW_UNREACHABLE = "window_unreachable"
    GOODS_TOO_LATE = "goods_too_late"
    FLEET_SATURATED = "fleet_saturated"
    NOT_PLACED = "not_placed"
    """A trip of its own would serve it, but the searches found no room for it in their time
    (not a proof that the fleet is full: more time or a vehicle may serve it)."""
    OPTIONAL_DROPPED = "optional_dropped"
    COLD_CHAIN = "cold_chain"
    """Its goods need cold (an insulated or refrigerated vehicle, a time on board at most, or
    classes kept apart) and no vehicle allowed there keeps it on a trip of its own."""
    NO_DRIVER = "no_driver"
    """Every driver of the day drives another vehicle: a vehicle able to serve the stop
    stays at the hub for want of a driver."""


class ColdKind(StrEnum):
    """How a vehicle's body keeps goods cool; each kind does what the ones before it do."""

    NONE = "none"
    INSULATED = "insulated"
    """An isothermal body (or a bike's insulated box): keeps cold, has no cooling unit."""
    REFRIGERATED = "refrigerated"
    """A body with its own cooling unit."""

    @property
    def level(self) -> int:
        return list(ColdKind).index(self)


@dataclass(frozen=True)
class ColdRules:
    """The cold chain of a day (``settings.cold_chain`` in its months): what the goods of
    each temperature class need. Classes not named need nothing."""

    needs: Mapping[str, ColdKind] = field(default_factory=dict)
    """Class -> the least cold kind of vehicle that may carry it."""
    max_minutes_on_board: Mapping[str, float] = field(default_factory=dict)
    """Class -> longest time on board: a delivery's goods from the start of loading at the
    hub to the end of its service, a pickup's from the start of its service to the end of
    unloading at the hub."""
    incompatible: frozenset[frozenset[str]] = frozenset()
    """Pairs of classes never carried on one trip."""

    def need(self, classes: Collection[str]) -> ColdKind:
        """The cold kind a load of these classes needs."""
        return max(
            (self.needs.get(c, ColdKind.NONE) for c in classes),
            key=lambda kind: kind.level,
            default=ColdKind.NONE,
        )

    def limit(self, classes: Collection[str]) -> float | None:
        """The longest time on board of a load of these classes; None: no limit."""
        limits = [self.max_minutes_on_board[c] for c in classes if c in self.max_minutes_on_board]
        return min(limits) if limits else None

    def clash(self, classes: Collection[str]) -> tuple[str, str] | None:
        """Two of these classes that may not travel together, or None."""
        present = set(classes)
        for pair in sorted(self.incompatible, key=sorted):
            if pair <= present:
                first, second = sorted(pair)
                return first, second
        return None


@dataclass(frozen=True)
class Stop:
    """One visit to make: a pickup at a farm or a delivery from the hub.

    ``window`` bounds the start of service. ``release`` (deliveries) is when the goods are at
    the hub, so a trip carrying them cannot start loading earlier; ``hub_deadline`` (pickups)
    is when the goods must be unloaded at the hub for the deliveries they feed.
    """

    site_id: str
    kind: StopKind
    site_kind: str
    kg: float
    crates: float
    window: tuple[float, float]
    service_minutes: float
    mandatory: bool = True
    penalty: float = 0.0
    release: float | None = None
    hub_deadline: float | None = None
    supplied_by: tuple[int, ...] = ()
    """Pickup stops whose goods this delivery carries: it leaves the hub after they arrive."""
    label: str = ""
    classes: frozenset[str] = frozenset()
    """Temperature classes of its goods (``RoutingProblem.cold`` says what they need)."""

    def __post_init__(self) -> None:
        if self.kg < 0 or self.crates < 0:
            raise ValueError(f"stop {self.site_id}: negative load")
        if self.window[1] < self.window[0]:
            raise ValueError(f"stop {self.site_id}: window closes before it opens")
        if self.service_minutes < 0:
            raise ValueError(f"stop {self.site_id}: negative service time")


@dataclass(frozen=True)
class Vehicle:
    """One vehicle and its driver's day; ``max_trips`` trips, each from the hub to the hub."""

    id: str
    capacity_kg: float
    capacity_crates: float
    shift: tuple[float, float]
    cost_fixed: float = 0.0
    cost_per_km: float = 0.0
    cost_per_hour: float = 0.0
    co2_kg_per_km: float = 0.0
    range_km: float = math.inf
    max_km_from_hub: float | None = None
    allowed_site_kinds: frozenset[str] | None = None
    max_trips: int = 1
    profile: int = 0
    """Index of the travel-time matrix this vehicle uses (vehicles of one speed share one)."""
    cold: ColdKind = ColdKind.NONE

    def __post_init__(self) -> None:
        if self.max_trips < 1:
            raise ValueError(f"vehicle {self.id}: max_trips must be at least 1")
        if self.shift[1] < self.shift[0]:
            raise ValueError(f"vehicle {self.id}: shift ends before it starts")


Matrix = tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class BreakRule:
    """A driver's legal break: after ``after_minutes`` of work at most, a pause of
    ``minutes`` (French labour code: 20 min once the day's work reaches 6 h).

    A vehicle's work runs from its first trip's loading to its last trip's unloading; the
    pause is taken at the hub between two trips, and no stretch of work between the start,
    the pauses and the end is longer than ``after_minutes``."""

    after_minutes: float = 360.0
    minutes: float = 20.0

    def __post_init__(self) -> None:
        if self.after_minutes <= 0 or self.minutes < 0:
            raise ValueError("a break rule needs positive work and a break of 0 min or more")


@dataclass(frozen=True)
class RoutingProblem:
    """Everything the solver needs for one day; location 0 is the hub, stop i is i + 1.

    Hub handling: a trip spends ``hub_fixed_minutes`` plus ``hub_minutes_per_100kg`` per
    100 kg loaded before it leaves, and the per-100-kg time for what it brings back after.
    """

    stops: tuple[Stop, ...]
    vehicles: tuple[Vehicle, ...]
    km: Matrix
    minutes: tuple[Matrix, ...]
    hub_id: str = "hub"
    hub_fixed_minutes: float = 0.0
    hub_minutes_per_100kg: float = 0.0
    name: str = ""
    drivers: int | None = None
    """Drivers working that day: at most this many vehicles leave the hub (a driver takes
    one vehicle for the day, any vehicle, for all its trips); None: one per vehicle."""
    breaks: BreakRule | None = None
    """The drivers' legal break, taken at the hub between trips; None: no break rule."""
    max_day_minutes: float | None = None
    """A driver's day at most: from the first trip's loading to the last one's unloading,
    waits and breaks included (a vehicle's shift is when it may be out; its driver's day is
    this long within it); None: the shift only."""
    cold: ColdRules | None = None
    """The cold chain that day (classes needing cold, time on board, classes kept apart);
    None: none that day (outside its months)."""

    def __post_init__(self) -> None:
        if self.drivers is not None and self.drivers < 0:
            raise ValueError("drivers must be 0 or more")
        size = len(self.stops) + 1
        for matrix in (self.km, *self.minutes):
            if len(matrix) != size or any(len(row) != size for row in matrix):
                raise ValueError(f"matrices must be {size}×{size} (hub + {size - 1} stops)")
        for vehicle in self.vehicles:
            if not 0 <= vehicle.profile < len(self.minutes):
                raise ValueError(f"vehicle {vehicle.id}: no travel-time profile {vehicle.profile}")
        for stop in self.stops:
            for pickup in stop.supplied_by:
                if (
                    not 0 <= pickup < len(self.stops)
                    or self.stops[pickup].kind is not StopKind.PICKUP
                ):
                    raise ValueError(f"stop {stop.site_id}: supplied by {pickup}, not a pickup")

    @property
    def driver_limit(self) -> int:
        """Most vehicles that may leave the hub that day."""
        fleet = len(self.vehicles)
        return fleet if self.drivers is None else min(fleet, self.drivers)

    @property
    def size(self) -> int:
        """Number of locations (hub + stops)."""
        return len(self.stops) + 1

    def travel_minutes(self, vehicle: int, origin: int, destination: int) -> float:
        """Minutes vehicle ``vehicle`` needs between two locations."""
        return self.minutes[self.vehicles[vehicle].profile][origin][destination]

    def loading_minutes(self, kg: float) -> float:
        return self.hub_fixed_minutes + self.hub_minutes_per_100kg * kg / 100.0

    def unloading_minutes(self, kg: float) -> float:
        return self.hub_minutes_per_100kg * kg / 100.0

    def parts(self) -> list[tuple[int, int]]:
        """Per stop, (k, n): the k-th of its site's n visits of that kind (a load too big
        for one vehicle is split into parts), numbered in stop order."""
        siblings: dict[tuple[str, StopKind], list[int]] = {}
        for index, stop in enumerate(self.stops):
            siblings.setdefault((stop.site_id, stop.kind), []).append(index)
        numbers = [(0, 0)] * len(self.stops)
        for indices in siblings.values():
            for k, index in enumerate(indices, start=1):
                numbers[index] = (k, len(indices))
        return numbers


@dataclass(frozen=True)
class Visit:
    stop: int
    arrival: float
    start: float
    departure: float
    load_kg: float
    """Kilograms on board when the vehicle leaves the stop."""
    load_crates: float


@dataclass(frozen=True)
class Trip:
    """One round from the hub to the hub: load, drive, serve the stops in order, unload."""

    vehicle: int
    number: int
    start: float
    """Loading at the hub begins."""
    departure: float
    back: float
    end: float
    """Unloading at the hub is over."""
    visits: tuple[Visit, ...]
    km: float
    loaded_kg: float
    unloaded_kg: float

    @property
    def stops(self) -> tuple[int, ...]:
        return tuple(v.stop for v in self.visits)

    @property
    def hours(self) -> float:
        return (self.end - self.start) / 60.0


@dataclass(frozen=True)
class Break:
    """A driver's pause at the hub between two trips of ``vehicle`` (minutes since midnight)."""

    vehicle: int
    start: float
    end: float


@dataclass(frozen=True)
class Unserved:
    stop: int
    reason: UnservedReason
    explanation: str


@dataclass(frozen=True)
class RoutingResult:
    """Trips of every vehicle and the stops left out, each with why; costs in euros."""

    trips: tuple[Trip, ...]
    unserved: tuple[Unserved, ...]
    cost: float
    km: float
    hours: float
    co2_kg: float
    penalty: float
    vehicles_used: int
    found_solution: bool
    seconds: float = 0.0
    objective: int | None = None
    """The solver's integer objective (scaled), for comparing runs of one problem."""
    statistics: Mapping[str, float | int | str] = field(default_factory=dict)
    breaks: tuple[Break, ...] = ()
    """The drivers' pauses, at the hub between trips (``RoutingProblem.breaks``)."""

    @property
    def all_mandatory_served(self) -> bool:
        return self.unserved_mandatory == 0

    @property
    def unserved_mandatory(self) -> int:
        """Mandatory stops left out (an optional stop is always reported as dropped)."""
        return sum(u.reason is not UnservedReason.OPTIONAL_DROPPED for u in self.unserved)

    def rank(self) -> tuple[bool, int, float]:
        """Sort key of results of one problem, best first: rounds found, then fewest
        mandatory stops left out, then cost. ``cost`` alone leaves out the stops dropped,
        so no comparison of plans may use it alone."""
        return (not self.found_solution, self.unserved_mandatory, self.cost)

    def trips_of(self, vehicle: int) -> tuple[Trip, ...]:
        return tuple(t for t in self.trips if t.vehicle == vehicle)

    def routes(self) -> dict[int, list[list[int]]]:
        """Stops of each used vehicle's trips, the shape ``solve`` takes as a warm start."""
        out: dict[int, list[list[int]]] = {}
        for trip in sorted(self.trips, key=lambda t: (t.vehicle, t.number)):
            out.setdefault(trip.vehicle, []).append(list(trip.stops))
        return out


InitialRoutes = Mapping[int, Sequence[Sequence[int]]]
"""Vehicle index -> its trips, each a sequence of stop indices (a warm start)."""
