"""OR-Tools routing for foodchain: the only module that imports ``ortools.constraint_solver``.

The day problem becomes one OR-Tools model. Each vehicle gets ``max_trips`` *trip slots*
(OR-Tools vehicles chained in time: a slot starts loading only once the previous one has
unloaded), so a cargo bike can do several short rounds and a van can collect then deliver.
Dimensions: time (start = departure from the hub, end = back at the hub), kg and crates on
board, km for the daily range, and two auxiliary ones only when the day has two echelons:
``release`` (the latest goods-arrival time of a trip's deliveries, which its loading must
follow) and ``deadline`` (the earliest hub deadline of a trip's pickups, which its
unloading must meet). Hub handling time (fixed + per 100 kg) links the load and time
dimensions through a few linear constraints per slot.

Integer scaling lives here only: travel and service times are rounded *up*, capacities
down, so whatever the solver accepts is feasible in exact arithmetic; costs are rounded to
the nearest unit (1/360,000 €, so an hourly rate in tenths of euros is exact per time unit).

Searches (chosen by measurement on Solomon, see benchmarks/README.md): parallel cheapest
insertion, then OR-Tools' iterated local search (SISR ruin-and-recreate, simulated
annealing acceptance at automatic temperatures, greedy descent in between, without the
insertion-LNS operators that ruin-and-recreate makes redundant). Two such searches run in
two processes, the second with another stop order and whole-route ruins as well; the
better result is kept. Deterministic runs
(no time limit) and warm starts use guided local search, which OR-Tools' ILS does not
support. Mandatory stops are compulsory in a first search; only if it finds nothing are
they turned into very expensive optional visits, so that a plan always comes out.
"""

from __future__ import annotations

import math
import multiprocessing
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from queue import Empty
from typing import Any

from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_ils_pb2

from foodchain.routing.diagnosis import saturated, servable
from foodchain.routing.echelons import derive_hub_deadlines, tighten_hub_deadlines
from foodchain.routing.problem import (
    HUB,
    InitialRoutes,
    RoutingProblem,
    RoutingResult,
    Stop,
    StopKind,
    UnservedReason,
)
from foodchain.routing.schedule import effective_release, evaluate

TIME_UNITS_PER_MINUTE = 600
LOAD_UNITS = 100
DISTANCE_UNITS_PER_KM = 1000
COST_UNITS_PER_EURO = 360_000
_UNBOUNDED_DISTANCE = 10**12

Progress = Callable[[float], None]
"""Called with each improving objective value, in euros (cost + penalties)."""


def _up(value: float, scale: int) -> int:
    return math.ceil(round(value * scale, 6))


def _down(value: float, scale: int) -> int:
    return math.floor(round(value * scale, 6))


@dataclass(frozen=True)
class SearchConfig:
    """One search strategy; names are OR-Tools enum names (FirstSolutionStrategy...)."""

    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    iterated_local_search: bool = False
    """Ruin and recreate (SISR) perturbations around the local search (OR-Tools ILS)."""
    gls_lambda: float = 0.1
    ruin_average_visits: int = 10
    ruin_max_sequence: int = 10
    ruin_routes: int = 0
    """Also ruin this many spatially close whole routes (one ruin drawn at random per
    iteration); 0: SISR only."""
    recreate: str = "LOCAL_CHEAPEST_INSERTION"
    temperatures: tuple[float, float] | None = None
    """Simulated-annealing acceptance of ILS, in average arc costs; None: OR-Tools chooses."""
    neighbors_ratio: float | None = None
    operators_off: tuple[str, ...] = ()
    """Local search operators to switch off (``local_search_operators`` field names)."""
    operators_on: tuple[str, ...] = ()
    seed: int = 0
    """Relabels the stops before the search: a different seed walks a different path."""


LNS_OPERATORS = (
    "use_global_cheapest_insertion_path_lns",
    "use_local_cheapest_insertion_path_lns",
    "use_relocate_path_global_cheapest_insertion_insert_unperformed",
    "use_global_cheapest_insertion_visit_types_lns",
    "use_local_cheapest_insertion_visit_types_lns",
)
"""Insertion-based LNS operators: ruin-and-recreate already does their job, cheaper."""

ILS_SEARCH = SearchConfig(
    iterated_local_search=True, metaheuristic="GREEDY_DESCENT", operators_off=LNS_OPERATORS
)
ILS_SEARCH_2 = replace(ILS_SEARCH, ruin_routes=1, seed=7)
"""The second search also ruins whole routes: it escapes fleet-size local optima (C2)."""
GLS_SEARCH = SearchConfig(metaheuristic="GUIDED_LOCAL_SEARCH", seed=1)


ENGINES = ("auto", "ortools", "pyvrp")


