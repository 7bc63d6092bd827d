"""The weekly plan: one snapshot of the inputs -> allocation -> rounds of each day -> record."""

from __future__ import annotations

import dataclasses
import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Engine

from foodchain.allocation import AllocationParameters, AllocationProblem, AllocationResult, allocate
from foodchain.allocation.load import problem_of
from foodchain.consolidation import consolidate_flows
from foodchain.errors import FoodchainError
from foodchain.inputs import Snapshot, read_snapshot
from foodchain.plan.kpis import compute_kpis
from foodchain.plan.limits import (
    DEFAULT_SOLUTION_LIMIT,
    DEFAULT_TIME_LIMIT_S,
    MAX_SEED,
    MAX_SOLUTION_LIMIT,
    MAX_TIME_LIMIT_S,
    PYVRP_ITERATIONS_PER_SOLUTION,
)
from foodchain.plan.record import PlanRecord, build_record, earlier_rounds
from foodchain.plan.rounds import DayRounds, route_flows
from foodchain.routing.options import SolverOptions
from foodchain.routing.travel import Travel
from foodchain.stock import carry_over
from foodchain.weeks import Week


@dataclass(frozen=True)
class PlanOptions:
    """How to plan; ``deterministic`` replaces time limits by work limits (same plan twice)."""

    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    """Routing search time for the week, shared among the days by their number of stops."""
    seed: int = 0
    deterministic: bool = False
    solution_limit: int = DEFAULT_SOLUTION_LIMIT
    """Deterministic mode: solutions the routing search may find per day (its work budget;
    PyVRP gets ``PYVRP_ITERATIONS_PER_SOLUTION`` iterations per solution)."""
    allocation: AllocationParameters = field(default_factory=AllocationParameters)
    language: str | None = None
    """Documents' language; the scenario's setting by default."""
    warm_start_run: int | None = None
    """The stored run whose rounds the routing searches start from (``earlier``), recorded."""
    engine: str = "auto"
    """Routing engine (``SolverOptions.engine``)."""

    def __post_init__(self) -> None:
        """Refuse values no run can store or no search can use, before any work is done."""
        if not (math.isfinite(self.time_limit_s) and 0 < self.time_limit_s <= MAX_TIME_LIMIT_S):
            raise FoodchainError(
                f"time limit {self.time_limit_s}: give a number of seconds above 0 and at most "
                f"{MAX_TIME_LIMIT_S:g}"
            )
        if not 0 <= self.seed <= MAX_SEED:
            raise FoodchainError(f"seed {self.seed}: give a whole number from 0 to {MAX_SEED}")
        if not 1 <= self.solution_limit <= MAX_SOLUTION_LIMIT:
            raise FoodchainError(
                f"solution limit {self.solution_limit}: give a whole number from 1 to "
                f"{MAX_SOLUTION_LIMIT}"
            )

    def parameters(self) -> dict[str, Any]:
        """What a run records of how it was made."""
        return {
            "time_limit_s": self.time_limit_s,
            "seed": self.seed,
            "deterministic": self.deterministic,
            "solution_limit": self.solution_limit if self.deterministic else None,
            "allocation": dataclasses.asdict(self.allocation),
            "language": self.language,
            "warm_start_run": self.warm_start_run,
            "engine": self.engine,
        }


@dataclass(frozen=True)
class Plan:
    """A finished plan: the record documents are made from, and how it was made."""

    record: PlanRecord
    fingerprint: str
    parameters: dict[str, Any]
    allocation_problem: AllocationProblem
    allocation: AllocationResult
    rounds: list[DayRounds]
    seconds: float


StageProgress = Callable[[str, float | None], None]
"""Called with a stage ('allocation: canteens', 'routing 2026-12-03') and, when the solver
improves, its objective value."""


def _solver_options(options: PlanOptions) -> SolverOptions:
    base = SolverOptions(engine=options.engine)
    searches = tuple(replace(s, seed=s.seed + options.seed) for s in base.searches)
    if options.deterministic:
        return replace(
            base,
            time_limit_s=None,
            solution_limit=options.solution_limit,
            searches=searches,
            pyvrp_iterations=PYVRP_ITERATIONS_PER_SOLUTION * options.solution_limit,
        )
    return replace(base, searches=searches)


def plan_snapshot(
    snapshot: Snapshot,
    options: PlanOptions | None = None,
    progress: StageProgress | None = None,
    earlier: PlanRecord | None = None,
) -> Plan:
    """Allocate the week, plan each day's rounds, and gather the record with its KPIs.

    With ``earlier`` (a stored plan of the week), each day whose stops are the same as in
    it starts its search from its rounds: a re-plan after small changes of quantities keeps
    the drivers' rounds unless it finds cheaper ones."""
    options = options or PlanOptions()
    started = time.perf_counter()

    def report(stage: str) -> Callable[[float], None]:
        def improved(value: float) -> None:
            if progress is not None:
                progress(stage, value)

        if progress is not None:
            progress(stage, None)
        return improved

    def tier(name: str, value: float) -> None:
        if progress is not None:
            progress(f"allocation: {name}", value)

    stage_started = time.perf_counter()
    seconds: dict[str, float] = {}

    def stage_done(name: str) -> None:
        nonlocal stage_started
        now = time.perf_counter()
        seconds[name] = round(now - stage_started, 3)
        stage_started = now

    problem = problem_of(snapshot)
    stage_done("prepare")
    report("allocation")
    allocation = allocate(problem, options.allocation, tier)
    consolidated = consolidate_flows(problem, allocation.flows, snapshot.catalogue)
    allocation = replace(allocation, flows=consolidated.flows)
    stage_done("allocation")
    rounds = route_flows(
        snapshot.catalogue,
        snapshot.vehicles,
        allocation.flows,
        snapshot.matrix,
        _solver_options(options),
        progress=lambda day: report(f"routing {day.isoformat()}"),
        week_seconds=options.time_limit_s,
        earlier=earlier_rounds(earlier) if earlier is not None else None,
        fills=allocation.fills,
        brought=consolidated.brought,
    )
    stage_done("routing")
    record = build_record(
        snapshot.catalogue,
        snapshot.vehicles,
        allocation,
        rounds,
        Travel.of(snapshot.catalogue.settings, snapshot.matrix),
        scenario=snapshot.scenario,
        language=options.language,
    )
    record.collections = consolidated.changes
    record.stock_in = list(snapshot.stock)
    record.stock_from_run = snapshot.stock_run
    unsold: dict[tuple[str, str], float] = defaultdict(float)
    for surplus in allocation.surplus:
        unsold[(surplus.farm_id, surplus.product_id)] += surplus.kg
    record.stock_out, record.stock_lost = carry_over(
        snapshot.forecasts,
        snapshot.stock,
        unsold,
        {p.id: p.shelf_life_days for p in snapshot.catalogue.products.values()},
    )
    record.kpis = compute_kpis(record)
    stage_done("record")
    record.statistics["stage_seconds"] = seconds
    return Plan(
        record=record,
        fingerprint=snapshot.fingerprint(),
        parameters=options.parameters(),
        allocation_problem=problem,
        allocation=allocation,
        rounds=rounds,
        seconds=time.perf_counter() - started,
    )


def plan_week(
    engine: Engine,
    week: Week,
    options: PlanOptions | None = None,
    progress: StageProgress | None = None,
    earlier: PlanRecord | None = None,
) -> Plan:
    """Read the week's snapshot from the database and plan it (see ``plan_snapshot``)."""
    return plan_snapshot(read_snapshot(engine, week), options, progress, earlier)
