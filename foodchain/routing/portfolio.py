"""A day's rounds from several engines at once; the best valid result is kept.

Order of work, so that a plan always comes out and never one that breaks a rule:
1. the rounds of the plan being re-planned (a warm start), repaired where they no longer
   fit: the incumbent, so the result is never worse than them;
2. a cheapest-insertion construction (``construct``), which takes no time limit and always
   ends: there are rounds even if every search below runs out of time;
3. the searches, in parallel on the machine's cores: PyVRP's iterated local search in a
   child process and OR-Tools' in this one (``engine="auto"``), or one of them.
With fewer drivers than vehicles, PyVRP (which cannot limit the vehicles used) searches with
as many vehicles as drivers: those of the incumbent rounds, topped up (``fleet.driver_fleet``);
a second PyVRP search (when OR-Tools does not take the other core) sees the whole fleet and its
rounds are repaired onto as many vehicles as drivers.
Every candidate is checked by the exact rules (``verify``) and repaired if it breaks one;
the kept one has the fewest mandatory stops left out, then the lowest cost
(``RoutingResult.rank``). If it still leaves mandatory stops out for want of room, the
searches of a day given little time (under ``MORE_TIME_MAX_S``) go on once more with twice
the time, and the statistics say so. A search that crashes is reported in the statistics,
never silently dropped.
"""

from __future__ import annotations

import multiprocessing
import signal
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from multiprocessing.connection import Connection
from typing import Any

from foodchain.routing import construct, pyvrp_engine
from foodchain.routing.diagnosis import servable
from foodchain.routing.echelons import (
    SAFETY_MINUTES,
    derive_hub_deadlines,
    with_actual_deadlines,
)
from foodchain.routing.fleet import FLEET_SLOTS, driver_fleet, driver_subsets
from foodchain.routing.options import Progress, SolverOptions, improving
from foodchain.routing.problem import (
    InitialRoutes,
    RoutingProblem,
    RoutingResult,
    StopKind,
    Unserved,
    UnservedReason,
)
from foodchain.routing.schedule import evaluate
from foodchain.routing.territories import TERRITORY_STOPS
from foodchain.routing.territories import solve_day as ortools_solve_day
from foodchain.routing.verify import violations
from foodchain.weeks import clock

MORE_TIME_ROUNDS = 1
"""Searches repeated while mandatory stops stay out for want of room (``more_time_rounds``
in the statistics): a day whose rounds serve every stop stays within its limit..."""

MORE_TIME_MAX_S = 10.0
"""...only on a day whose time limit is under this many seconds, and for twice that limit
at most this long: it gives a search cut short on a busy machine its chance (a Lensois day
has 0.4-0.5 s of the plan's 2 s), while on the regional days where stops stay out (300
farms, 322 stops, a morning no fleet covers whole) 45 s more after 22 s placed none of 8
(benchmarks/README.md)."""

IMPROVE_SHARE = 0.1
"""Share of a day's time limit that improving the best repaired rounds may take..."""

IMPROVE_MAX_S = 5.0
"""...and at most this many seconds."""

SETTLES = 2.0
"""Time kept after the searches to settle their rounds, in constructions' time: each search
process settles its PyVRP rounds (up to ``PYVRP_ROUNDS`` repairs, each quicker than a
construction from nothing: 0.3-0.9 s against 1.3 s on a 322-stop regional day)..."""

RESERVE_SHARE = 0.3
"""...with improvement, at most this share of the day's time left."""

CHILD_GRACE_S = 5.0
"""How long past its time limit a search process may take to answer before it is stopped."""


@dataclass(frozen=True)
class _Candidate:
    name: str
    result: RoutingResult
    built: bool = False
    """Built or repaired on the hub deadlines fixed beforehand, so ``construct.improve`` may
    work on it (rounds kept as an engine made them may rely on other deadlines)."""