@dataclass(frozen=True)
class SolverOptions:
    """How long and how to search; deterministic with ``time_limit_s=None`` and a solution
    limit (the same problem, options and seeds then always give the same routes)."""

    time_limit_s: float | None = 10.0
    solution_limit: int | None = None
    stall_checks: int = 5000
    """Deterministic mode also stops after this many solver limit checks without a new
    solution (a count of work, not of time)."""
    searches: tuple[SearchConfig, ...] = (ILS_SEARCH, ILS_SEARCH_2)
    workers: int = 2
    """Processes searching at once (each runs one of ``searches``); the best result wins."""
    mandatory_penalty_eur: float = 1_000_000.0
    """Price of leaving a mandatory stop out: far above any plan, so only done when forced."""
    hard_mandatory_first: bool = True
    """Search first with every mandatory stop compulsory (measured: penalties on all stops
    cost +0.5% of distance on Solomon at 5 s), and with penalties only if that finds nothing."""
    echelon_rounds: int = 2
    """Collect/deliver coupling passes: hub deadlines of pickups tighten to actual arrivals."""
    log_search: bool = False
    engine: str = "auto"
    """Which engine searches: ``ortools``, ``pyvrp``, or ``auto`` (both at once, the best
    valid result kept; see ``routing.portfolio``)."""
    pyvrp_iterations: int = 3000
    """Deterministic mode: iterations of PyVRP's search (a count of work, not of time)."""

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"engine {self.engine!r}: choose one of {', '.join(ENGINES)}")
        if self.time_limit_s is not None and not (
            math.isfinite(self.time_limit_s) and self.time_limit_s > 0
        ):
            raise ValueError(f"time limit {self.time_limit_s}: give a positive number of seconds")
        if self.time_limit_s is None and self.solution_limit is None:
            raise ValueError("give a time limit or a solution limit (deterministic mode)")
        if not self.searches:
            raise ValueError("give at least one search")


@dataclass
class _Outcome:
    routes: dict[int, list[list[int]]]
    dropped: list[int]
    objective: int | None
    solutions: int
    status: str
    config_index: int
    seconds: float
    best_by_time: list[tuple[float, int]] = field(default_factory=list)


def _enum(enum_type: Any, name: str) -> int:
    value: int = getattr(enum_type, name)
    return value


