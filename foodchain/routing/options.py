"""How to search for a day's rounds: engines, time or work limits, OR-Tools strategies.

Plain data shared by every engine and by the callers; nothing here imports a solver.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

Progress = Callable[[float], None]
"""Called with each improving objective value, in euros (cost + penalties)."""


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


def improving(progress: Progress) -> Progress:
    """Passes on only values below every earlier one (rounds and searches interleave)."""
    best = [math.inf]

    def forward(value: float) -> None:
        if value < best[0]:
            best[0] = value
            progress(value)

    return forward
