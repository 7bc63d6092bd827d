"""OR-Tools routing for foodchain: a day's rounds from ``ortools_model`` and its searches.

Mandatory stops are compulsory in a first search; only if it finds nothing are they turned
into very expensive optional visits. A large fleet is offered in part first (``fleet``).
Both echelons are in one model; then hub deadlines are tightened to the plan's actual
unloading times and the day is solved again from its routes (``solve``).
"""

from __future__ import annotations

import time
from dataclasses import replace

from foodchain.routing.diagnosis import no_driver, saturated, servable
from foodchain.routing.echelons import derive_hub_deadlines, tighten_hub_deadlines
from foodchain.routing.fleet import fleet_order, initial_fleet, shortfall
from foodchain.routing.options import Progress, SolverOptions, improving
from foodchain.routing.ortools_search import parallel_search
from foodchain.routing.problem import InitialRoutes, RoutingProblem, RoutingResult
from foodchain.routing.schedule import evaluate


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
    fleet = initial_fleet(problem, allowed, initial_routes)
    order = fleet_order(problem)
    best: RoutingResult | None = None
    attempts = 0
    crashes: list[str] = []
    while True:
        attempts += 1
        whole = len(fleet) == len(problem.vehicles)
        chosen = options
        if options.time_limit_s is not None:
            left = options.time_limit_s - (time.perf_counter() - started)
            share = left if whole else left / 2
            chosen = replace(options, time_limit_s=max(share, options.time_limit_s * 0.1))
        statistics: dict[str, float | int | str] = {
            "fleet": len(fleet),
            "fleet_attempts": attempts,
        }
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
        if result.statistics.get("crashes"):
            crashes.append(str(result.statistics["crashes"]))
        if best is not None and shortfall(result) >= shortfall(best):
            break  # more vehicles did not help
        best = result
        if whole or shortfall(result) == (0, 0):
            break
        grown = set(fleet)
        for v in order:
            if len(grown) >= 2 * len(fleet):
                break
            grown.add(v)
        fleet = sorted(grown)
    assert best is not None  # the first attempt always sets it
    if crashes:
        best = replace(best, statistics={**best.statistics, "crashes": "\n".join(crashes)})
    return replace(best, seconds=time.perf_counter() - started)


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
    outcomes = parallel_search(
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
        outcomes += parallel_search(
            problem, included, allowed, rest, initial_routes, progress, True
        )
        found = [o for o in outcomes if o.objective is not None]
    statistics: dict[str, float | int | str] = {
        "searches": len(outcomes),
        "solutions": sum(o.solutions for o in outcomes),
    }
    crashes = [f"ortools search {o.config_index}: {o.crash}" for o in outcomes if o.crash]
    if crashes:
        statistics["crashes"] = "\n".join(crashes)
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
    used = [v for v, trips in best.routes.items() if any(trips)]
    unserved = list(excluded.values()) + [
        no_driver(problem, s, used) or saturated(problem, s) for s in best.dropped
    ]
    return evaluate(
        problem,
        best.routes,
        unserved,
        seconds=time.perf_counter() - started,
        objective=best.objective,
        statistics=statistics,
    )


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
        if candidate.statistics.get("crashes") and candidate is not result:
            earlier = str(statistics.get("crashes", ""))
            statistics["crashes"] = "\n".join(
                filter(None, [earlier, str(candidate.statistics["crashes"])])
            )
        result = replace(result, statistics=statistics)
    return replace(result, seconds=time.perf_counter() - started)