class _Model:
    """The OR-Tools model of a problem restricted to ``included`` stops."""

    def __init__(
        self,
        problem: RoutingProblem,
        included: Sequence[int],
        allowed: dict[int, list[int]],
        options: SolverOptions,
        seed: int,
        penalize_mandatory: bool = True,
    ) -> None:
        self.problem = problem
        self.penalize_mandatory = penalize_mandatory
        order = list(included)
        if seed:
            random.Random(seed).shuffle(order)
        self.stop_of_node = order
        self.node_of_stop = {stop: k + 1 for k, stop in enumerate(order)}
        self.slots = [
            (v, t) for v, vehicle in enumerate(problem.vehicles) for t in range(vehicle.max_trips)
        ]
        self.slot_of = {slot: k for k, slot in enumerate(self.slots)}
        self.manager = pywrapcp.RoutingIndexManager(len(order) + 1, len(self.slots), 0)
        self.routing = pywrapcp.RoutingModel(self.manager)
        self.solver = self.routing.solver()
        self._locations = [HUB, *(s + 1 for s in order)]
        self._time(options)
        self._loads()
        self._distance()
        self._costs()
        self._hub_links()
        self._visits(allowed, options)

    # ------------------------------------------------------------------ helpers

    def _stop(self, node: int) -> Stop | None:
        return None if node == 0 else self.problem.stops[self.stop_of_node[node - 1]]

    def index(self, stop: int) -> int:
        return int(self.manager.NodeToIndex(self.node_of_stop[stop]))

    def _node_vector(self, value: Callable[[Stop], int]) -> list[int]:
        return [0] + [value(self.problem.stops[s]) for s in self.stop_of_node]

    # ------------------------------------------------------------------ dimensions

    def _time(self, options: SolverOptions) -> None:
        p = self.problem
        n = len(self._locations)
        service = self._node_vector(lambda s: _up(s.service_minutes, TIME_UNITS_PER_MINUTE))
        horizon_minutes = max(
            [v.shift[1] for v in p.vehicles] + [s.window[1] for s in p.stops] + [0.0]
        )
        self.horizon = _up(horizon_minutes, TIME_UNITS_PER_MINUTE) + 1
        evaluators: dict[int, int] = {}
        for profile, minutes in enumerate(p.minutes):
            if not any(v.profile == profile for v in p.vehicles):
                continue
            loc = self._locations
            matrix = [
                [
                    (_up(minutes[loc[a]][loc[b]], TIME_UNITS_PER_MINUTE) + service[a])
                    if a != b
                    else 0
                    for b in range(n)
                ]
                for a in range(n)
            ]
            evaluators[profile] = self.routing.RegisterTransitMatrix(matrix)
        per_slot = [evaluators[p.vehicles[v].profile] for v, _ in self.slots]
        self.routing.AddDimensionWithVehicleTransitAndCapacity(
            per_slot, self.horizon, [self.horizon] * len(self.slots), False, "time"
        )
        self.time = self.routing.GetDimensionOrDie("time")
        for node in range(1, n):
            stop = self._stop(node)
            assert stop is not None
            opens = _up(stop.window[0], TIME_UNITS_PER_MINUTE)
            closes = max(opens, _down(stop.window[1], TIME_UNITS_PER_MINUTE))
            self.time.CumulVar(self.manager.NodeToIndex(node)).SetRange(opens, closes)
        for k, (v, _) in enumerate(self.slots):
            shift = p.vehicles[v].shift
            first = _up(shift[0], TIME_UNITS_PER_MINUTE)
            last = _down(shift[1], TIME_UNITS_PER_MINUTE)
            self.time.CumulVar(self.routing.Start(k)).SetRange(first, max(first, last))
            self.time.CumulVar(self.routing.End(k)).SetRange(first, max(first, last))

    def _loads(self) -> None:
        """kg and crates on board; ``delivered``/``picked`` give each slot's hub handling.

        Deliveries only (or pickups only): the classic cumulated load from zero. Both in one
        model: a trip may deliver then collect, so the load on board starts at what the trip
        delivers (a second dimension counts it) and changes by -delivery / +pickup.
        """
        p = self.problem
        stops = [p.stops[s] for s in self.stop_of_node]
        has_delivery = any(s.kind is StopKind.DELIVERY for s in stops)
        has_pickup = any(s.kind is StopKind.PICKUP for s in stops)
        self.delivered_kg: list[Any] = [0] * len(self.slots)
        self.picked_kg: list[Any] = [0] * len(self.slots)
        for unit_name in ("kg", "crates"):
            amounts = [0] + [
                _up(s.kg if unit_name == "kg" else s.crates, LOAD_UNITS) for s in stops
            ]
            if not any(amounts):
                continue
            is_delivery = [False] + [s.kind is StopKind.DELIVERY for s in stops]
            caps = [
                _down(
                    p.vehicles[v].capacity_kg
                    if unit_name == "kg"
                    else p.vehicles[v].capacity_crates,
                    LOAD_UNITS,
                )
                for v, _ in self.slots
            ]
            if has_delivery and has_pickup:
                onboard = self.routing.RegisterUnaryTransitVector(
                    [-a if d else a for a, d in zip(amounts, is_delivery, strict=True)]
                )
                self.routing.AddDimensionWithVehicleCapacity(onboard, 0, caps, False, unit_name)
                delivered = self.routing.RegisterUnaryTransitVector(
                    [a if d else 0 for a, d in zip(amounts, is_delivery, strict=True)]
                )
                name = f"{unit_name}_delivered"
                self.routing.AddDimensionWithVehicleCapacity(delivered, 0, caps, True, name)
                on_dim = self.routing.GetDimensionOrDie(unit_name)
                del_dim = self.routing.GetDimensionOrDie(name)
                for k in range(len(self.slots)):
                    # Goods on board when leaving = everything this trip delivers.
                    self.solver.Add(
                        on_dim.CumulVar(self.routing.Start(k))
                        == del_dim.CumulVar(self.routing.End(k))
                    )
                    if unit_name == "kg":
                        self.delivered_kg[k] = del_dim.CumulVar(self.routing.End(k))
                        self.picked_kg[k] = on_dim.CumulVar(self.routing.End(k))
            else:
                vector = self.routing.RegisterUnaryTransitVector(amounts)
                self.routing.AddDimensionWithVehicleCapacity(vector, 0, caps, True, unit_name)
                dim = self.routing.GetDimensionOrDie(unit_name)
                if unit_name == "kg":
                    target = self.delivered_kg if has_delivery else self.picked_kg
                    for k in range(len(self.slots)):
                        target[k] = dim.CumulVar(self.routing.End(k))

    def _distance(self) -> None:
        """Daily range: per slot, and summed over a vehicle's slots."""
        p = self.problem
        if all(math.isinf(v.range_km) for v in p.vehicles):
            return
        loc = self._locations
        n = len(loc)
        matrix = [
            [_up(p.km[loc[a]][loc[b]], DISTANCE_UNITS_PER_KM) for b in range(n)] for a in range(n)
        ]
        evaluator = self.routing.RegisterTransitMatrix(matrix)

        def cap(v: int) -> int:
            r = p.vehicles[v].range_km
            return _UNBOUNDED_DISTANCE if math.isinf(r) else _down(r, DISTANCE_UNITS_PER_KM)

        caps = [cap(v) for v, _ in self.slots]
        self.routing.AddDimensionWithVehicleCapacity(evaluator, 0, caps, True, "distance")
        dim = self.routing.GetDimensionOrDie("distance")
        for v, vehicle in enumerate(p.vehicles):
            if vehicle.max_trips > 1 and not math.isinf(vehicle.range_km):
                ends = [
                    dim.CumulVar(self.routing.End(self.slot_of[(v, t)]))
                    for t in range(vehicle.max_trips)
                ]
                self.solver.Add(self.solver.Sum(ends) <= cap(v))

    def _costs(self) -> None:
        p = self.problem
        loc = self._locations
        n = len(loc)
        rate = p.hub_minutes_per_100kg
        handled_minutes = [0.0] + [rate * p.stops[s].kg / 100.0 for s in self.stop_of_node]
        evaluators: dict[tuple[float, float], int] = {}
        for k, (v, t) in enumerate(self.slots):
            vehicle = p.vehicles[v]
            key = (vehicle.cost_per_km, vehicle.cost_per_hour)
            if key not in evaluators:
                per_km, per_hour = key
                handling = [
                    round(per_hour * m / 60.0 * COST_UNITS_PER_EURO) for m in handled_minutes
                ]
                matrix = [
                    [
                        round(per_km * p.km[loc[a]][loc[b]] * COST_UNITS_PER_EURO) + handling[a]
                        if a != b
                        else 0
                        for b in range(n)
                    ]
                    for a in range(n)
                ]
                evaluators[key] = self.routing.RegisterTransitMatrix(matrix)
            self.routing.SetArcCostEvaluatorOfVehicle(evaluators[key], k)
            fixed = (vehicle.cost_fixed if t == 0 else 0.0) + vehicle.cost_per_hour * (
                p.hub_fixed_minutes / 60.0
            )
            # t cost units more for trip t (t/360,000 €) put first, second... trips in vehicle
            # classes of their own: OR-Tools' insertion heuristics try one empty vehicle per
            # class, and when a van's later trip (which cannot start in time) stood for the
            # class, the other vans' first trips were never tried (measured: 12 vans of 3 trips
            # served 2 of 12 deliveries due at once; of 1 trip, all 12).
            self.routing.SetFixedCostOfVehicle(round(fixed * COST_UNITS_PER_EURO) + t, k)
            if vehicle.cost_per_hour:
                per_unit = vehicle.cost_per_hour * COST_UNITS_PER_EURO / 60 / TIME_UNITS_PER_MINUTE
                self.time.SetSpanCostCoefficientForVehicle(round(per_unit), k)

    def _hub_links(self) -> None:
        """Loading before departure, unloading after return, releases, deadlines, chaining."""
        p = self.problem
        routing, solver = self.routing, self.solver
        den = 100 * LOAD_UNITS
        num = _up(p.hub_minutes_per_100kg, TIME_UNITS_PER_MINUTE)
        fixed = _up(p.hub_fixed_minutes, TIME_UNITS_PER_MINUTE)
        horizon = self.horizon
        release_dim = deadline_dim = None
        releases = {
            s: effective_release(p, s)
            for s in self.stop_of_node
            if p.stops[s].kind is StopKind.DELIVERY
        }
        earliest_shift = min((v.shift[0] for v in p.vehicles), default=0.0)
        if any(r is not None and r > earliest_shift for r in releases.values()):
            routing.AddConstantDimensionWithSlack(0, horizon, horizon, False, "release")
            release_dim = routing.GetDimensionOrDie("release")
            for s, r in releases.items():
                if r is not None:
                    limit = max(0, horizon - _up(r, TIME_UNITS_PER_MINUTE))
                    release_dim.CumulVar(self.index(s)).SetMax(limit)
        deadlines = {
            s: p.stops[s].hub_deadline
            for s in self.stop_of_node
            if p.stops[s].kind is StopKind.PICKUP and p.stops[s].hub_deadline is not None
        }
        if deadlines:
            routing.AddConstantDimensionWithSlack(0, horizon, horizon, False, "deadline")
            deadline_dim = routing.GetDimensionOrDie("deadline")
            for s, d in deadlines.items():
                assert d is not None
                floor = min(horizon, max(0, horizon - _down(d, TIME_UNITS_PER_MINUTE)))
                deadline_dim.CumulVar(self.index(s)).SetMin(floor)

        for k, (v, t) in enumerate(self.slots):
            start = self.time.CumulVar(routing.Start(k))
            end = self.time.CumulVar(routing.End(k))
            active = routing.ActiveVehicleVar(k)
            loading: Any = 0
            if fixed:
                loading = active * (fixed * den)
            if num and not isinstance(self.delivered_kg[k], int):
                loading = loading + self.delivered_kg[k] * num
            unloading: Any = 0
            if num and not isinstance(self.picked_kg[k], int):
                unloading = self.picked_kg[k] * num
            shift = p.vehicles[v].shift
            if t == 0:
                if not isinstance(loading, int):
                    solver.Add(start * den >= _up(shift[0], TIME_UNITS_PER_MINUTE) * den + loading)
            else:
                previous = self.slot_of[(v, t - 1)]
                solver.Add(active <= routing.ActiveVehicleVar(previous))
                prev_end = self.time.CumulVar(routing.End(previous))
                prev_unloading: Any = 0
                if num and not isinstance(self.picked_kg[previous], int):
                    prev_unloading = self.picked_kg[previous] * num
                solver.Add(start * den >= prev_end * den + prev_unloading + loading)
            if not isinstance(unloading, int):
                solver.Add(end * den + unloading <= _down(shift[1], TIME_UNITS_PER_MINUTE) * den)
            if release_dim is not None:
                released = release_dim.CumulVar(routing.Start(k))
                solver.Add(start * den >= (horizon - released) * den + loading)
            if deadline_dim is not None:
                due = deadline_dim.CumulVar(routing.End(k))
                solver.Add(end * den + unloading <= (horizon - due) * den)

    def _visits(self, allowed: dict[int, list[int]], options: SolverOptions) -> None:
        p = self.problem
        slots_of_vehicle: dict[int, list[int]] = {}
        for k, (v, _) in enumerate(self.slots):
            slots_of_vehicle.setdefault(v, []).append(k)
        for s in self.stop_of_node:
            index = self.index(s)
            vehicles = allowed[s]
            if len(vehicles) < len(p.vehicles):
                barred = [
                    k
                    for v in range(len(p.vehicles))
                    if v not in vehicles
                    for k in slots_of_vehicle[v]
                ]
                self.routing.VehicleVar(index).RemoveValues(barred)
            stop = p.stops[s]
            if stop.mandatory and not self.penalize_mandatory:
                continue
            penalty = stop.penalty if not stop.mandatory else options.mandatory_penalty_eur
            self.routing.AddDisjunction([index], round(penalty * COST_UNITS_PER_EURO))
        for s in self.stop_of_node:
            for pickup in p.stops[s].supplied_by:
                if pickup in self.node_of_stop:
                    # No goods collected, nothing to deliver.
                    self.solver.Add(
                        self.routing.ActiveVar(self.index(s))
                        <= self.routing.ActiveVar(self.index(pickup))
                    )

    # ------------------------------------------------------------------ search

    def parameters(self, options: SolverOptions, config: SearchConfig) -> Any:
        params = pywrapcp.DefaultRoutingSearchParameters()
        params.first_solution_strategy = _enum(
            routing_enums_pb2.FirstSolutionStrategy, config.first_solution
        )
        params.local_search_metaheuristic = _enum(
            routing_enums_pb2.LocalSearchMetaheuristic, config.metaheuristic
        )
        params.guided_local_search_lambda_coefficient = config.gls_lambda
        if config.neighbors_ratio is not None:
            params.ls_operator_neighbors_ratio = config.neighbors_ratio
            params.ls_operator_min_neighbors = 10
        for name in config.operators_off:
            setattr(params.local_search_operators, name, pywrapcp.BOOL_FALSE)
        for name in config.operators_on:
            setattr(params.local_search_operators, name, pywrapcp.BOOL_TRUE)
        if config.iterated_local_search:
            params.use_iterated_local_search = True
            ils = params.iterated_local_search_parameters
            ruin_recreate = ils.ruin_recreate_parameters
            del ruin_recreate.ruin_strategies[:]
            sisr = ruin_recreate.ruin_strategies.add().sisr
            sisr.avg_num_removed_visits = config.ruin_average_visits
            sisr.max_removed_sequence_size = config.ruin_max_sequence
            sisr.bypass_factor = 0.01
            if config.ruin_routes:
                close = ruin_recreate.ruin_strategies.add().spatially_close_routes
                close.num_ruined_routes = config.ruin_routes
                ruin_recreate.ruin_composition_strategy = (
                    routing_ils_pb2.RuinCompositionStrategy.RUN_ONE_RANDOMLY
                )
            ruin_recreate.recreate_strategy.heuristic = _enum(
                routing_enums_pb2.FirstSolutionStrategy, config.recreate
            )
            annealing = ils.reference_solution_acceptance_strategy.simulated_annealing
            if config.temperatures is None:
                annealing.automatic_temperatures = True
            else:
                arc = self._average_arc_cost()
                annealing.automatic_temperatures = False
                annealing.initial_temperature = config.temperatures[0] * arc
                annealing.final_temperature = config.temperatures[1] * arc
        if options.time_limit_s is not None:
            params.time_limit.FromMilliseconds(max(1, round(options.time_limit_s * 1000)))
        if options.solution_limit is not None:
            params.solution_limit = options.solution_limit
        params.log_search = options.log_search
        # Below this size OR-Tools hands a model whose first solution failed to CP-SAT,
        # unbounded in deterministic mode; we fall back to penalties instead.
        params.fallback_to_cp_sat_size_threshold = 0
        return params

    def _average_arc_cost(self) -> float:
        p = self.problem
        vehicle = p.vehicles[0] if p.vehicles else None
        per_km = vehicle.cost_per_km if vehicle else 1.0
        loc = self._locations
        total = sum(p.km[a][b] for a in loc for b in loc if a != b)
        pairs = max(1, len(loc) * (len(loc) - 1))
        return max(1.0, per_km * total / pairs * COST_UNITS_PER_EURO)

    def read_routes(self, routes: InitialRoutes) -> Any:
        """An assignment from vehicle -> trips -> stops; stops not in the model are ignored."""
        per_slot: list[list[int]] = [[] for _ in self.slots]
        for v, trips in routes.items():
            used = [list(trip) for trip in trips if trip]
            for t, trip in enumerate(used[: self.problem.vehicles[v].max_trips]):
                per_slot[self.slot_of[(v, t)]] = [
                    self.index(s) for s in trip if s in self.node_of_stop
                ]
        return self.routing.ReadAssignmentFromRoutes(per_slot, True)

    def extract(self, solution: Any) -> tuple[dict[int, list[list[int]]], list[int]]:
        routes: dict[int, list[list[int]]] = {}
        served: set[int] = set()
        for k, (v, _) in enumerate(self.slots):
            index = solution.Value(self.routing.NextVar(self.routing.Start(k)))
            trip = []
            while not self.routing.IsEnd(index):
                stop = self.stop_of_node[self.manager.IndexToNode(index) - 1]
                trip.append(stop)
                served.add(stop)
                index = solution.Value(self.routing.NextVar(index))
            if trip:
                routes.setdefault(v, []).append(trip)
        dropped = [s for s in self.stop_of_node if s not in served]
        return routes, dropped