class SearchCrashed(RuntimeError):
    """A search process failed; its traceback is kept in the day's statistics."""


def _used(routes: Mapping[int, Sequence[Sequence[int]]]) -> list[int]:
    """Vehicles that leave the hub in ``routes``."""
    return [v for v, trips in routes.items() if any(trips)]


def _settle(
    name: str,
    problem: RoutingProblem,
    coupled: RoutingProblem,
    allowed: Mapping[int, Sequence[int]],
    excluded: Mapping[int, Unserved],
    routes: Mapping[int, Sequence[Sequence[int]]],
) -> _Candidate:
    """The better of ``routes`` as they are, if valid (deliveries waiting for the trips that
    really bring their goods), and ``routes`` repaired with the stops they miss inserted
    (always valid)."""
    served = {s for trips in routes.values() for trip in trips for s in trip}
    reasons = {s: u for s, u in excluded.items() if s not in served}
    missing = [s for s in allowed if s not in served]
    as_is = with_actual_deadlines(
        problem, routes, construct.unserved_reasons(coupled, missing, reasons, _used(routes))
    )
    valid = not violations(problem, as_is)
    if valid and not missing:
        return _Candidate(name, as_is)
    built, left = construct.build(coupled, allowed, routes)
    repaired = evaluate(
        coupled, built, construct.unserved_reasons(coupled, left, excluded, _used(built))
    )
    errors = violations(problem, repaired)
    if errors:  # construct checks the same rules: this would be a bug in one of them
        raise AssertionError(f"repaired rounds break a rule: {errors[0]}")
    if valid and as_is.rank() <= repaired.rank():
        return _Candidate(name, as_is)
    return _Candidate(name if name == "construction" else f"{name}+repair", repaired, True)


def _construction(
    problem: RoutingProblem,
    coupled: RoutingProblem,
    allowed: Mapping[int, Sequence[int]],
    excluded: Mapping[int, Unserved],
) -> _Candidate:
    """The cheapest-insertion construction; with fewer drivers than vehicles, the best of
    the constructions on each set of vehicles ``fleet.driver_subsets`` gives (then
    completed with every vehicle allowed, within the drivers)."""
    best = _settle("construction", problem, coupled, allowed, excluded, {})
    for subset in driver_subsets(coupled, allowed):
        keep = set(subset)
        part = {s: [v for v in vs if v in keep] for s, vs in allowed.items()}
        routes, _ = construct.build(coupled, {s: vs for s, vs in part.items() if vs}, {})
        found = _settle("construction", problem, coupled, allowed, excluded, routes)
        if found.result.rank() < best.result.rank():
            best = found
    return best


def _improve_seconds(options: SolverOptions) -> float | None:
    if options.time_limit_s is None:
        return None  # deterministic: by sweeps
    return min(IMPROVE_MAX_S, IMPROVE_SHARE * options.time_limit_s)


def _improved(
    problem: RoutingProblem,
    coupled: RoutingProblem,
    allowed: Mapping[int, Sequence[int]],
    excluded: Mapping[int, Unserved],
    candidates: Sequence[_Candidate],
    options: SolverOptions,
) -> _Candidate | None:
    """The best built or repaired candidate improved by ``construct.improve`` (one run, its
    time ``IMPROVE_SHARE`` of the day's limit, ``IMPROVE_MAX_S`` at most; by sweeps in
    deterministic mode), or None if there is none."""
    built = [c for c in candidates if c.built]
    if not built:
        return None
    start = min(built, key=lambda c: c.result.rank())
    routes = construct.improve(coupled, start.result.routes(), allowed, _improve_seconds(options))
    served = {s for trips in routes.values() for trip in trips for s in trip}
    routes, left = construct.insert(  # the room moves made may take stops left out
        coupled, routes, [s for s in allowed if s not in served], allowed
    )
    result = evaluate(
        coupled, routes, construct.unserved_reasons(coupled, left, excluded, _used(routes))
    )
    if violations(problem, result):  # construct checks the same rules: a bug in one of them
        raise AssertionError("improved rounds break a rule")
    return _Candidate(f"{start.name}+improved", result, True)


