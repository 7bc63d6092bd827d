"""Rounds built without a search: cheapest feasible insertion, and repair of given rounds.

This is what makes a plan come out whatever the time limit: it takes no time limit and
always ends (each stop is tried once at every position of every trip its vehicles could
make). It also turns any engine's rounds into valid ones: stops an approximate model put
where the exact rules forbid them are taken out and inserted again where they fit.

The problem must have its hub deadlines fixed (``derive_hub_deadlines``): each pickup then
unloads by its deadline and each delivery it supplies loads after it, so one vehicle's day
is feasible or not on its own and insertions are checked one vehicle at a time, exactly
(the same timing as ``schedule.evaluate``, drivers' breaks included). It never has more
vehicles leave the hub than the day has drivers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Iterable, Mapping, Sequence

from foodchain.routing.cold import trip_breach
from foodchain.routing.diagnosis import no_driver, saturated, supply_failure
from foodchain.routing.problem import RoutingProblem, StopKind, Unserved
from foodchain.routing.schedule import TripTiming, time_day, within_work_limit

EPS = 1e-6
IMPROVE_PASSES = 30
"""Sweeps of ``improve`` over every stop at most (a descent on Lensois days ends in 2-5)."""
Routes = dict[int, list[list[int]]]


class _Day:
    """Exact feasibility and cost of one vehicle's trips (``schedule.time_trip`` timing)."""

    def __init__(self, problem: RoutingProblem) -> None:
        self.problem = problem

    def _fits(self, v: int, stops: Sequence[int], timing: TripTiming) -> bool:
        """Whether the timed trip keeps every rule (loads, windows, shift, hub deadlines,
        the cold chain's time on board and classes apart)."""
        p = self.problem
        vehicle = p.vehicles[v]
        kg, crates = timing.loaded_kg, timing.loaded_crates
        if kg > vehicle.capacity_kg + EPS or crates > vehicle.capacity_crates + EPS:
            return False
        if timing.end > vehicle.shift[1] + EPS:
            return False
        for s, (_, begin, _) in zip(stops, timing.stops, strict=True):
            stop = p.stops[s]
            if begin > stop.window[1] + EPS:
                return False
            sign = -1.0 if stop.kind is StopKind.DELIVERY else 1.0
            kg += sign * stop.kg
            crates += sign * stop.crates
            if kg > vehicle.capacity_kg + EPS or crates > vehicle.capacity_crates + EPS:
                return False
            deadline = stop.hub_deadline
            if (
                stop.kind is StopKind.PICKUP
                and deadline is not None
                and timing.end > deadline + EPS
            ):
                return False
        if p.cold is not None:
            services = [(begin, leave) for _, begin, leave in timing.stops]
            return trip_breach(p, stops, timing.start, services, timing.end) is None
        return True

    def cost(self, v: int, trips: Sequence[Sequence[int]]) -> float | None:
        """Cost of the vehicle's day (fixed, km, hours), or None if it breaks a rule."""
        vehicle = self.problem.vehicles[v]
        used = [t for t in trips if t]
        if not used:
            return 0.0
        if len(used) > vehicle.max_trips:
            return None
        timings, breaks = time_day(self.problem, v, used)
        if not within_work_limit(self.problem, timings, breaks):
            return None
        total_km, cost = 0.0, vehicle.cost_fixed
        for stops, timing in zip(used, timings, strict=True):
            if not self._fits(v, stops, timing):
                return None
            cost += timing.km * vehicle.cost_per_km
            cost += (timing.end - timing.start) / 60.0 * vehicle.cost_per_hour
            total_km += timing.km
        if total_km > vehicle.range_km + EPS:
            return None
        return cost


def _order(problem: RoutingProblem, stops: Iterable[int]) -> list[int]:
    """Pickups first (deliveries need their goods), then by closing window, heaviest first."""

    def key(s: int) -> tuple[int, bool, float, float]:
        stop = problem.stops[s]
        return (stop.kind is StopKind.DELIVERY, not stop.mandatory, stop.window[1], -stop.kg)

    return sorted(stops, key=key)