def _search(
    problem: RoutingProblem,
    included: Sequence[int],
    allowed: dict[int, list[int]],
    options: SolverOptions,
    config_index: int,
    initial_routes: InitialRoutes | None,
    penalize_mandatory: bool,
    report: Callable[[int], None] | None,
) -> _Outcome:
    """One complete search, in this process."""
    started = time.perf_counter()
    config = options.searches[config_index]
    if config_index > 0 and config.iterated_local_search:
        initial_routes = None  # a parallel ILS explores afresh while the first one goes on
    if config.iterated_local_search and (options.time_limit_s is None or initial_routes):
        # OR-Tools' ILS neither starts from given routes nor reliably meets a work limit
        # (it can cycle without a new solution): use guided local search instead.
        config = replace(
            config,
            iterated_local_search=False,
            metaheuristic="GUIDED_LOCAL_SEARCH",
            operators_off=(),
        )
    model = _Model(problem, included, allowed, options, config.seed, penalize_mandatory)
    params = model.parameters(options, config)
    counter = {"solutions": 0, "checks": 0}
    best_by_time: list[tuple[float, int]] = []

    def on_solution() -> None:
        counter["solutions"] += 1
        counter["checks"] = 0
        value = int(model.routing.CostVar().Max())
        if not best_by_time or value < best_by_time[-1][1]:
            best_by_time.append((time.perf_counter() - started, value))
            if report is not None:
                report(value)

    model.routing.AddAtSolutionCallback(on_solution)
    if options.time_limit_s is None:
        # Deterministic stop for a search that no longer finds solutions (small problems
        # can cycle without ever reaching the solution limit): count the solver's limit
        # checks since the last solution, a measure of work rather than of time.
        def stalled() -> bool:
            counter["checks"] += 1
            budget = options.stall_checks * (1 if counter["solutions"] else 5)
            return counter["checks"] > budget

        model.routing.AddSearchMonitor(model.solver.CustomLimit(stalled))
    model.routing.CloseModelWithParameters(params)
    assignment = model.read_routes(initial_routes) if initial_routes else None
    if assignment is not None:
        solution = model.routing.SolveFromAssignmentWithParameters(assignment, params)
    else:
        if config.iterated_local_search:
            solution = model.routing.SolveWithIteratedLocalSearch(params)
        else:
            solution = model.routing.SolveWithParameters(params)
    status = str(model.routing.status())
    if solution is None:
        return _Outcome(
            {},
            list(included),
            None,
            counter["solutions"],
            status,
            config_index,
            time.perf_counter() - started,
            best_by_time,
        )
    routes, dropped = model.extract(solution)
    return _Outcome(
        routes,
        dropped,
        int(solution.ObjectiveValue()),
        counter["solutions"],
        status,
        config_index,
        time.perf_counter() - started,
        best_by_time,
    )