def _not_placed(problem: RoutingProblem, u: Unserved, seconds: float, rounds: int) -> Unserved:
    """What is known of a stop no engine placed, no more: a trip of its own would serve it
    (the diagnosis found no obstacle), the searches found no room for it in their time."""
    stop = problem.stops[u.stop]
    name = stop.site_id + (f" ({stop.label})" if stop.label else "")
    more = f", after {rounds} more search(es) with twice the time" if rounds else ""
    return Unserved(
        u.stop,
        UnservedReason.NOT_PLACED,
        f"{name}: a vehicle could serve it on a trip of its own, but no engine found room "
        f"for it among the day's rounds in {seconds:.0f} s of search{more} (window "
        f"{clock(stop.window[0])}-{clock(stop.window[1])}); give the search more time "
        "(--time-limit), add a vehicle or widen the window",
    )


def penalized_cost(result: RoutingResult, options: SolverOptions) -> float:
    """Cost with each stop left out for want of room priced as in OR-Tools' objective (the
    value progress shows; stops no vehicle can serve are not counted, as in that model)."""
    placeable = (UnservedReason.FLEET_SATURATED, UnservedReason.NOT_PLACED)
    saturated = sum(u.reason in placeable for u in result.unserved)
    return result.cost + options.mandatory_penalty_eur * saturated


def _valid(problem: RoutingProblem, result: RoutingResult) -> bool:
    return result.found_solution and not violations(problem, result)


PyvrpTask = Callable[[], list[_Candidate]]

FIRST_ROUND_SHARE = 0.55
"""Share of PyVRP's time for its first round (``pyvrp_rounds``); the others share the rest."""

PYVRP_ROUNDS = 4
"""PyVRP rounds at most on a day whose rounds its model cannot check exactly."""


def _hidden_loading(problem: RoutingProblem, routes: InitialRoutes) -> dict[int, float]:
    """Per delivery in ``routes``, the minutes of hub loading PyVRP's model counts after it
    although they come before the trip leaves: the loading of what is still on board."""
    rate = problem.hub_minutes_per_100kg / 100.0
    out: dict[int, float] = {}
    for trips in routes.values():
        for trip in trips:
            still = 0.0
            for s in reversed(trip):
                if problem.stops[s].kind is StopKind.DELIVERY:
                    still += problem.stops[s].kg
                    out[s] = rate * (still - problem.stops[s].kg)
    return out