def insert(
    problem: RoutingProblem,
    routes: Mapping[int, Sequence[Sequence[int]]],
    stops: Iterable[int],
    allowed: Mapping[int, Sequence[int]],
) -> tuple[Routes, list[int]]:
    """``routes`` with each of ``stops`` put where it adds least cost; those that fit nowhere.

    An optional stop is inserted only if it costs less than its penalty."""
    day = _Day(problem)
    current: Routes = {v: [list(t) for t in trips if t] for v, trips in routes.items()}
    costs = {v: day.cost(v, trips) or 0.0 for v, trips in current.items()}
    left: list[int] = []
    served = {s for trips in current.values() for t in trips for s in t}
    for s in _order(problem, stops):
        if s in served:
            continue
        stop = problem.stops[s]
        if any(p not in served for p in stop.supplied_by):
            left.append(s)
            continue
        best: tuple[float, int, list[list[int]]] | None = None
        idle = _busy(current) >= problem.driver_limit  # no driver left for an idle vehicle
        for v in allowed.get(s, ()):
            trips = current.get(v, [])
            if idle and not trips:
                continue
            before = costs.get(v, 0.0)
            for candidate in _candidates(trips, s, problem.vehicles[v].max_trips):
                cost = day.cost(v, candidate)
                if cost is not None and (best is None or cost - before < best[0]):
                    best = (cost - before, v, candidate)
        limit = math.inf if stop.mandatory else stop.penalty
        if best is None or best[0] >= limit:
            left.append(s)
            continue
        _, v, trips = best
        current[v] = trips
        costs[v] = costs.get(v, 0.0) + best[0]
        served.add(s)
    return current, left


def improve(
    problem: RoutingProblem,
    routes: Mapping[int, Sequence[Sequence[int]]],
    allowed: Mapping[int, Sequence[int]],
    seconds: float | None,
    passes: int = IMPROVE_PASSES,
) -> Routes:
    """``routes`` improved by moving one stop at a time to where it costs least (any trip of
    any of its vehicles, or a new trip), while that lowers the cost, for at most ``seconds``
    (None: no time limit, the same routes give the same result) and ``passes`` sweeps.

    A descent with exact checks: slow beside the engines, but it turns rounds repaired by
    taking stops out and inserting them again into sensible ones."""
    day = _Day(problem)
    until = math.inf if seconds is None else time.perf_counter() + seconds
    current: Routes = {v: [list(t) for t in trips if t] for v, trips in routes.items()}
    costs = {v: day.cost(v, trips) for v, trips in current.items()}
    improved = True
    while improved and passes > 0 and time.perf_counter() < until:
        improved = False
        passes -= 1
        for v_from in list(current):
            for s in [x for trip in current.get(v_from, []) for x in trip]:
                if time.perf_counter() >= until:
                    return current
                if v_from in current and _relocate(
                    problem, day, current, costs, allowed, v_from, s
                ):
                    improved = True
    return current


def _relocate(
    problem: RoutingProblem,
    day: _Day,
    current: Routes,
    costs: dict[int, float | None],
    allowed: Mapping[int, Sequence[int]],
    v_from: int,
    stop: int,
) -> bool:
    """Move ``stop`` out of ``v_from``'s trips to its cheapest place, if that saves money."""
    before = costs[v_from]
    if before is None:
        return False
    without = [[x for x in trip if x != stop] for trip in current[v_from]]
    without = [trip for trip in without if trip]
    after = day.cost(v_from, without)
    if after is None:
        return False
    gain = before - after
    best: tuple[float, int, list[list[int]]] | None = None
    busy = _busy(current) - (0 if without else 1)
    for v in allowed.get(stop, ()):
        base = without if v == v_from else current.get(v, [])
        if not base and v != v_from and busy >= problem.driver_limit:
            continue  # no driver for one more vehicle
        base_cost = after if v == v_from else costs.get(v, 0.0)
        if base_cost is None:
            continue
        for candidate in _candidates(base, stop, problem.vehicles[v].max_trips):
            cost = day.cost(v, candidate)
            if cost is not None and (best is None or cost - base_cost < best[0]):
                best = (cost - base_cost, v, candidate)
    if best is None or best[0] >= gain - 1e-6:
        return False
    delta, v_to, trips = best
    if v_to == v_from:
        current[v_from] = trips
        costs[v_from] = after + delta
    else:
        current[v_from] = without
        costs[v_from] = after
        current[v_to] = trips
        costs[v_to] = (costs.get(v_to) or 0.0) + delta
    if not current[v_from]:
        del current[v_from]
        costs[v_from] = 0.0
    return True


def _busy(routes: Mapping[int, Sequence[Sequence[int]]]) -> int:
    """Vehicles that leave the hub (each needs a driver)."""
    return sum(1 for trips in routes.values() if any(trips))


