"""The OR-Tools model of a day (the only module that builds one with ``pywrapcp``).

Each vehicle gets ``max_trips`` *trip slots* (OR-Tools vehicles chained in time: a slot
starts loading only once the previous one has unloaded), so a cargo bike can do several short
rounds and a van can collect then deliver. Dimensions: time (start = departure from the hub,
end = back at the hub), kg and crates on board, km for the daily range, and two auxiliary
ones only when the day has two echelons: ``release`` (the latest goods-arrival time of a
trip's deliveries, which its loading must follow) and ``deadline`` (the earliest hub deadline
of a trip's pickups, which its unloading must meet). Hub handling time (fixed + per 100 kg)
links the load and time dimensions through a few linear constraints per slot.

Drivers: the first slots of the vehicles that leave the hub are at most the day's drivers.
Breaks: a 0-1 variable per later slot puts the driver's break before it (the slot loads that
much later), and linear constraints keep every stretch of work within the rule's.
Cold chain (``routing.cold``): vehicles too warm for a stop are barred from it (``allowed``);
two auxiliary dimensions bound when a slot may start loading (``cold_loading``) and must have
unloaded (``cold_unloading``) so that no goods stay on board beyond their class's time; stops
of classes kept apart never share a slot.

Integers: travel and service times are rounded *up*, capacities down (``integers``), so
whatever the solver accepts is feasible in exact arithmetic; costs are rounded to the
nearest unit (1/360,000 €, so an hourly rate in tenths of euros is exact per time unit).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any

from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_ils_pb2

from foodchain.routing.cold import on_board_limit
from foodchain.routing.integers import (
    COST_UNITS_PER_EURO,
    DISTANCE_UNITS_PER_KM,
    LOAD_UNITS,
    TIME_UNITS_PER_MINUTE,
    down,
    up,
)
from foodchain.routing.options import SearchConfig, SolverOptions
from foodchain.routing.problem import HUB, InitialRoutes, RoutingProblem, Stop, StopKind
from foodchain.routing.schedule import effective_release

_UNBOUNDED_DISTANCE = 10**12


def _enum(enum_type: Any, name: str) -> int:
    value: int = getattr(enum_type, name)
    return value


class Model:
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
        self._cold()
        self._drivers()
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
        service = self._node_vector(lambda s: up(s.service_minutes, TIME_UNITS_PER_MINUTE))
        horizon_minutes = max(
            [v.shift[1] for v in p.vehicles] + [s.window[1] for s in p.stops] + [0.0]
        )
        self.horizon = up(horizon_minutes, TIME_UNITS_PER_MINUTE) + 1
        evaluators: dict[int, int] = {}
        for profile, minutes in enumerate(p.minutes):
            if not any(v.profile == profile for v in p.vehicles):
                continue
            loc = self._locations
            matrix = [
                [
                    (up(minutes[loc[a]][loc[b]], TIME_UNITS_PER_MINUTE) + service[a])
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
            opens = up(stop.window[0], TIME_UNITS_PER_MINUTE)
            closes = max(opens, down(stop.window[1], TIME_UNITS_PER_MINUTE))
            self.time.CumulVar(self.manager.NodeToIndex(node)).SetRange(opens, closes)
        for k, (v, _) in enumerate(self.slots):
            shift = p.vehicles[v].shift
            first = up(shift[0], TIME_UNITS_PER_MINUTE)
            last = down(shift[1], TIME_UNITS_PER_MINUTE)
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
            amounts = [0] + [up(s.kg if unit_name == "kg" else s.crates, LOAD_UNITS) for s in stops]
            if not any(amounts):
                continue
            is_delivery = [False] + [s.kind is StopKind.DELIVERY for s in stops]
            caps = [
                down(
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
            [up(p.km[loc[a]][loc[b]], DISTANCE_UNITS_PER_KM) for b in range(n)] for a in range(n)
        ]
        evaluator = self.routing.RegisterTransitMatrix(matrix)

        def cap(v: int) -> int:
            r = p.vehicles[v].range_km
            return _UNBOUNDED_DISTANCE if math.isinf(r) else down(r, DISTANCE_UNITS_PER_KM)

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
        num = up(p.hub_minutes_per_100kg, TIME_UNITS_PER_MINUTE)
        fixed = up(p.hub_fixed_minutes, TIME_UNITS_PER_MINUTE)
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
                    limit = max(0, horizon - up(r, TIME_UNITS_PER_MINUTE))
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
                floor = min(horizon, max(0, horizon - down(d, TIME_UNITS_PER_MINUTE)))
                deadline_dim.CumulVar(self.index(s)).SetMin(floor)

        pause = self._pauses()
        self._handling: list[tuple[Any, Any]] = []
        """Per slot: loading and unloading time, in time units x ``den``."""
        work: dict[int, list[tuple[Any, Any, Any]]] = {}
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
            self._handling.append((loading, unloading))
            shift = p.vehicles[v].shift
            if t == 0:
                if not isinstance(loading, int):
                    solver.Add(start * den >= up(shift[0], TIME_UNITS_PER_MINUTE) * den + loading)
            else:
                previous = self.slot_of[(v, t - 1)]
                solver.Add(active <= routing.ActiveVehicleVar(previous))
                prev_end = self.time.CumulVar(routing.End(previous))
                prev_unloading: Any = 0
                if num and not isinstance(self.picked_kg[previous], int):
                    prev_unloading = self.picked_kg[previous] * num
                rest: Any = 0
                if (v, t) in pause:
                    rest = pause[(v, t)] * (up(self._rule_minutes(), TIME_UNITS_PER_MINUTE) * den)
                solver.Add(start * den >= prev_end * den + prev_unloading + loading + rest)
            work.setdefault(v, []).append((start * den - loading, end * den + unloading, active))
            if not isinstance(unloading, int):
                solver.Add(end * den + unloading <= down(shift[1], TIME_UNITS_PER_MINUTE) * den)
            if release_dim is not None:
                released = release_dim.CumulVar(routing.Start(k))
                solver.Add(start * den >= (horizon - released) * den + loading)
            if deadline_dim is not None:
                due = deadline_dim.CumulVar(routing.End(k))
                solver.Add(end * den + unloading <= (horizon - due) * den)
        if pause or self.problem.breaks is not None:
            self._work_stretches(work, pause, den)
        if p.max_day_minutes is not None:
            limit = down(p.max_day_minutes, TIME_UNITS_PER_MINUTE) * den
            big = 4 * self.horizon * den
            for slots in work.values():
                first = slots[0][0]
                for _, finish, active in slots:
                    solver.Add(finish - first <= limit + big * (1 - active))

    def _cold(self) -> None:
        """No goods on board beyond their class's time, and classes kept apart on separate
        slots. As ``release`` and ``deadline``, each bound travels along the slot in a
        dimension with slack (so it only rises from start to end) counted down from the
        horizon: ``cold_loading`` at the start is at most horizon minus the latest end of
        service of a delivery less its limit, loading starting no earlier; ``cold_unloading``
        at the end at least horizon minus the earliest pickup's start plus its limit,
        unloading done by then."""
        p = self.problem
        if p.cold is None:
            return
        routing, solver, time = self.routing, self.solver, self.time
        den, horizon = 100 * LOAD_UNITS, self.horizon
        limits = {s: on_board_limit(p, s) for s in self.stop_of_node}
        for kind, name in (
            (StopKind.DELIVERY, "cold_loading"),
            (StopKind.PICKUP, "cold_unloading"),
        ):
            bounded = {
                s: down(limit, TIME_UNITS_PER_MINUTE)
                for s, limit in limits.items()
                if limit is not None and p.stops[s].kind is kind
            }
            if not bounded:
                continue
            routing.AddConstantDimensionWithSlack(0, horizon, horizon, False, name)
            dim = routing.GetDimensionOrDie(name)
            for s, limit in bounded.items():
                at, served = dim.CumulVar(self.index(s)), time.CumulVar(self.index(s))
                if kind is StopKind.DELIVERY:
                    service = up(p.stops[s].service_minutes, TIME_UNITS_PER_MINUTE)
                    solver.Add(at + served <= horizon - service + limit)
                else:
                    solver.Add(at + served >= horizon - limit)
            for k in range(len(self.slots)):
                loading, unloading = self._handling[k]
                if kind is StopKind.DELIVERY:
                    start = time.CumulVar(routing.Start(k))
                    bound = dim.CumulVar(routing.Start(k))
                    solver.Add(start * den - loading >= (horizon - bound) * den)
                else:
                    end = time.CumulVar(routing.End(k))
                    bound = dim.CumulVar(routing.End(k))
                    solver.Add(end * den + unloading <= (horizon - bound) * den)
        for pair in p.cold.incompatible:
            first, second = sorted(pair)
            left = [s for s in self.stop_of_node if first in p.stops[s].classes]
            right = [s for s in self.stop_of_node if second in p.stops[s].classes]
            for a in left:
                trip = routing.VehicleVar(self.index(a))
                for b in right:
                    other = routing.VehicleVar(self.index(b))
                    if a != b:
                        solver.Add((trip != other) + (trip == -1) >= 1)

    def _rule_minutes(self) -> float:
        rule = self.problem.breaks
        return 0.0 if rule is None else rule.minutes

    def _pauses(self) -> dict[tuple[int, int], Any]:
        """A 0-1 variable per trip slot after the first of a vehicle whose shift is longer
        than the break rule's stretch of work: 1 if the driver's break comes before it."""
        rule = self.problem.breaks
        out: dict[tuple[int, int], Any] = {}
        if rule is None:
            return out
        for v, vehicle in enumerate(self.problem.vehicles):
            if vehicle.shift[1] - vehicle.shift[0] <= rule.after_minutes:
                continue
            for t in range(1, vehicle.max_trips):
                out[(v, t)] = self.solver.BoolVar(f"break_{v}_{t}")
        return out

    def _work_stretches(
        self,
        work: dict[int, list[tuple[Any, Any, Any]]],
        pause: dict[tuple[int, int], Any],
        den: int,
    ) -> None:
        """No stretch of a vehicle's work longer than the break rule's: from its first
        loading to each trip's unloading unless a break came between, and from the end of a
        break (the next trip's loading, the break taken just before) to each later trip's
        unloading. One break a day: enough for a shift up to twice the stretch plus the
        break (the exact rules, ``verify``, judge any other)."""
        rule = self.problem.breaks
        assert rule is not None
        solver = self.solver
        limit = down(rule.after_minutes, TIME_UNITS_PER_MINUTE) * den
        pause_units = up(rule.minutes, TIME_UNITS_PER_MINUTE) * den
        big = 4 * self.horizon * den
        for v, slots in work.items():
            if self.problem.vehicles[v].shift[1] - self.problem.vehicles[v].shift[0] <= (
                rule.after_minutes
            ):
                continue
            first = slots[0][0]
            breaks = [pause[(v, t)] for t in range(1, len(slots))]
            if breaks:
                solver.Add(solver.Sum(breaks) <= 1)
            for t, (begin, finish, active) in enumerate(slots):
                before = solver.Sum(breaks[:t]) if t else 0
                solver.Add(finish - first <= limit + big * before + big * (1 - active))
                if t:
                    taken = breaks[t - 1]
                    solver.Add(taken <= active)
                    # the break ends as this trip loads: it starts within the first stretch
                    solver.Add(begin - pause_units - first <= limit + big * (1 - taken))
                    for later in range(t, len(slots)):
                        finish_later, active_later = slots[later][1], slots[later][2]
                        solver.Add(
                            finish_later - begin
                            <= limit + big * (1 - taken) + big * (1 - active_later)
                        )

    def _drivers(self) -> None:
        """At most as many vehicles leave the hub as the day has drivers: a vehicle's first
        trip slot is active when it is used (its later ones only after it)."""
        p = self.problem
        if p.drivers is None or p.drivers >= len(p.vehicles):
            return
        first = [
            self.routing.ActiveVehicleVar(self.slot_of[(v, 0)]) for v in range(len(p.vehicles))
        ]
        self.solver.Add(self.solver.Sum(first) <= p.drivers)

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