def pyvrp_rounds(
    problem: RoutingProblem,
    coupled: RoutingProblem,
    allowed: Mapping[int, Sequence[int]],
    options: SolverOptions,
    initial_routes: InitialRoutes | None,
) -> list[pyvrp_engine.PyvrpOutcome]:
    """PyVRP on the day with hub deadlines derived beforehand; then, if collections feed
    deliveries or loading takes time per kg, further rounds from the previous one's rounds,
    with each pickup due at the hub when they unload it and windows closing earlier by the
    loading time the model missed (as ``solver.solve`` tightens its deadlines), until the
    rounds are valid as they are or ``PYVRP_ROUNDS`` are done."""
    coupled_day = any(s.supplied_by for s in problem.stops)
    more = coupled_day or problem.hub_minutes_per_100kg > 0
    share = FIRST_ROUND_SHARE if more else 1.0
    limit = options.time_limit_s

    def run(
        day: RoutingProblem,
        fraction: float,
        start: InitialRoutes | None,
        lateness: Mapping[int, float] | None,
    ) -> pyvrp_engine.PyvrpOutcome:
        able, _ = servable(day)
        return pyvrp_engine.search(
            day,
            sorted(able),
            able,
            time_limit_s=None if limit is None else limit * fraction,
            iterations=max(1, round(options.pyvrp_iterations * fraction)),
            seed=options.searches[0].seed,
            initial_routes=start,
            lateness=lateness,
        )

    outcomes = [run(coupled, share, initial_routes, None)]
    lateness: dict[int, float] = {}
    for _ in range(PYVRP_ROUNDS - 1 if more else 0):
        routes = outcomes[-1].routes
        timed = with_actual_deadlines(problem, routes)
        valid = not violations(problem, timed)
        if not routes or (valid and (not coupled_day or len(outcomes) > 1)):
            break  # a coupled day gets a second round: the deadlines it meets free deliveries
        unloaded = {v.stop: t.end for t in timed.trips for v in t.visits}
        stops = list(coupled.stops)
        for pickup in {p for stop in problem.stops for p in stop.supplied_by}:
            if problem.stops[pickup].hub_deadline is None and pickup in unloaded:
                deadline = unloaded[pickup] + SAFETY_MINUTES
                stops[pickup] = replace(stops[pickup], hub_deadline=deadline)
        for s, minutes in _hidden_loading(problem, routes).items():
            lateness[s] = max(lateness.get(s, 0.0), minutes)
        fraction = (1 - share) / (PYVRP_ROUNDS - 1)
        outcomes.append(run(replace(coupled, stops=tuple(stops)), fraction, routes, lateness))
    return outcomes


def _pyvrp_candidates(
    problem: RoutingProblem,
    coupled: RoutingProblem,
    allowed: Mapping[int, Sequence[int]],
    excluded: Mapping[int, Unserved],
    options: SolverOptions,
    initial_routes: InitialRoutes | None,
    fleet: Sequence[int] | None = None,
) -> list[_Candidate]:
    """Each PyVRP round's rounds settled (valid or repaired) where the search ran: in a
    child process, the repairs of two searches take both cores. With ``fleet`` (fewer
    drivers than vehicles: PyVRP has no limit on the vehicles used), the search sees only
    those vehicles."""
    if fleet is None:
        found = [o.routes for o in pyvrp_rounds(problem, coupled, allowed, options, initial_routes)]
    else:
        index = {v: k for k, v in enumerate(fleet)}

        def part(day: RoutingProblem) -> RoutingProblem:
            return replace(day, vehicles=tuple(day.vehicles[v] for v in fleet), drivers=None)

        start = (
            {index[v]: trips for v, trips in initial_routes.items() if v in index}
            if initial_routes
            else None
        )
        outcomes = pyvrp_rounds(part(problem), part(coupled), allowed, options, start)
        found = [{fleet[k]: trips for k, trips in o.routes.items()} for o in outcomes]
    return [_settle("pyvrp", problem, coupled, allowed, excluded, routes) for routes in found]


def _pyvrp_child(connection: Connection, task: PyvrpTask) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    try:
        connection.send(task())
    except BaseException:
        connection.send(SearchCrashed(traceback.format_exc()))
    finally:
        connection.close()


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