def _child(
    connection: Connection,
    progress_queue: Any,
    arguments: tuple[
        RoutingProblem,
        Sequence[int],
        dict[int, list[int]],
        SolverOptions,
        int,
        InitialRoutes | None,
        bool,
    ],
) -> None:
    def report(value: int) -> None:
        progress_queue.put(value)

    try:
        problem, included, allowed, options, config_index, initial_routes, penalize = arguments
        outcome = _search(
            problem, included, allowed, options, config_index, initial_routes, penalize, report
        )
        connection.send(outcome)
    except Exception as error:  # pragma: no cover - surfaced in the parent
        connection.send(error)
    finally:
        connection.close()


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _parallel_search(
    problem: RoutingProblem,
    included: Sequence[int],
    allowed: dict[int, list[int]],
    options: SolverOptions,
    initial_routes: InitialRoutes | None,
    progress: Progress | None,
    penalize_mandatory: bool,
) -> list[_Outcome]:
    """Searches ``options.searches`` in ``options.workers`` processes (this one included)."""
    count = max(1, min(options.workers, len(options.searches)))
    if multiprocessing.current_process().daemon:
        count = 1  # a daemonic process (e.g. a pool worker) may not start processes
    best = [math.inf]

    def forward(value: int) -> None:
        if value < best[0]:
            best[0] = value
            if progress is not None:
                progress(value / COST_UNITS_PER_EURO)

    ctx = _context() if count > 1 else None
    queue = ctx.Queue() if ctx is not None else None
    children = []
    for config_index in range(1, count):
        assert ctx is not None
        receiver, sender = ctx.Pipe(duplex=False)
        arguments = (
            problem,
            included,
            allowed,
            options,
            config_index,
            initial_routes,
            penalize_mandatory,
        )
        process = ctx.Process(target=_child, args=(sender, queue, arguments), daemon=True)
        process.start()
        sender.close()
        children.append((process, receiver))

    def drain() -> None:
        while queue is not None:
            try:
                forward(queue.get_nowait())
            except Empty:
                return

    def report(value: int) -> None:
        forward(value)
        drain()

    outcomes = [
        _search(problem, included, allowed, options, 0, initial_routes, penalize_mandatory, report)
    ]
    for process, receiver in children:
        wait = None if options.time_limit_s is None else options.time_limit_s + 60
        if receiver.poll(wait):
            received = receiver.recv()
            if isinstance(received, _Outcome):
                outcomes.append(received)
        process.join(timeout=5)
        if process.is_alive():  # pragma: no cover - a stuck child
            process.terminate()
        drain()
    return outcomes


