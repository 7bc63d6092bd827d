"""PyVRP routing for foodchain: the only module that imports ``pyvrp``.

The day becomes one PyVRP model: the hub is the depot and, for vehicles of several trips,
their reload depot (``reload_depots``, ``max_reloads``); deliveries are clients with a
delivery load [kg, crates] and the release time of their goods (a trip carrying them leaves
the hub after it); pickups are clients with a pickup load, due back at the hub by their hub
deadline; shops are optional clients whose prize is their penalty. Vehicles of one kind and
shift share a vehicle type (capacities, shift window, fixed, per-km and per-hour costs,
``max_distance`` for the daily range); each group of vehicles with the same speeds and the
same reachable stops (the bikes' zone, the kinds of site a vehicle serves) has its own
profile, in which the stops it may not serve are out of reach.

What PyVRP cannot express is approximated, and the result is judged afterwards by the exact
rules (``verify``, ``construct.build``): hub loading time per kg is counted at the stops
(the trip's total time is right, the times within it are early by the loading time of what
is still on board: ``lateness`` lets a second round close windows earlier by that much),
and a pickup's hub deadline becomes the latest start of its service that would still make
it if it were the trip's last stop. A driver's longest day and legal break are not in the
model: its rounds are timed with them and verified, then repaired (``shift_duration`` with
reload depots made PyVRP 0.14's local search loop without end on a Lensois Thursday,
2027-W26, a 1 s search still running after 100 s). The cold chain: a vehicle too warm for a
stop's goods cannot reach it (its profile, as the bikes' zone); the goods' time on board and
classes kept apart are not in the model (PyVRP has no per-client duration bound nor client
exclusions on a route): its rounds are verified and repaired. Integers: times rounded up,
windows inwards, capacities down.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyvrp
from pyvrp.stop import MaxIterations, MaxRuntime

from foodchain.routing.integers import (
    COST_UNITS_PER_EURO,
    DISTANCE_UNITS_PER_KM,
    LOAD_UNITS,
    TIME_UNITS_PER_MINUTE,
    down,
    up,
)
from foodchain.routing.problem import HUB, InitialRoutes, RoutingProblem, StopKind, Vehicle
from foodchain.routing.schedule import effective_release
from foodchain.timing import latest_service_start

UNREACHABLE = 10**9
"""Distance and duration to and from a stop a vehicle may not serve."""


@dataclass(frozen=True)
class PyvrpOutcome:
    routes: dict[int, list[list[int]]]
    """Vehicle index -> its trips -> stop indices (the problem's numbering)."""
    feasible: bool
    """Whether PyVRP itself found the routes feasible in its model."""
    iterations: int
    cost: float
    """PyVRP's objective, in euros (for progress only; the exact cost is recomputed)."""


class _Model:
    def __init__(
        self,
        problem: RoutingProblem,
        included: Sequence[int],
        allowed: Mapping[int, Sequence[int]],
        lateness: Mapping[int, float],
    ) -> None:
        self.problem = problem
        self.included = list(included)
        self.lateness = lateness
        self.loads = self._load_dimensions()
        self.profiles: list[tuple[int, frozenset[int]]] = []
        self.types: list[list[int]] = []
        self.type_profile: list[int] = []
        type_keys: list[tuple[object, ...]] = []
        self.type_of: dict[int, int] = {}
        for v, vehicle in enumerate(problem.vehicles):
            reachable = frozenset(k for k, s in enumerate(self.included) if v in allowed[s])
            profile_key = (vehicle.profile, reachable)
            if profile_key not in self.profiles:
                self.profiles.append(profile_key)
            profile = self.profiles.index(profile_key)
            key = (
                profile,
                vehicle.capacity_kg,
                vehicle.capacity_crates,
                vehicle.shift,
                vehicle.cost_fixed,
                vehicle.cost_per_km,
                vehicle.cost_per_hour,
                vehicle.range_km,
                vehicle.max_trips,
            )
            if key not in type_keys:
                type_keys.append(key)
                self.types.append([])
                self.type_profile.append(profile)
            self.type_of[v] = type_keys.index(key)
            self.types[self.type_of[v]].append(v)
        self.data = pyvrp.ProblemData(
            locations=[pyvrp.Location(0.0, 0.0) for _ in range(len(self.included) + 1)],
            clients=[self._client(s) for s in self.included],
            depots=[
                pyvrp.Depot(
                    0, service_duration=up(problem.hub_fixed_minutes, TIME_UNITS_PER_MINUTE)
                )
            ],
            vehicle_types=[
                self._vehicle_type(vehicles, self.type_profile[t])
                for t, vehicles in enumerate(self.types)
            ],
            distance_matrices=[self._matrix(p, km=True) for p in range(len(self.profiles))],
            duration_matrices=[self._matrix(p, km=False) for p in range(len(self.profiles))],
        )

    def _load_dimensions(self) -> list[str]:
        stops = [self.problem.stops[s] for s in self.included]
        dims = ["kg"]
        if any(s.crates for s in stops):
            dims.append("crates")
        return dims

    def _amount(self, kg: float, crates: float) -> list[int]:
        values = {"kg": up(kg, LOAD_UNITS), "crates": up(crates, LOAD_UNITS)}
        return [values[d] for d in self.loads]

    def _capacity(self, vehicle: Vehicle) -> list[int]:
        values = {
            "kg": down(vehicle.capacity_kg, LOAD_UNITS),
            "crates": down(vehicle.capacity_crates, LOAD_UNITS),
        }
        return [values[d] for d in self.loads]

    def _client(self, s: int) -> pyvrp.Client:
        p = self.problem
        stop = p.stops[s]
        location = self.included.index(s) + 1
        handling = p.hub_minutes_per_100kg * stop.kg / 100.0
        service = up(stop.service_minutes + handling, TIME_UNITS_PER_MINUTE)
        early = up(stop.window[0], TIME_UNITS_PER_MINUTE)
        late = down(stop.window[1] - self.lateness.get(s, 0.0), TIME_UNITS_PER_MINUTE)
        amount = self._amount(stop.kg, stop.crates)
        release = 0
        if stop.kind is StopKind.DELIVERY:
            released = effective_release(p, s)
            if released is not None:
                release = max(0, up(released, TIME_UNITS_PER_MINUTE))
        elif stop.hub_deadline is not None:
            back = max(p.minutes[k][s + 1][HUB] for k in range(len(p.minutes)))
            latest = latest_service_start(
                deadline=stop.hub_deadline,
                service=stop.service_minutes,
                drive_back=back,
                unloading=handling,
            )
            late = min(late, down(latest, TIME_UNITS_PER_MINUTE))
        late = max(early, late)
        is_delivery = stop.kind is StopKind.DELIVERY
        return pyvrp.Client(
            location,
            delivery=amount if is_delivery else [0] * len(amount),
            pickup=[0] * len(amount) if is_delivery else amount,
            service_duration=service,
            tw_early=early,
            tw_late=late,
            release_time=release,
            prize=round(stop.penalty * COST_UNITS_PER_EURO) if not stop.mandatory else 0,
            required=stop.mandatory,
            name=stop.site_id,
        )

    def _vehicle_type(self, vehicles: list[int], profile: int) -> pyvrp.VehicleType:
        vehicle = self.problem.vehicles[vehicles[0]]
        multi = vehicle.max_trips > 1
        extra: dict[str, object] = {}
        if not math.isinf(vehicle.range_km):
            extra["max_distance"] = down(vehicle.range_km, DISTANCE_UNITS_PER_KM)
        if multi:
            extra["reload_depots"] = [0]
            extra["max_reloads"] = vehicle.max_trips - 1
        return pyvrp.VehicleType(
            num_available=len(vehicles),
            capacity=self._capacity(vehicle),
            fixed_cost=round(vehicle.cost_fixed * COST_UNITS_PER_EURO),
            tw_early=up(vehicle.shift[0], TIME_UNITS_PER_MINUTE),
            tw_late=down(vehicle.shift[1], TIME_UNITS_PER_MINUTE),
            unit_distance_cost=round(
                vehicle.cost_per_km * COST_UNITS_PER_EURO / DISTANCE_UNITS_PER_KM
            ),
            unit_duration_cost=round(
                vehicle.cost_per_hour * COST_UNITS_PER_EURO / 60 / TIME_UNITS_PER_MINUTE
            ),
            profile=profile,
            name=vehicle.id,
            **extra,  # type: ignore[arg-type]
        )

    def _matrix(self, profile: int, km: bool) -> Any:
        speed, reachable = self.profiles[profile]
        p = self.problem
        locations = [HUB, *(s + 1 for s in self.included)]
        source = np.asarray(p.km if km else p.minutes[speed], dtype=np.float64)
        scale = DISTANCE_UNITS_PER_KM if km else TIME_UNITS_PER_MINUTE
        # as integers.up, on the whole matrix at once
        matrix = np.ceil(np.round(source[np.ix_(locations, locations)] * scale, 6))
        matrix = matrix.astype(np.int64)
        closed = np.array([False] + [k not in reachable for k in range(len(self.included))])
        matrix[closed, :] = UNREACHABLE
        matrix[:, closed] = UNREACHABLE
        np.fill_diagonal(matrix, 0)
        return matrix

    def solution(self, routes: InitialRoutes) -> pyvrp.Solution | None:
        """Given rounds as a PyVRP solution (a warm start), or None if they do not fit."""
        position = {s: k for k, s in enumerate(self.included)}
        built = []
        for v, trips in routes.items():
            activities: list[pyvrp.Activity] = []
            for trip in trips:
                if not trip:
                    continue
                if any(s not in position for s in trip):
                    return None
                if activities:
                    activities.append(pyvrp.Activity(pyvrp.ActivityType.DEPOT, 0))
                activities += [pyvrp.Activity(pyvrp.ActivityType.CLIENT, position[s]) for s in trip]
            if activities:
                built.append(pyvrp.Route(self.data, activities, self.type_of[v]))
        try:
            return pyvrp.Solution(self.data, built)
        except (ValueError, IndexError, RuntimeError):
            return None

    def routes(self, solution: pyvrp.Solution) -> dict[int, list[list[int]]]:
        """Each PyVRP route given to the next free vehicle of its type, split into trips."""
        free = [list(vehicles) for vehicles in self.types]
        out: dict[int, list[list[int]]] = {}
        for route in solution.routes():
            trips: dict[int, list[int]] = {}
            for activity in route.schedule():
                if activity.is_client():
                    trips.setdefault(activity.trip, []).append(self.included[activity.idx])
            if trips:
                vehicle = free[route.vehicle_type()].pop(0)
                out[vehicle] = [trips[t] for t in sorted(trips)]
        return out


def search(
    problem: RoutingProblem,
    included: Sequence[int],
    allowed: Mapping[int, Sequence[int]],
    *,
    time_limit_s: float | None,
    iterations: int,
    seed: int = 0,
    initial_routes: InitialRoutes | None = None,
    lateness: Mapping[int, float] | None = None,
) -> PyvrpOutcome:
    """PyVRP's iterated local search on the ``included`` stops (each served only by its
    ``allowed`` vehicles), for ``time_limit_s`` seconds, or ``iterations`` if None (then the
    same seed gives the same routes). ``lateness``: minutes by which a stop's service must
    start before its window closes (what the model does not see of the hub's loading)."""
    if not included:
        return PyvrpOutcome({}, True, 0, 0.0)
    model = _Model(problem, included, allowed, lateness or {})
    stop = MaxRuntime(time_limit_s) if time_limit_s is not None else MaxIterations(iterations)
    start = model.solution(initial_routes) if initial_routes else None
    with warnings.catch_warnings():  # a solver never prints; infeasibility shows in the result
        warnings.simplefilter("ignore")
        result = pyvrp.solve(
            model.data,
            stop,
            seed=seed,
            collect_stats=False,
            display=False,
            initial_solution=start,
        )
    best = result.best
    return PyvrpOutcome(
        model.routes(best),
        best.is_feasible(),
        result.num_iterations,
        result.cost() / COST_UNITS_PER_EURO if best.is_feasible() else math.inf,
    )
