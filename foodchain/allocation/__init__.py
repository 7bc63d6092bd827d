"""Allocation: who supplies what to whom, and what goes in each basket — optimal, fair, explained.

    problem = build_problem(week, catalogue, forecasts, demand, km_to_hub)
    result = allocate(problem)          # AllocationResult; never prints

``allocate_week`` does the same from the database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from foodchain.allocation.result import (
    BASKET,
    CANTEEN,
    SHOP,
    AllocationResult,
    BasketFill,
    BasketLine,
    Fairness,
    Flow,
    Shortfall,
    Surplus,
    overall_fairness,
)
from foodchain.lazy import lazy_exports

if TYPE_CHECKING:
    from foodchain.allocation.parameters import AllocationParameters, TierStats
    from foodchain.allocation.problem import AllocationProblem, build_problem

__getattr__ = lazy_exports(
    __name__,
    {
        "AllocationParameters": "foodchain.allocation.parameters",
        "AllocationProblem": "foodchain.allocation.problem",
        "TierStats": "foodchain.allocation.parameters",
        "build_problem": "foodchain.allocation.problem",
    },
)
"""The solver (OR-Tools) and the problem's builder (the catalogue, the database's models) are
imported when first used, not by readers of results."""

__all__ = [
    "BASKET",
    "CANTEEN",
    "SHOP",
    "AllocationParameters",
    "AllocationProblem",
    "AllocationResult",
    "BasketFill",
    "BasketLine",
    "Fairness",
    "Flow",
    "Shortfall",
    "Surplus",
    "TierStats",
    "allocate",
    "build_problem",
    "overall_fairness",
]


def allocate(
    problem: AllocationProblem,
    params: AllocationParameters | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> AllocationResult:
    """Solve the week's allocation and explain every kg short and every kg unsold."""
    from foodchain.allocation.explain import explain_rules, explain_shortfalls, explain_surplus
    from foodchain.allocation.result import assemble
    from foodchain.allocation.solver import solve

    solution = solve(problem, params, progress)
    return assemble(
        problem,
        solution,
        explain_shortfalls(problem, solution),
        explain_surplus(problem, solution),
        explain_rules(problem, solution),
    )