FLEET_SLOTS = 60
"""Above this many trip slots, a day is first solved with part of the fleet, one trip per
vehicle: OR-Tools' first solution slows down with every slot, chained trips most (measured on
a generated region, 37 stops: 13 vans of 3 trips, no first solution in 5 s; of 2 trips,
4.8 s; of 1 trip, 0.3 s; 20 vans of 1 trip, 0.1 s and 2 stops left out instead of 26)."""


def _fleet_order(problem: RoutingProblem) -> list[int]:
    """Vehicles by cost of a full day per kg they can carry, cheapest first."""

    def cost_per_kg(v: int) -> float:
        vehicle = problem.vehicles[v]
        hours = (vehicle.shift[1] - vehicle.shift[0]) / 60.0
        day = vehicle.cost_fixed + vehicle.cost_per_hour * hours
        return day / max(vehicle.capacity_kg * vehicle.max_trips, 1e-9)

    return sorted(range(len(problem.vehicles)), key=lambda v: (cost_per_kg(v), v))


def _initial_fleet(
    problem: RoutingProblem, allowed: dict[int, list[int]], initial_routes: InitialRoutes | None
) -> list[int]:
    """Enough vehicles (of one trip each) for twice the day's kg and work, every stop covered.

    The work of a stop is its service plus half a return trip from the hub (a rough share of
    the trip that brings the vehicle there). A fleet too small shows as stops left out, and
    ``solve_once`` then grows it."""
    everyone = list(range(len(problem.vehicles)))
    if sum(v.max_trips for v in problem.vehicles) <= FLEET_SLOTS:
        return everyone
    chosen = set(initial_routes or ())
    order = _fleet_order(problem)
    rank = {v: i for i, v in enumerate(order)}
    for vehicles in allowed.values():
        if not chosen.intersection(vehicles):
            chosen.add(min(vehicles, key=rank.__getitem__))
    kg = sum(problem.stops[s].kg for s in allowed)
    work = sum(
        problem.stops[s].service_minutes + problem.travel_minutes(vehicles[0], HUB, s + 1)
        for s, vehicles in allowed.items()
    )

    def enough() -> bool:
        fleet = [problem.vehicles[v] for v in chosen]
        capacity = sum(v.capacity_kg for v in fleet)  # one trip each, see solve_once
        minutes = sum(v.shift[1] - v.shift[0] for v in fleet)
        return capacity >= 2 * kg and minutes >= 2 * work and len(chosen) >= 4

    for v in order:
        if enough():
            break
        chosen.add(v)
    return sorted(chosen)