class _PyvrpSearch:
    """PyVRP in a child process (or in this one when processes cannot be started)."""

    def __init__(
        self,
        problem: RoutingProblem,
        coupled: RoutingProblem,
        allowed: Mapping[int, Sequence[int]],
        excluded: Mapping[int, Unserved],
        options: SolverOptions,
        initial_routes: InitialRoutes | None,
        in_child: bool,
        fleet: Sequence[int] | None = None,
    ) -> None:
        self.task: PyvrpTask = partial(
            _pyvrp_candidates,
            problem,
            coupled,
            dict(allowed),
            dict(excluded),
            options,
            initial_routes,
            fleet,
        )
        self.time_limit_s = options.time_limit_s
        self.process: Any = None
        self.receiver: Connection | None = None
        if in_child and not multiprocessing.current_process().daemon:
            ctx = _context()
            self.receiver, sender = ctx.Pipe(duplex=False)
            self.process = ctx.Process(target=_pyvrp_child, args=(sender, self.task), daemon=True)
            self.process.start()
            sender.close()

    def result(self) -> list[_Candidate]:
        """The settled rounds of each PyVRP round, or SearchCrashed (with what went wrong)."""
        if self.process is None:
            try:
                return self.task()
            except Exception:
                raise SearchCrashed(traceback.format_exc()) from None
        assert self.receiver is not None
        wait = None if self.time_limit_s is None else self.time_limit_s + CHILD_GRACE_S
        try:
            if not self.receiver.poll(wait):
                raise SearchCrashed(f"no answer {wait} s after the search started")
            received = self.receiver.recv()
        except (EOFError, OSError):
            raise SearchCrashed(
                f"the search process died (exit code {self.process.exitcode})"
            ) from None
        finally:
            self.stop()
        if isinstance(received, SearchCrashed):
            raise received
        assert isinstance(received, list)
        return received

    def stop(self) -> None:
        if self.process is not None:
            self.process.join(timeout=1)
            if self.process.is_alive():
                self.process.terminate()
                self.process.join(timeout=5)


def ortools_fits(problem: RoutingProblem, servable_stops: int) -> bool:
    """Whether OR-Tools' model of the day is one it searches well: few trip slots and one
    territory. Beyond that it measured far behind PyVRP (multi-trip days with releases: +10 to
    +61% against +0.2 to +4.9%; benchmarks/README.md), so ``auto`` gives its core to a
    second PyVRP search instead."""
    slots = sum(v.max_trips for v in problem.vehicles)
    return slots <= FLEET_SLOTS and servable_stops <= TERRITORY_STOPS


def _search(
    problem: RoutingProblem,
    coupled: RoutingProblem,
    allowed: Mapping[int, Sequence[int]],
    excluded: Mapping[int, Unserved],
    options: SolverOptions,
    initial_routes: InitialRoutes | None,
    progress: Progress | None,
    fleets: Sequence[Sequence[int] | None] = (None, None),
) -> tuple[list[_Candidate], list[str]]:
    """The engines' results (valid or repaired), and the crashes met; ``fleets``: the
    vehicles each PyVRP search sees (None: all)."""
    candidates: list[_Candidate] = []
    crashes: list[str] = []
    use_ortools = options.engine == "ortools" or (
        options.engine == "auto" and ortools_fits(problem, len(allowed))
    )
    searches: list[_PyvrpSearch] = []
    if options.engine in ("auto", "pyvrp") and allowed:
        auto = options.engine == "auto"
        searches.append(
            _PyvrpSearch(
                problem,
                coupled,
                allowed,
                excluded,
                options,
                initial_routes,
                in_child=auto,
                fleet=fleets[0],
            )
        )
        if auto and not use_ortools:  # the second core: PyVRP again, another seed
            other = replace(
                options, searches=tuple(replace(c, seed=c.seed + 1) for c in options.searches)
            )
            searches.append(
                _PyvrpSearch(
                    problem,
                    coupled,
                    allowed,
                    excluded,
                    other,
                    initial_routes,
                    in_child=False,
                    fleet=fleets[1],
                )
            )
    try:
        if use_ortools:
            # On two cores beside PyVRP, OR-Tools runs one search; alone, its usual two.
            chosen = replace(options, workers=1) if searches else options
            try:
                found = ortools_solve_day(problem, chosen, progress, initial_routes)
            except Exception:
                crashes.append("ortools: " + traceback.format_exc())
            else:
                if found.statistics.get("crashes"):
                    crashes.append(str(found.statistics["crashes"]))
                if _valid(problem, found):
                    candidates.append(_Candidate("ortools", found))
                elif found.found_solution:
                    routes = found.routes()
                    candidates.append(
                        _settle("ortools", problem, coupled, allowed, excluded, routes)
                    )
        for search in reversed(searches):  # the one in this process first, while the child runs
            try:
                settled = search.result()
            except SearchCrashed as crash:
                crashes.append(f"pyvrp: {crash}")
                continue
            if progress is not None and settled:
                progress(min(penalized_cost(c.result, options) for c in settled))
            candidates += settled
    finally:
        for search in searches:
            search.stop()
    return candidates, crashes