def _with_drivers(
    problem: RoutingProblem, routes: Mapping[int, Sequence[Sequence[int]]]
) -> tuple[dict[int, Sequence[Sequence[int]]], list[int]]:
    """``routes`` on as many vehicles as there are drivers: those serving most stops keep
    theirs, the others' stops are taken out."""
    used = [v for v, trips in routes.items() if any(trips)]
    if len(used) <= problem.driver_limit:
        return dict(routes), []
    ranked = sorted(used, key=lambda v: (-sum(len(t) for t in routes[v]), v))
    kept = set(ranked[: problem.driver_limit])
    removed = [s for v in used if v not in kept for t in routes[v] for s in t]
    return {v: routes[v] for v in kept}, removed


def _candidates(trips: list[list[int]], stop: int, max_trips: int) -> Iterable[list[list[int]]]:
    for t, trip in enumerate(trips):
        for position in range(len(trip) + 1):
            changed = [*trip[:position], stop, *trip[position:]]
            yield [*trips[:t], changed, *trips[t + 1 :]]
    if len(trips) < max_trips:
        for t in range(len(trips) + 1):
            yield [*trips[:t], [stop], *trips[t:]]


def feasible_part(
    problem: RoutingProblem,
    routes: Mapping[int, Sequence[Sequence[int]]],
    allowed: Mapping[int, Sequence[int]],
) -> tuple[Routes, list[int]]:
    """The part of ``routes`` that keeps every rule, visit by visit in their order, and the
    stops taken out (a stop on a vehicle not ``allowed`` there, and a delivery whose pickup
    is taken out, go too)."""
    day = _Day(problem)
    kept: Routes = {}
    routes, removed = _with_drivers(problem, routes)
    for v, trips in routes.items():
        if not 0 <= v < len(problem.vehicles):
            removed += [s for t in trips for s in t]
            continue
        done: list[list[int]] = []
        for trip in trips:
            if len(done) >= problem.vehicles[v].max_trips:
                removed += list(trip)
                continue
            current: list[int] = []
            for s in trip:
                if v not in allowed.get(s, ()) or day.cost(v, [*done, [*current, s]]) is None:
                    removed.append(s)
                else:
                    current.append(s)
            if current:
                done.append(current)
        if done:
            kept[v] = done
    served = {s for trips in kept.values() for t in trips for s in t}
    while True:
        orphans = {s for s in served if any(p not in served for p in problem.stops[s].supplied_by)}
        if not orphans:
            break
        served -= orphans
        removed += sorted(orphans)
        kept = {v: [[s for s in t if s not in orphans] for t in trips] for v, trips in kept.items()}
        kept = {v: [t for t in trips if t] for v, trips in kept.items()}
        kept = {v: trips for v, trips in kept.items() if trips}
    return kept, removed


def build(
    problem: RoutingProblem,
    allowed: Mapping[int, Sequence[int]],
    routes: Mapping[int, Sequence[Sequence[int]]] | None = None,
    improve_seconds: float | None = 0.0,
) -> tuple[Routes, list[int]]:
    """Valid rounds for the ``allowed`` stops: ``routes`` repaired, the rest inserted, then
    improved for ``improve_seconds`` (None: until no move helps, ``IMPROVE_PASSES`` at most)."""
    kept, _ = feasible_part(problem, routes or {}, allowed)
    served = {s for trips in kept.values() for t in trips for s in t}
    todo = [s for s in allowed if s not in served]
    result, left = insert(problem, kept, todo, allowed)
    if improve_seconds is None or improve_seconds > 0:
        result = improve(problem, result, allowed, improve_seconds)
    # Taking stops out never breaks a trip whose travel times obey the triangle inequality;
    # for any others the final pass keeps what is valid.
    final, dropped = feasible_part(problem, result, allowed)
    return final, sorted(set(left) | set(dropped))


def unserved_reasons(
    problem: RoutingProblem,
    left: Iterable[int],
    excluded: Mapping[int, Unserved],
    used: Collection[int] = (),
) -> list[Unserved]:
    """Reasons for stops a plan leaves out: the diagnosis's, a missing pickup's, every
    driver busy with the ``used`` vehicles while another could serve it, or a fleet without
    room for them in this plan."""
    out = dict(excluded)
    pending = sorted(set(left) - set(out), key=lambda s: problem.stops[s].kind is StopKind.DELIVERY)
    for s in pending:  # pickups first: a delivery then finds its missing pickup's reason
        if any(p in out for p in problem.stops[s].supplied_by):
            out[s] = supply_failure(problem, s, out)
        else:
            out[s] = no_driver(problem, s, used) or saturated(problem, s)
    return list(out.values())