def solve_once(
    problem: RoutingProblem,
    options: SolverOptions,
    initial_routes: InitialRoutes | None = None,
    progress: Progress | None = None,
) -> RoutingResult:
    """One solver pass on the problem as given (hub deadlines and releases fixed).

    A large fleet is first given in part (see ``FLEET_SLOTS``); while the search finds
    nothing or leaves stops out for want of vehicles, the fleet doubles and the day is solved
    again (with the whole fleet at last)."""
    started = time.perf_counter()
    allowed, _ = servable(problem)
    fleet = _initial_fleet(problem, allowed, initial_routes)
    order = _fleet_order(problem)
    best: RoutingResult | None = None
    attempts = 0
    while True:
        attempts += 1
        whole = len(fleet) == len(problem.vehicles)
        chosen = options
        if options.time_limit_s is not None:
            left = options.time_limit_s - (time.perf_counter() - started)
            share = left if whole else left / 2
            chosen = replace(options, time_limit_s=max(share, options.time_limit_s * 0.1))
        statistics = {"fleet": len(fleet), "fleet_attempts": attempts}
        if whole:
            found = _solve_fleet(problem, chosen, initial_routes, progress)
            result = replace(found, statistics={**found.statistics, **statistics})
        else:  # one trip each: chained trips slow OR-Tools' first solution most
            part = replace(
                problem,
                vehicles=tuple(replace(problem.vehicles[v], max_trips=1) for v in fleet),
            )
            index = {v: k for k, v in enumerate(fleet)}
            routes = (
                {index[v]: trips for v, trips in initial_routes.items() if v in index}
                if initial_routes
                else None
            )
            found = _solve_fleet(part, chosen, routes, progress)
            result = evaluate(
                problem,
                {fleet[k]: trips for k, trips in found.routes().items()},
                found.unserved,
                found_solution=found.found_solution,
                objective=found.objective,
                statistics={**found.statistics, **statistics},
            )
        if best is not None and _shortfall(result) >= _shortfall(best):
            break  # more vehicles did not help
        best = result
        if whole or _shortfall(result) == (0, 0):
            break
        grown = set(fleet)
        for v in order:
            if len(grown) >= 2 * len(fleet):
                break
            grown.add(v)
        fleet = sorted(grown)
    assert best is not None  # the first attempt always sets it
    return replace(best, seconds=time.perf_counter() - started)