def solve(
    problem: RoutingProblem,
    options: SolverOptions | None = None,
    *,
    initial_routes: InitialRoutes | None = None,
    progress: Progress | None = None,
) -> RoutingResult:
    """The day's best valid rounds found by the engines of ``options.engine`` within
    ``options.time_limit_s`` (see the module's docstring for what comes first)."""
    options = options or SolverOptions()
    started = time.perf_counter()
    if progress is not None:
        progress = improving(progress)
    coupled = derive_hub_deadlines(problem)
    allowed, excluded = servable(coupled)
    candidates: list[_Candidate] = []
    if initial_routes:
        candidates.append(
            _settle("warm start", problem, coupled, allowed, excluded, initial_routes)
        )
    building = time.perf_counter()
    candidates.append(_construction(problem, coupled, allowed, excluded))
    built_s = time.perf_counter() - building
    if progress is not None:
        progress(min(penalized_cost(c.result, options) for c in candidates))
    crashes: list[str] = []
    incumbent = min(candidates, key=lambda c: c.result.rank()).result.routes()
    fleets = (driver_fleet(problem, allowed, incumbent), None)  # the second: repaired after
    start = initial_routes
    if start is None and problem.driver_limit < len(problem.vehicles) and incumbent:
        start = incumbent  # OR-Tools' first solutions fill the drivers greedily too
    chosen = options
    if options.time_limit_s is not None:
        left = options.time_limit_s - (time.perf_counter() - started)
        improving_s = _improve_seconds(options) or 0.0
        reserve = min(RESERVE_SHARE * left, improving_s + SETTLES * built_s)
        chosen = replace(options, time_limit_s=max(left - reserve, options.time_limit_s * 0.2))
    rounds = 0
    while True:
        found, crashed = _search(
            problem, coupled, allowed, excluded, chosen, start, progress, fleets
        )
        candidates += found
        crashes += crashed
        best = min(candidates, key=lambda c: c.result.rank())
        if best.built:  # an engine's rounds are better as they are: no time spent here
            improved = _improved(problem, coupled, allowed, excluded, candidates, chosen)
            if improved is not None:
                candidates.append(improved)
                best = min(candidates, key=lambda c: c.result.rank())
        saturated = any(u.reason is UnservedReason.FLEET_SATURATED for u in best.result.unserved)
        if (
            not saturated
            or options.time_limit_s is None
            or options.time_limit_s >= MORE_TIME_MAX_S
            or rounds >= MORE_TIME_ROUNDS
        ):
            break
        rounds += 1
        chosen = replace(chosen, time_limit_s=min(MORE_TIME_MAX_S, options.time_limit_s * 2))
    statistics: dict[str, float | int | str] = {
        **best.result.statistics,
        "engine": best.name,
        "candidates": ", ".join(
            f"{c.name} {c.result.cost:.2f}"
            + (f" ({c.result.unserved_mandatory} out)" if c.result.unserved_mandatory else "")
            for c in candidates
        ),
    }
    result = best.result
    if rounds:
        statistics["more_time_rounds"] = rounds
    if crashes:
        statistics["crashes"] = "\n".join(crashes)
    if initial_routes:
        statistics["warm_start"] = 1
    searched = time.perf_counter() - started
    result = replace(
        result,
        unserved=tuple(
            _not_placed(problem, u, searched, rounds)
            if u.reason is UnservedReason.FLEET_SATURATED
            else u
            for u in result.unserved
        ),
    )
    return replace(result, seconds=time.perf_counter() - started, statistics=statistics)
