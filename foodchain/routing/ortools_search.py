"""OR-Tools searches of a model: one in this process, others in child processes at once.

Searches (chosen by measurement on Solomon, see benchmarks/README.md): parallel cheapest
insertion, then OR-Tools' iterated local search (SISR ruin-and-recreate, simulated annealing
acceptance at automatic temperatures, greedy descent in between, without the insertion-LNS
operators that ruin-and-recreate makes redundant). Two such searches run in two processes, the
second with another stop order and whole-route ruins as well; the better result is kept.
Deterministic runs (no time limit) and warm starts use guided local search, which OR-Tools'
ILS does not support. A child's crash comes back as an outcome that says so.
"""

from __future__ import annotations

import math
import multiprocessing
import signal
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from queue import Empty
from typing import Any

from foodchain.routing.integers import COST_UNITS_PER_EURO
from foodchain.routing.options import Progress, SolverOptions
from foodchain.routing.ortools_model import Model
from foodchain.routing.problem import InitialRoutes, RoutingProblem


@dataclass
class Outcome:
    routes: dict[int, list[list[int]]]
    dropped: list[int]
    objective: int | None
    solutions: int
    status: str
    config_index: int
    seconds: float
    best_by_time: list[tuple[float, int]] = field(default_factory=list)
    crash: str = ""
    """What went wrong if the search failed (its traceback), else empty."""


def search_once(
    problem: RoutingProblem,
    included: Sequence[int],
    allowed: dict[int, list[int]],
    options: SolverOptions,
    config_index: int,
    initial_routes: InitialRoutes | None,
    penalize_mandatory: bool,
    report: Callable[[int], None] | None,
) -> Outcome:
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
    model = Model(problem, included, allowed, options, config.seed, penalize_mandatory)
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
        return Outcome(
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
    return Outcome(
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

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    problem, included, allowed, options, config_index, initial_routes, penalize = arguments
    try:
        outcome = search_once(
            problem, included, allowed, options, config_index, initial_routes, penalize, report
        )
    except BaseException:
        outcome = _crashed(included, config_index, traceback.format_exc())
    try:
        connection.send(outcome)
    finally:
        connection.close()


def _crashed(included: Sequence[int], config_index: int, what: str) -> Outcome:
    return Outcome({}, list(included), None, 0, "CRASHED", config_index, 0.0, crash=what)


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def parallel_search(
    problem: RoutingProblem,
    included: Sequence[int],
    allowed: dict[int, list[int]],
    options: SolverOptions,
    initial_routes: InitialRoutes | None,
    progress: Progress | None,
    penalize_mandatory: bool,
) -> list[Outcome]:
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

    try:
        outcomes = [
            search_once(
                problem, included, allowed, options, 0, initial_routes, penalize_mandatory, report
            )
        ]
        for config_index, (process, receiver) in enumerate(children, start=1):
            wait = None if options.time_limit_s is None else options.time_limit_s + 60
            try:
                received = receiver.recv() if receiver.poll(wait) else None
            except (EOFError, OSError):
                received = None
            if not isinstance(received, Outcome):
                what = f"search {config_index} gave no answer (exit code {process.exitcode})"
                received = _crashed(included, config_index, what)
            outcomes.append(received)
            drain()
    finally:  # Ctrl-C or an error here: no search process outlives this one
        for process, _ in children:
            process.join(timeout=1)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
    return outcomes