def _shortfall(result: RoutingResult) -> tuple[int, int]:
    """(no solution at all, stops left out for want of vehicles): what a larger fleet fixes."""
    saturated = sum(u.reason is UnservedReason.FLEET_SATURATED for u in result.unserved)
    return (0 if result.found_solution else 1, saturated)


def _solve_fleet(
    problem: RoutingProblem,
    options: SolverOptions,
    initial_routes: InitialRoutes | None,
    progress: Progress | None,
) -> RoutingResult:
    started = time.perf_counter()
    allowed, excluded = servable(problem)
    included = sorted(allowed)
    if not included:
        return evaluate(problem, {}, list(excluded.values()), seconds=time.perf_counter() - started)
    hard = options.hard_mandatory_first and any(problem.stops[s].mandatory for s in included)
    outcomes = _parallel_search(
        problem, included, allowed, options, initial_routes, progress, not hard
    )
    found = [o for o in outcomes if o.objective is not None]
    if not found and hard:
        rest = options
        if options.time_limit_s is not None:
            spent = time.perf_counter() - started
            rest = replace(
                options, time_limit_s=max(options.time_limit_s - spent, options.time_limit_s * 0.2)
            )
        outcomes += _parallel_search(
            problem, included, allowed, rest, initial_routes, progress, True
        )
        found = [o for o in outcomes if o.objective is not None]
    statistics: dict[str, float | int | str] = {
        "searches": len(outcomes),
        "solutions": sum(o.solutions for o in outcomes),
    }
    if not found:
        unserved = list(excluded.values()) + [saturated(problem, s) for s in included]
        statistics["status"] = outcomes[0].status
        return evaluate(
            problem,
            {},
            unserved,
            found_solution=False,
            seconds=time.perf_counter() - started,
            statistics=statistics,
        )
    best = min(found, key=lambda o: (o.objective, o.config_index))
    statistics.update(status=best.status, winner=best.config_index)
    unserved = list(excluded.values()) + [saturated(problem, s) for s in best.dropped]
    return evaluate(
        problem,
        best.routes,
        unserved,
        seconds=time.perf_counter() - started,
        objective=best.objective,
        statistics=statistics,
    )


def improving(progress: Progress) -> Progress:
    """Passes on only values below every earlier one (rounds and searches interleave)."""
    best = [math.inf]

    def forward(value: float) -> None:
        if value < best[0]:
            best[0] = value
            progress(value)

    return forward


def solve(
    problem: RoutingProblem,
    options: SolverOptions | None = None,
    *,
    initial_routes: InitialRoutes | None = None,
    progress: Progress | None = None,
) -> RoutingResult:
    """Routes for the day: both echelons in one model, then hub deadlines tightened.

    Pickups feeding deliveries get hub deadlines (the latest that still lets each delivery
    leave in time) unless the problem gives them; deliveries leave after those deadlines.
    Each further round sets the deadlines to the arrivals actually planned, which can only
    give deliveries more room, and re-solves from the previous routes.
    """
    options = options or SolverOptions()
    started = time.perf_counter()
    if progress is not None:
        progress = improving(progress)
    current = derive_hub_deadlines(problem)
    coupled = any(s.supplied_by for s in problem.stops)
    rounds = max(1, options.echelon_rounds) if coupled else 1
    first = options
    if rounds > 1 and options.time_limit_s is not None:
        first = replace(options, time_limit_s=options.time_limit_s * 0.6)
    result = solve_once(current, first, initial_routes, progress)
    for round_number in range(1, rounds):
        if not result.found_solution:
            break
        tightened = tighten_hub_deadlines(current, result)
        if tightened == current:
            break
        later = options
        if options.time_limit_s is not None:
            later = replace(options, time_limit_s=options.time_limit_s * 0.4 / (rounds - 1))
        candidate = solve_once(tightened, later, result.routes(), progress)
        if candidate.found_solution and (
            candidate.objective is not None
            and result.objective is not None
            and candidate.objective <= result.objective
        ):
            current, result = tightened, candidate
        statistics = dict(result.statistics)
        statistics["echelon_rounds"] = round_number + 1
        result = replace(result, statistics=statistics)
    return replace(result, seconds=time.perf_counter() - started)
