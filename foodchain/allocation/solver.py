"""Lexicographic LP/MIP for the allocation — the only module that imports OR-Tools' LP/MIP API.

The model is built as sparse arrays (no Python call per variable) and handed to OR-Tools
in one call (the model builder for GLOP and SCIP, MathOpt's model proto for HiGHS). Tiers
are solved in priority order; each optimum is then held (within ``tolerance``) as a
constraint while the next tier is optimised:

1. canteens: least kg short (an LP: baskets and shops are not in it);
2. baskets: the most baskets filled within their rules (a MIP: which products go in each
   size are binaries), then the weights closest to each size's mid-band;
3. shops: the most surplus kg taken by partner shops;
4. fairness: for each product, each farm's sold share closest to a common share;
5. transport: least kg·km from farms to the hub, then least purchase cost.

In large regions, offers that are interchangeable for every flow are routed as one class
(``Offers``); tiers 4 and 5 are one LP when its answer is perfectly fair
(``_fairness_with_transport``). Both are exact, or detected not to be and then not used.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import ortools.linear_solver.linear_solver_pb2 as linear_solver_pb2
import ortools.linear_solver.pywraplp as pywraplp
import scipy.sparse as sp
from ortools.linear_solver.python import model_builder_helper as mbh
from ortools.math_opt import (
    callback_pb2,
    model_parameters_pb2,
    model_pb2,
    parameters_pb2,
    result_pb2,
    solution_pb2,
)
from ortools.math_opt.core.python import solver as mathopt_solver

from foodchain.allocation.problem import AllocationProblem, BasketDelivery, Supply
from foodchain.errors import FoodchainError
from foodchain.organic import OrganicStatus

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_LP_SOLVERS = ("GLOP", "CLP", "SCIP")
"""PDLP (first-order) is left out: its answers missed the tiers' optima on the tiny scenario."""
_MIP_SOLVERS = ("HIGHS", "SCIP")
"""HiGHS is called through MathOpt's model proto: through the model builder (1.12 in OR-Tools
9.15) it crashed the process on the basket MIP and printed a banner."""


class AllocationFailedError(FoodchainError):
    """A tier of the allocation ended without any solution (its LP/MIP solver's status).

    Every tier has a solution by construction (shortfalls and surplus are variables), so this
    is a solver's numerical trouble or a time limit too short to find one: no allocation is
    returned, and the plan is not made."""

    def __init__(self, tier: str, status: str) -> None:
        super().__init__(
            f"the allocation's {tier} tier found no solution ({status}). Fix: run again; if it "
            "persists, give the allocation more time or report the week (foodchain plan "
            "--debug) with its inputs"
        )
        self.tier = tier
        self.status = status


@dataclass(frozen=True)
class AllocationParameters:
    lp_solver: str = "GLOP"
    """For the LP tiers (chosen by measurement: see benchmarks/README.md)."""
    mip_solver: str = "HIGHS"
    """For tier 2 (and tiers 3-5 when their basket choice is not fixed): HiGHS decided the
    basket probes of large regions where SCIP ran out of time (benchmarks/README.md)."""
    time_limit_s: float = 20.0
    """Per MIP solve; the best solution found so far is kept when it is reached."""
    relative_gap: float = 1e-4
    glop_parameters: str = ""
    """Extra GLOP settings, in the text format of its GlopParameters."""
    scip_parameters: str = ""
    """Extra SCIP settings, one ``name = value`` a line."""
    tolerance_abs: float = 1e-6
    """How far a lower tier may move a higher tier's optimum (kg, or the tier's unit) ..."""
    tolerance_rel: float = 1e-6
    """... plus this share of it."""
    min_kg_per_product: float = 0.2
    """Least kg of a product (sold by weight) worth putting in a basket."""
    basket_fill_steps: int = 8
    """Bisection steps on the share of baskets filled when supply cannot fill them all."""
    probe_time_limit_s: float = 2.0
    """Per feasibility probe of that search; a probe undecided by then counts as 'no'."""
    weight_time_limit_s: float = 5.0
    """For the weights once that search has found the share it fills: the search's own
    solution for that share is the start, the best found by then is kept (the gap is in
    the tier's bound)."""
    reroute_canteens_in_tier2: bool = False
    """While searching how many baskets can be filled, keep tier 1's canteen flows (fast);
    True lets the search re-route them too (exact, but a much larger MIP in large regions)."""
    keep_canteen_flows: bool = False
    """Keep tier 1's canteen flows in tiers 3-5 too: fairness and transport then act through
    baskets and shops only; much faster in large regions (see benchmarks/README.md)."""
    pool_offers_above: int = 20_000
    """Above this many candidate flows, route classes of interchangeable offers as one (exact
    unless an EGalim row binds, which is detected: then solved again per farm; see ``Offers``).
    Below, one column per farm and destination (fast enough, and the same vertices as ever)."""
    fix_baskets_after_tier2: bool = True
    """Keep tier 2's choice of products in each basket for tiers 3-5 (then LPs, much faster);
    False re-optimises the choice in every tier (a MIP each)."""
    cost_per_kgkm: float = 1.0
    """Tier 5 weighs € of purchase against kg·km: 1 € counts as this many kg·km."""

    def __post_init__(self) -> None:
        if self.lp_solver not in _LP_SOLVERS or self.mip_solver not in _MIP_SOLVERS:
            raise ValueError(f"solvers: LP one of {_LP_SOLVERS}, MIP one of {_MIP_SOLVERS}")


@dataclass(frozen=True)
class TierStats:
    name: str
    objective: float
    status: str
    seconds: float
    bound: float | None = None


@dataclass(frozen=True)
class Arcs:
    """Candidate flows of one kind: supply index, destination index, day, pickup day."""

    supply: IntArray
    target: IntArray
    day: IntArray
    pickup: IntArray

    @property
    def size(self) -> int:
        return int(self.supply.size)


@dataclass(frozen=True)
class Offers:
    """The offers the model sees: classes of interchangeable supplies.

    Supplies of one product with the same organic and quality status that reach exactly the
    same destinations on the same days are interchangeable for every flow: the model routes
    each class as one offer (its kg summed) and keeps one column per supply only for what
    depends on the farm (its kg sold: fairness, transport). Only the EGalim rows see prices
    inside a class: they are written with the class's least favourable price (see
    ``_Builder.egalim_certified``).
    """

    of_supply: IntArray
    """Class of each supply."""
    kg: FloatArray
    product: list[str]
    organic: FloatArray
    quality: FloatArray
    price_low: FloatArray
    price_high: FloatArray

    @property
    def size(self) -> int:
        return int(self.kg.size)


@dataclass
class Solution:
    """Raw values of a solved allocation, indexed like the problem and the arcs."""

    canteen_arcs: Arcs
    basket_arcs: Arcs
    """target = basket type index (into ``basket_type_ids``)."""
    shop_arcs: Arcs
    basket_type_ids: list[str]
    canteen_kg: FloatArray
    basket_kg: FloatArray
    shop_kg: FloatArray
    short_kg: FloatArray
    composition: dict[tuple[str, str], float]
    """(basket type, product) → kg per basket."""
    baskets_filled: dict[tuple[str, str, int], int]
    """(basket type, relay point, day) → baskets filled."""
    fill_share: dict[str, float]
    """Basket size → share of its baskets filled."""
    tiers: list[TierStats] = field(default_factory=list)
    status: str = "optimal"
    variables: int = 0
    constraints: int = 0
    integers: int = 0
    build_seconds: float = 0.0


class _Model:
    """Variables and rows as arrays; turned into an OR-Tools model on each solve."""

    def __init__(self) -> None:
        self.lb: list[FloatArray] = []
        self.ub: list[FloatArray] = []
        self.integer: list[npt.NDArray[np.bool_]] = []
        self.n = 0
        self.rows_i: list[IntArray] = []
        self.rows_j: list[IntArray] = []
        self.rows_v: list[FloatArray] = []
        self.row_lb: list[FloatArray] = []
        self.row_ub: list[FloatArray] = []
        self.m = 0
        self.duals: FloatArray | None = None
        """Row duals of the last LP solved."""

    def variables(
        self, count: int, lb: float, ub: float | FloatArray, integer: bool = False
    ) -> IntArray:
        self.lb.append(np.full(count, lb, dtype=np.float64))
        self.ub.append(np.broadcast_to(np.asarray(ub, dtype=np.float64), (count,)).copy())
        self.integer.append(np.full(count, integer))
        first = self.n
        self.n += count
        return np.arange(first, self.n, dtype=np.int64)

    def rows(
        self, row: IntArray, col: IntArray, coef: FloatArray, lb: FloatArray, ub: FloatArray
    ) -> None:
        """Rows numbered 0..len(lb)-1 locally; terms (row, col, coef) may repeat (summed)."""
        self.rows_i.append(np.asarray(row, dtype=np.int64) + self.m)
        self.rows_j.append(np.asarray(col, dtype=np.int64))
        self.rows_v.append(np.asarray(coef, dtype=np.float64))
        self.row_lb.append(np.asarray(lb, dtype=np.float64))
        self.row_ub.append(np.asarray(ub, dtype=np.float64))
        self.m += len(lb)

    def fix(self, cols: IntArray, values: FloatArray) -> None:
        """Pin variables to values (no longer integer: once every integer is pinned, an LP)."""
        lb, ub = np.concatenate(self.lb), np.concatenate(self.ub)
        integer = np.concatenate(self.integer)
        lb[cols], ub[cols], integer[cols] = values, values, False
        self.lb, self.ub, self.integer = [lb], [ub], [integer]

    def row(self, col: IntArray, coef: FloatArray, lb: float, ub: float) -> None:
        self.rows(np.zeros(len(col), dtype=np.int64), col, coef, np.array([lb]), np.array([ub]))

    def solve(
        self,
        objective: FloatArray,
        maximize: bool,
        solver_name: str,
        params: AllocationParameters,
        hint: FloatArray | None,
        integer: bool,
    ) -> tuple[str, float, FloatArray | None, float | None]:
        self.duals = None
        matrix = sp.csr_matrix(
            (
                np.concatenate(self.rows_v),
                (np.concatenate(self.rows_i), np.concatenate(self.rows_j)),
            ),
            shape=(self.m, self.n),
        )
        if solver_name == "HIGHS":
            return self._solve_mathopt(matrix, objective, maximize, params, integer, hint)
        helper = mbh.ModelBuilderHelper()
        fill: Any = helper.fill_model_from_sparse_data  # its stub mistypes numpy arrays
        fill(
            np.concatenate(self.lb),
            np.concatenate(self.ub),
            objective,
            np.concatenate(self.row_lb),
            np.concatenate(self.row_ub),
            matrix,
        )
        helper.set_maximize(maximize)
        if integer:
            for index in np.flatnonzero(np.concatenate(self.integer)):
                helper.set_var_integrality(int(index), True)
            if hint is not None:
                for position, value in enumerate(hint.tolist()):
                    helper.add_hint(position, value)
        if solver_name == "CLP":
            return self._solve_clp(helper, params)
        solver = mbh.ModelSolverHelper(solver_name)
        solver.enable_output(False)
        if solver_name == "GLOP" and params.glop_parameters:
            solver.set_solver_specific_parameters(params.glop_parameters)
        if solver_name == "SCIP" and integer:
            solver.set_solver_specific_parameters(
                f"limits/gap = {params.relative_gap}\n{params.scip_parameters}"
            )
        solver.set_time_limit_in_seconds(params.time_limit_s)
        solver.solve(helper)
        status = solver.status()
        if status == mbh.SolveStatus.OPTIMAL:
            label = "optimal"
        elif status == mbh.SolveStatus.FEASIBLE:
            label = "feasible"
        elif status == mbh.SolveStatus.INFEASIBLE:
            return "infeasible", math.nan, None, None
        else:
            return "no solution" if not solver.has_solution() else "feasible", math.nan, None, None
        bound = solver.best_objective_bound() if integer else None
        self.duals = None if integer else np.asarray(solver.dual_values())
        return label, solver.objective_value(), np.asarray(solver.variable_values()), bound

    def _solve_mathopt(
        self,
        matrix: sp.csr_matrix,
        objective: FloatArray,
        maximize: bool,
        params: AllocationParameters,
        integer: bool,
        hint: FloatArray | None,
    ) -> tuple[str, float, FloatArray | None, float | None]:
        """HiGHS through MathOpt's model proto (the arrays copied in, no call per variable)."""
        model = model_pb2.ModelProto()
        model.variables.ids.extend(range(self.n))
        model.variables.lower_bounds.extend(np.concatenate(self.lb).tolist())
        model.variables.upper_bounds.extend(np.concatenate(self.ub).tolist())
        model.variables.integers.extend(
            (np.concatenate(self.integer) if integer else np.zeros(self.n, dtype=bool)).tolist()
        )
        model.linear_constraints.ids.extend(range(self.m))
        model.linear_constraints.lower_bounds.extend(np.concatenate(self.row_lb).tolist())
        model.linear_constraints.upper_bounds.extend(np.concatenate(self.row_ub).tolist())
        matrix.sum_duplicates()
        coo = matrix.tocoo()  # row-major, as the proto wants
        model.linear_constraint_matrix.row_ids.extend(coo.row.tolist())
        model.linear_constraint_matrix.column_ids.extend(coo.col.tolist())
        model.linear_constraint_matrix.coefficients.extend(coo.data.tolist())
        nonzero = np.flatnonzero(objective)
        model.objective.maximize = maximize
        model.objective.linear_coefficients.ids.extend(nonzero.tolist())
        model.objective.linear_coefficients.values.extend(objective[nonzero].tolist())
        parameters = parameters_pb2.SolveParametersProto()
        parameters.time_limit.FromNanoseconds(int(params.time_limit_s * 1e9))
        if integer:
            parameters.relative_gap_tolerance = params.relative_gap
        model_parameters = model_parameters_pb2.ModelSolveParametersProto()
        if integer and hint is not None:
            start = model_parameters.solution_hints.add()
            start.variable_values.ids.extend(range(self.n))
            start.variable_values.values.extend(hint.tolist())
        result = mathopt_solver.solve(
            model,
            parameters_pb2.SOLVER_TYPE_HIGHS,
            parameters_pb2.SolverInitializerProto(),
            parameters,
            model_parameters,
            None,
            callback_pb2.CallbackRegistrationProto(),
            None,
            None,
        )
        reason = result.termination.reason
        if reason == result_pb2.TERMINATION_REASON_INFEASIBLE:
            return "infeasible", math.nan, None, None
        if not result.solutions or not result.solutions[0].HasField("primal_solution"):
            return "no solution", math.nan, None, None
        primal = result.solutions[0].primal_solution
        if primal.feasibility_status != solution_pb2.SOLUTION_STATUS_FEASIBLE:
            return "no solution", math.nan, None, None
        values = np.zeros(self.n)
        values[np.array(primal.variable_values.ids, dtype=np.int64)] = primal.variable_values.values
        label = "optimal" if reason == result_pb2.TERMINATION_REASON_OPTIMAL else "feasible"
        bound = result.termination.objective_bounds.dual_bound if integer else None
        return label, primal.objective_value, values, bound

    def _solve_clp(
        self, helper: mbh.ModelBuilderHelper, params: AllocationParameters
    ) -> tuple[str, float, FloatArray | None, float | None]:
        """CLP is only reachable through the MPModel proto API (not the model builder's)."""
        request = linear_solver_pb2.MPModelRequest()
        to_proto: Any = mbh.to_mpmodel_proto  # untyped in its stub
        request.model.CopyFrom(to_proto(helper))
        request.solver_type = linear_solver_pb2.MPModelRequest.CLP_LINEAR_PROGRAMMING
        request.solver_time_limit_seconds = params.time_limit_s
        response = linear_solver_pb2.MPSolutionResponse()
        pywraplp.Solver.SolveWithProto(request, response)
        if response.status == linear_solver_pb2.MPSOLVER_OPTIMAL:
            label = "optimal"
        elif response.status == linear_solver_pb2.MPSOLVER_FEASIBLE:
            label = "feasible"
        elif response.status == linear_solver_pb2.MPSOLVER_INFEASIBLE:
            return "infeasible", math.nan, None, None
        else:
            return "no solution", math.nan, None, None
        self.duals = np.array(response.dual_value)
        return label, response.objective_value, np.array(response.variable_value), None


def _arcs(rows: list[tuple[int, int, int, int]]) -> Arcs:
    data = np.array(rows, dtype=np.int64).reshape(-1, 4)
    return Arcs(data[:, 0], data[:, 1], data[:, 2], data[:, 3])


def candidate_arcs(problem: AllocationProblem) -> tuple[Arcs, Arcs, Arcs, list[str]]:
    """Every flow the rules allow: product, organic rule, delivery day within shelf life."""
    by_product: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(problem.supplies):
        by_product[s.product_id].append(i)
    canteen: list[tuple[int, int, int, int]] = []
    for n, need in enumerate(problem.needs):
        for product in need.products:
            for i in by_product.get(product, []):
                supply = problem.supplies[i]
                if need.organic_only and not supply.organic:
                    continue
                pickup = problem.pickup_day(supply, need.day, need.leave_by)
                if pickup is not None:
                    canteen.append((i, n, need.day, pickup))
    type_ids = sorted({d.basket_type_id for d in problem.basket_deliveries if d.baskets > 0})
    days: dict[str, set[int]] = defaultdict(set)
    for d in problem.basket_deliveries:
        if d.baskets > 0:
            days[d.basket_type_id].add(d.day)
    basket: list[tuple[int, int, int, int]] = []
    for t, type_id in enumerate(type_ids):
        spec = problem.basket_types[type_id]
        latest = {day: problem.basket_leave_by(type_id, day) for day in days[type_id]}
        for i, supply in enumerate(problem.supplies):
            if spec.organic_only and not supply.organic:
                continue
            for day in sorted(days[type_id]):
                pickup = problem.pickup_day(supply, day, latest[day])
                if pickup is not None:
                    basket.append((i, t, day, pickup))
    shop: list[tuple[int, int, int, int]] = []
    for h, shop_spec in enumerate(problem.shops):
        for i, supply in enumerate(problem.supplies):
            if not shop_spec.takes(problem.products[supply.product_id].family):
                continue
            for day in sorted(shop_spec.days):  # the shop's first delivery day the produce reaches
                pickup = problem.pickup_day(supply, day, shop_spec.latest(day))
                if pickup is not None:
                    shop.append((i, h, day, pickup))
                    break
    return _arcs(canteen), _arcs(basket), _arcs(shop), type_ids


def offer_classes(
    supplies: tuple[Supply, ...], arcs: tuple[Arcs, Arcs, Arcs], pool: bool
) -> tuple[Offers, tuple[Arcs, Arcs, Arcs], tuple[IntArray, IntArray, IntArray]]:
    """Classes of interchangeable supplies (one per supply unless ``pool``), the arcs between
    classes and destinations, and for each supply arc the index of its class arc."""
    n = len(supplies)
    if pool:
        reach: list[list[tuple[int, int, int]]] = [[] for _ in range(n)]
        for kind, kind_arcs in enumerate(arcs):
            for i, t, day in zip(
                kind_arcs.supply.tolist(),
                kind_arcs.target.tolist(),
                kind_arcs.day.tolist(),
                strict=True,
            ):
                reach[i].append((kind, t, day))
        keys: dict[tuple[object, ...], int] = {}
        of_supply = np.array(
            [
                keys.setdefault((s.product_id, s.organic, s.quality, tuple(reach[i])), len(keys))
                for i, s in enumerate(supplies)
            ],
            dtype=np.int64,
        )
    else:
        of_supply = np.arange(n, dtype=np.int64)
    count = int(of_supply.max()) + 1 if n else 0
    kg = np.zeros(count)
    np.add.at(kg, of_supply, np.array([s.kg for s in supplies], dtype=np.float64))
    price = np.array([s.price_eur_per_kg for s in supplies], dtype=np.float64)
    low, high = np.full(count, np.inf), np.full(count, -np.inf)
    np.minimum.at(low, of_supply, price)
    np.maximum.at(high, of_supply, price)
    first = np.zeros(count, dtype=np.int64)
    first[of_supply[::-1]] = np.arange(n - 1, -1, -1)
    offers = Offers(
        of_supply,
        kg,
        [supplies[i].product_id for i in first.tolist()],
        np.array([supplies[i].organic for i in first.tolist()], dtype=np.float64),
        np.array([supplies[i].quality for i in first.tolist()], dtype=np.float64),
        low,
        high,
    )
    if not pool:
        identity = tuple(np.arange(a.size, dtype=np.int64) for a in arcs)
        return offers, arcs, (identity[0], identity[1], identity[2])
    class_arcs, maps = [], []
    for kind_arcs in arcs:
        key = np.stack([of_supply[kind_arcs.supply], kind_arcs.target, kind_arcs.day], axis=1)
        unique, index = np.unique(key.reshape(-1, 3), axis=0, return_inverse=True)
        class_arcs.append(Arcs(unique[:, 0], unique[:, 1], unique[:, 2], unique[:, 2]))
        maps.append(index.reshape(-1).astype(np.int64))
    return offers, (class_arcs[0], class_arcs[1], class_arcs[2]), (maps[0], maps[1], maps[2])


def _filled_counts(
    problem: AllocationProblem, shares: dict[str, float]
) -> dict[tuple[str, str, int], int]:
    """Baskets filled at each relay point when a share of each size can be filled.

    The share applies to the size's total, shared among its relay points in proportion to
    their baskets by largest remainder (ties: more baskets due, then earlier day, then relay
    id): half of 110 one-basket points is 55 baskets, not 110 × floor(0.5) = 0."""
    counts: dict[tuple[str, str, int], int] = {}
    by_size: dict[str, list[BasketDelivery]] = defaultdict(list)
    for d in problem.basket_deliveries:
        if d.baskets > 0:
            by_size[d.basket_type_id].append(d)
    for type_id, deliveries in by_size.items():
        share = shares[type_id]
        total = math.floor(share * sum(d.baskets for d in deliveries) + 1e-9)
        exact = {d: share * d.baskets for d in deliveries}
        floors = {d: min(d.baskets, math.floor(exact[d] + 1e-9)) for d in deliveries}
        left = total - sum(floors.values())
        order = sorted(
            deliveries,
            key=lambda d: (-(exact[d] - floors[d]), -d.baskets, d.day, d.relay_point_id),
        )
        for d in order:
            extra = 1 if left > 0 and floors[d] < d.baskets else 0
            left -= extra
            counts[(type_id, d.relay_point_id, d.day)] = floors[d] + extra
    return counts


def solve(
    problem: AllocationProblem,
    params: AllocationParameters | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> Solution:
    """Solve the five tiers in order. Never raises for shortage: shortage is in the result.

    In large regions (``pool_offers_above``), the tiers are first solved over classes of
    interchangeable offers; if an EGalim row could have been changed by that
    (``_Builder.egalim_certified``), they are solved again with one column per farm and
    destination."""
    params = params or AllocationParameters()
    started = time.perf_counter()
    canteen_arcs, basket_arcs, shop_arcs, type_ids = candidate_arcs(problem)
    arcs = (canteen_arcs, basket_arcs, shop_arcs)
    spent: list[TierStats] = []
    if sum(a.size for a in arcs) > params.pool_offers_above:
        pooled = _solve(problem, params, progress, arcs, type_ids, True, started)
        if isinstance(pooled, Solution):
            return pooled
        spent = [
            dataclasses.replace(t, name=f"pooled {t.name}", status="discarded") for t in pooled
        ]
    solution = _solve(problem, params, progress, arcs, type_ids, False, time.perf_counter())
    assert isinstance(solution, Solution)
    solution.tiers = spent + solution.tiers
    return solution


def _solve(
    problem: AllocationProblem,
    params: AllocationParameters,
    progress: Callable[[str, float], None] | None,
    arcs: tuple[Arcs, Arcs, Arcs],
    type_ids: list[str],
    pool: bool,
    started: float,
) -> Solution | list[TierStats]:
    """The five tiers; with ``pool``, the tiers so far instead of a solution as soon as one
    is not certified optimal for the farms' own prices."""
    builder = _Builder(problem, params, arcs, type_ids, pool)
    build_seconds = time.perf_counter() - started
    tiers: list[TierStats] = []

    def run(
        name: str,
        model: _Model,
        objective: FloatArray,
        maximize: bool,
        solver: str,
        integer: bool,
        hint: FloatArray | None,
        time_limit_s: float | None = None,
    ) -> tuple[str, float, FloatArray | None]:
        clock = time.perf_counter()
        limited = (
            params
            if time_limit_s is None
            else dataclasses.replace(params, time_limit_s=time_limit_s)
        )
        status, value, values, bound = model.solve(
            objective, maximize, solver, limited, hint, integer
        )
        tiers.append(TierStats(name, value, status, time.perf_counter() - clock, bound))
        if progress is not None and values is not None:
            progress(name, value)
        return status, value, values

    # Tier 1: canteens, an LP without baskets or shops.
    first = builder.model(counts=None)
    objective = builder.objective_short(first)
    status, short_opt, values = run(
        "canteens", first, objective, False, params.lp_solver, False, None
    )
    if values is None:
        raise AllocationFailedError("canteens", status)
    if pool and not builder.egalim_certified(first):
        return tiers
    hold_short = short_opt + params.tolerance_abs + params.tolerance_rel * abs(short_opt)
    canteen_flows = values[: builder.ca.size]

    # Tier 2: baskets. Fill them all if the rules allow; else the largest share of each size
    # (a uniform share by bisection, then each size raised on its own), then the weights.
    # The search runs on the produce tier 1 leaves (see _leftover_builder) unless asked to
    # re-route the canteens' flows too.
    search = builder if params.reroute_canteens_in_tier2 else _leftover_builder(builder, values)

    def basket_model(shares: dict[str, float]) -> tuple[dict[tuple[str, str, int], int], _Model]:
        counts = _filled_counts(problem, shares)
        model = search.model(counts)
        if search is builder:
            model.row(builder.short_cols, np.ones(builder.short_cols.size), -np.inf, hold_short)
        return counts, model

    found_at: dict[tuple[float, ...], FloatArray] = {}
    """The solution of each feasible probe, by shares: the final weight solve starts there."""

    def fillable(shares: dict[str, float]) -> bool:
        _counts, trial = basket_model(shares)
        label = "baskets " + " ".join(f"{t} {x:.0%}" for t, x in sorted(shares.items()))
        found = run(
            label,
            trial,
            np.zeros(trial.n),
            False,
            params.mip_solver,
            True,
            None,
            params.probe_time_limit_s,
        )
        if found[2] is not None:
            found_at[tuple(shares[t] for t in type_ids)] = found[2]
        return found[2] is not None

    shares = dict.fromkeys(type_ids, 1.0)
    counts, model = basket_model(shares)
    # Whether every basket can be filled is decided within a probe's time; the weights are
    # then optimised with the full time.
    status, weight_opt, values = run(
        "baskets",
        model,
        search.objective_weight(model),
        False,
        params.mip_solver,
        True,
        None,
        params.probe_time_limit_s,
    )
    if values is not None and status != "optimal":
        status, weight_opt, values = run(
            "baskets", model, search.objective_weight(model), False, params.mip_solver, True, values
        )
    if values is None:
        low, high = 0.0, 1.0
        for _ in range(params.basket_fill_steps):
            middle = (low + high) / 2
            fits = fillable(dict.fromkeys(type_ids, middle))
            low, high = (middle, high) if fits else (low, middle)
        shares = dict.fromkeys(type_ids, low)
        due = {
            t: sum(d.baskets for d in problem.basket_deliveries if d.basket_type_id == t)
            for t in type_ids
        }
        for type_id in sorted(type_ids, key=lambda t: -due[t]):
            low, high = shares[type_id], 1.0
            for _ in range(params.basket_fill_steps // 2):
                middle = (low + high) / 2
                fits = fillable({**shares, type_id: middle})
                low, high = (middle, high) if fits else (low, middle)
            shares[type_id] = low
        counts, model = basket_model(shares)
        status, weight_opt, values = run(
            "baskets (filled share)",
            model,
            search.objective_weight(model),
            False,
            params.mip_solver,
            True,
            found_at.get(tuple(shares[t] for t in type_ids)),
            params.weight_time_limit_s,
        )
    assert values is not None, "tier 2 always has the empty-basket solution"
    integers = int(np.concatenate(model.integer).sum())
    choice = search.basket_choice(values)

    # Tiers 3-5 on the whole model, holding tiers 1 and 2, then each tier the ones before.
    model = builder.model(counts, market=True)
    model.row(builder.short_cols, np.ones(builder.short_cols.size), -np.inf, hold_short)
    if params.keep_canteen_flows:
        model.fix(builder.x_can, canteen_flows)
    weight = builder.objective_weight(model)
    nz = np.flatnonzero(weight)
    slack = params.tolerance_abs + params.tolerance_rel * abs(weight_opt)
    model.row(nz, weight[nz], -np.inf, weight_opt + slack)
    lower_solver, lower_integer = params.mip_solver, True
    hint: FloatArray | None = None
    final: FloatArray | None = None
    if params.fix_baskets_after_tier2:
        builder.fix_basket_choice(model, choice)
        lower_solver, lower_integer = params.lp_solver, False
    stages = [
        ("shops", builder.objective_shops(model), True),
        ("fairness", builder.objective_fairness(model), False),
        ("transport", builder.objective_transport(model), False),
    ]
    while stages:
        name, objective, maximize = stages.pop(0)
        status, value, values = run(
            name, model, objective, maximize, lower_solver, lower_integer, hint
        )
        if values is None:
            break
        if pool and not builder.egalim_certified(model):
            return tiers
        final = hint = values
        slack = params.tolerance_abs + params.tolerance_rel * abs(value)
        nz = np.flatnonzero(objective)
        if maximize:
            model.row(nz, objective[nz], value - slack, np.inf)
        else:
            model.row(nz, objective[nz], -np.inf, value + slack)
        if name == "shops" and not lower_integer:
            both = _fairness_with_transport(model, params, stages, run, tiers)
            if both is not None:
                final = both
                break

    if final is None:
        raise AllocationFailedError("shops", status)
    solution = builder.solution(final, counts, shares)
    solution.tiers = tiers
    # A tier cut short by its time limit keeps the tiers before it: the plan stays valid.
    kept = [t for t in tiers if t.name in ("canteens", "shops", "fairness", "transport")]
    if pool and final is not None and not builder.egalim_certified(model):
        return tiers
    kept.append(next(t for t in reversed(tiers) if t.name.startswith("baskets")))
    solution.status = (
        "optimal" if all(t.status == "optimal" for t in kept) and len(kept) == 5 else "feasible"
    )
    solution.variables, solution.constraints = model.n, model.m
    solution.integers = integers
    solution.build_seconds = build_seconds
    return solution


def _fairness_with_transport(
    model: _Model,
    params: AllocationParameters,
    stages: list[tuple[str, FloatArray, bool]],
    run: Callable[..., tuple[str, float, FloatArray | None]],
    tiers: list[TierStats],
) -> FloatArray | None:
    """Tiers 4 and 5 as one LP: transport plus the fairness deviation weighted far above any
    kg·km a kg can save. When its solution is perfectly fair (deviation 0, within the
    tolerance), no solution is fairer and none as fair moves less: it is the lexicographic
    optimum, found with one LP instead of two. Else None, and the tiers are solved in turn."""
    (_, fairness, _), (_, transport, _) = stages
    scale = 100.0 * (1.0 + float(np.abs(transport).max(initial=0.0)))
    status, _value, values = run(
        "fairness and transport (one LP)",
        model,
        scale * fairness + transport,
        False,
        params.lp_solver,
        False,
        None,
    )
    if values is None or status != "optimal" or fairness @ values > params.tolerance_abs:
        return None
    # The two tiers' values, read from that one solve (its time is on the line before).
    for name, objective in (("fairness", fairness), ("transport", transport)):
        tiers.append(TierStats(name, float(objective @ values), status, 0.0))
    return values


def _leftover_builder(builder: _Builder, tier1: FloatArray) -> _Builder:
    """A builder for tier 2's search on what tier 1 leaves, with canteen flows kept.

    With the canteens' flows fixed, offers differ for baskets only by product, organic status
    and the basket days they reach fresh: offers alike are pooled into one class (their kg
    summed), an exact reduction that keeps the basket MIP small however many farms there are.
    """
    problem, arcs, offers = builder.p, builder.ba, builder.offers
    leftover = offers.kg.copy()
    np.subtract.at(leftover, builder.ca.supply, tier1[: builder.ca.size])
    reach: dict[int, set[int]] = defaultdict(set)
    for i, day in zip(arcs.supply.tolist(), arcs.day.tolist(), strict=True):
        reach[i].add(day)
    classes: dict[tuple[str, bool, tuple[int, ...]], int] = {}
    member_class = {}
    for i in sorted(reach):
        key = (offers.product[i], bool(offers.organic[i]), tuple(sorted(reach[i])))
        member_class[i] = classes.setdefault(key, len(classes))
    kg = np.zeros(len(classes))
    for i, c in member_class.items():
        kg[c] += max(0.0, leftover[i])
    pooled = tuple(
        Supply(
            f"class_{c}",
            product,
            float(kg[c]),
            0.0,
            OrganicStatus.ORGANIC if organic else OrganicStatus.CONVENTIONAL,
            days,
            0.0,
        )
        for (product, organic, days), c in sorted(classes.items(), key=lambda kv: kv[1])
    )
    rows = sorted(
        {
            (member_class[i], t, day, day)
            for i, t, day in zip(
                arcs.supply.tolist(), arcs.target.tolist(), arcs.day.tolist(), strict=True
            )
        }
    )
    empty = _arcs([])
    reduced = dataclasses.replace(problem, supplies=pooled, needs=(), shops=())
    return _Builder(reduced, builder.params, (empty, _arcs(rows), empty), builder.type_ids)


class _Builder:
    """Lays out the variables (the same columns in every tier) and writes the rows.

    Flows are columns per offer class (``Offers``), kg sold per supply (tiers 3-5 only)."""

    def __init__(
        self,
        problem: AllocationProblem,
        params: AllocationParameters,
        arcs: tuple[Arcs, Arcs, Arcs],
        type_ids: list[str],
        pool: bool = False,
    ) -> None:
        self.p = problem
        self.params = params
        self.supply_arcs = arcs
        self.offers, (self.ca, self.ba, self.sa), self.arc_class = offer_classes(
            problem.supplies, arcs, pool
        )
        self.type_ids = type_ids
        supplies = problem.supplies
        self.supply_kg = np.array([s.kg for s in supplies], dtype=np.float64)
        self.price = np.array([s.price_eur_per_kg for s in supplies], dtype=np.float64)
        self.km = np.array([s.km_to_hub for s in supplies], dtype=np.float64)
        self.product_of_supply = [s.product_id for s in supplies]
        self.product_of_offer = self.offers.product
        # Products a basket type can hold: those with at least one usable supply arc.
        self.basket_products: list[tuple[int, str]] = sorted(
            {
                (int(t), self.product_of_offer[int(i)])
                for i, t in zip(self.ba.supply, self.ba.target, strict=True)
            }
        )
        self.bp_index = {key: k for k, key in enumerate(self.basket_products)}
        self.fair_products = sorted(set(self.product_of_supply))
        self.short_cols = np.arange(self.ca.size, self.ca.size + len(problem.needs))
        self.egalim: list[int] = []
        """EGalim rows whose prices pooling changed (row numbers in the last model)."""

    # ---------------------------------------------------------------- layout and rows

    def model(self, counts: dict[tuple[str, str, int], int] | None, market: bool = False) -> _Model:
        """Canteens (tier 1); baskets too if ``counts`` (tier 2); shops and fairness too if
        ``market`` (tiers 3-5). Column indices of the last model built are kept on self."""
        p, m = self.p, _Model()
        self.x_can = m.variables(self.ca.size, 0.0, np.inf)
        short = m.variables(len(p.needs), 0.0, np.array([n.kg for n in p.needs]))
        assert np.array_equal(short, self.short_cols)
        need_kg = np.array([n.kg for n in p.needs], dtype=np.float64)
        sold_rows = [self.ca.supply]
        sold_cols = [self.x_can]
        m.rows(
            np.concatenate([self.ca.target, np.arange(len(p.needs))]),
            np.concatenate([self.x_can, short]),
            np.ones(self.ca.size + len(p.needs)),
            need_kg,
            need_kg,
        )
        self._egalim_rows(m)
        if counts is not None:
            self._basket_layer(m, counts, sold_rows, sold_cols)
            if market:
                self._market_layer(m, sold_rows, sold_cols)
        m.rows(
            np.concatenate(sold_rows),
            np.concatenate(sold_cols),
            np.ones(sum(c.size for c in sold_cols)),
            np.full(self.offers.size, -np.inf),
            self.offers.kg,
        )
        return m

    def _egalim_rows(self, m: _Model) -> None:
        """EGalim shares by purchase value. A class's price is the least favourable of its
        farms' (the lowest for flagged produce, the highest otherwise): any split of a class's
        flows among its farms then keeps the shares. Rows where that changed a price are kept
        in ``self.egalim`` for ``egalim_certified``."""
        self.egalim = []
        canteen_of_need = np.array([n.canteen_id for n in self.p.needs], dtype=object)
        arc_canteen = (
            canteen_of_need[self.ca.target] if self.ca.size else np.array([], dtype=object)
        )
        offers = self.offers
        for canteen_id, rule in sorted(self.p.rules.items()):
            arcs = np.flatnonzero(arc_canteen == canteen_id)
            if arcs.size == 0:
                continue
            supply = self.ca.supply[arcs]
            for flag, minimum in (
                (offers.organic, rule.organic_min),
                (offers.quality, rule.quality_min),
            ):
                if 0 < minimum < 1:
                    weight = flag[supply] - minimum
                    low, high = offers.price_low[supply], offers.price_high[supply]
                    if np.any(low != high):
                        self.egalim.append(m.m)
                    m.row(self.x_can[arcs], np.where(weight > 0, low, high) * weight, 0.0, np.inf)
                elif minimum >= 1:  # every euro must carry the flag
                    bad = flag[supply] < 1
                    if bad.any():
                        m.row(self.x_can[arcs[bad]], np.ones(int(bad.sum())), 0.0, 0.0)

    def egalim_certified(self, m: _Model) -> bool:
        """True when no EGalim row written with a class's least favourable price has a dual
        value in the LP just solved: its solution is then optimal without those rows too, so
        also with the farms' own prices (pooling the offers cannot have changed the optimum)."""
        if not self.egalim:
            return True
        return m.duals is not None and bool(np.all(np.abs(m.duals[self.egalim]) <= 1e-7))

    def _basket_layer(
        self,
        m: _Model,
        counts: dict[tuple[str, str, int], int],
        sold_rows: list[IntArray],
        sold_cols: list[IntArray],
    ) -> None:
        p, params = self.p, self.params
        per_day: dict[tuple[int, int], int] = defaultdict(int)
        for (type_id, _relay, day), n in counts.items():
            per_day[(self.type_ids.index(type_id), day)] += n
        per_type: dict[int, int] = defaultdict(int)
        for (t, _day), n in per_day.items():
            per_type[t] += n
        specs = [p.basket_types[t] for t in self.type_ids]
        self.x_bsk = m.variables(self.ba.size, 0.0, np.inf)
        self.unit_cols: dict[tuple[int, str], int] = {}
        sold_rows.append(self.ba.supply)
        sold_cols.append(self.x_bsk)
        keys = self.basket_products
        open_type = np.array([per_type[t] > 0 for t, _ in keys])
        # The most kg of a product a basket can hold: its cap, and on each delivery day what
        # reaches that day shared among the day's baskets (tight bounds keep the MIP small).
        reach: dict[tuple[int, int, str], float] = defaultdict(float)
        for i, t, day in zip(
            self.ba.supply.tolist(), self.ba.target.tolist(), self.ba.day.tolist(), strict=True
        ):
            reach[(t, day, self.product_of_offer[i])] += float(self.offers.kg[i])
        most = np.array(
            [
                min(
                    [specs[t].max_kg * specs[t].max_share.get(product, 1.0)]
                    + [
                        reach[(t, day, product)] / n
                        for (tt, day), n in per_day.items()
                        if tt == t and n > 0
                    ]
                )
                for t, product in keys
            ]
        )
        self.z = m.variables(len(keys), 0.0, np.where(open_type, most, 0.0))
        self.u = m.variables(len(keys), 0.0, np.where(open_type, 1.0, 0.0), integer=True)
        # Balance: kg of product p reaching type t on a day = baskets that day × kg per basket.
        balance: dict[tuple[int, int, str], int] = {}
        rows, cols, coefs = [], [], []
        for a in range(self.ba.size):
            t, day = int(self.ba.target[a]), int(self.ba.day[a])
            key = (t, day, self.product_of_offer[int(self.ba.supply[a])])
            r = balance.setdefault(key, len(balance))
            rows.append(r)
            cols.append(int(self.x_bsk[a]))
            coefs.append(1.0)
        # Every product a size may hold needs a row on every delivery day of that size, even
        # with no fresh supply that day: it then forces the product out of the composition.
        for (t, day), n in per_day.items():
            for tt, product in keys:
                if tt == t and n > 0:
                    balance.setdefault((t, day, product), len(balance))
        for (t, day, product), r in balance.items():
            rows.append(r)
            cols.append(int(self.z[self.bp_index[(t, product)]]))
            coefs.append(-float(per_day.get((t, day), 0)))
        zeros = np.zeros(len(balance))
        m.rows(np.array(rows), np.array(cols), np.array(coefs), zeros, zeros)
        # Rules of each basket type.
        for t, spec in enumerate(specs):
            members = [k for k, (tt, _) in enumerate(keys) if tt == t]
            if not members:
                if per_type[t] > 0:  # baskets due but no product can reach them: infeasible
                    m.row(np.array([], dtype=np.int64), np.array([]), spec.min_kg, spec.max_kg)
                continue
            z, u = self.z[members], self.u[members]
            products = [keys[k][1] for k in members]
            ones = np.ones(len(members))
            used = per_type[t] > 0
            m.row(z, ones, spec.min_kg if used else 0.0, spec.max_kg)
            m.row(u, ones, spec.min_products if used else 0.0, spec.max_products)
            for k, product in enumerate(products):
                info = p.products[product]
                least = info.unit_kg if info.unit_kg else params.min_kg_per_product
                most_kg = float(most[members[k]])
                m.row(np.array([z[k], u[k]]), np.array([1.0, -most_kg]), -np.inf, 0.0)
                m.row(np.array([z[k], u[k]]), np.array([1.0, -least]), 0.0, np.inf)
                share = spec.max_share.get(product, 1.0)
                if share < 1.0:
                    coef = -share * ones
                    coef[k] += 1.0
                    m.row(z, coef, -np.inf, 0.0)
                if info.unit_kg:
                    units = m.variables(1, 0.0, math.ceil(spec.max_kg / info.unit_kg), integer=True)
                    m.row(np.array([z[k], units[0]]), np.array([1.0, -info.unit_kg]), 0.0, 0.0)
                    self.unit_cols[(t, product)] = int(units[0])
            for family, cap in spec.family_caps.items():
                inside = np.array([p.products[x].family == family for x in products])
                if cap < 1.0 and inside.any():
                    m.row(z, inside.astype(np.float64) - cap, -np.inf, 0.0)
        # Closeness to the mid-band weight (tier 2's objective).
        self.weight_dev = m.variables(len(specs), 0.0, np.inf)
        for t, spec in enumerate(specs):
            members = [k for k, (tt, _) in enumerate(keys) if tt == t]
            cols_t = np.append(self.z[members], self.weight_dev[t])
            m.row(cols_t, np.append(np.ones(len(members)), -1.0), -np.inf, spec.target_kg)
            m.row(cols_t, np.append(np.ones(len(members)), 1.0), spec.target_kg, np.inf)
        self.type_baskets = np.array([per_type[t] for t in range(len(specs))], dtype=np.float64)

    def _market_layer(
        self, m: _Model, sold_rows: list[IntArray], sold_cols: list[IntArray]
    ) -> None:
        p = self.p
        # Shops take surplus up to their weekly capacity.
        self.x_shop = m.variables(self.sa.size, 0.0, np.inf)
        sold_rows.append(self.sa.supply)
        sold_cols.append(self.x_shop)
        if self.sa.size:
            m.rows(
                self.sa.target,
                self.x_shop,
                np.ones(self.sa.size),
                np.full(len(p.shops), -np.inf),
                np.array([s.max_kg for s in p.shops]),
            )
        # Kg sold per supply: a class's flows shared among its farms.
        n = len(p.supplies)
        self.x_sold = m.variables(n, 0.0, self.supply_kg)
        arc_class = np.concatenate(sold_rows)
        arc_cols = np.concatenate(sold_cols)
        m.rows(
            np.concatenate([arc_class, self.offers.of_supply]),
            np.concatenate([arc_cols, self.x_sold]),
            np.concatenate([np.ones(arc_cols.size), -np.ones(n)]),
            np.zeros(self.offers.size),
            np.zeros(self.offers.size),
        )
        # Fairness: each farm's sold share of a product close to a common share rho_p.
        rho = m.variables(len(self.fair_products), 0.0, 1.0)
        self.deviation = m.variables(n, 0.0, np.inf)
        product_index = {x: k for k, x in enumerate(self.fair_products)}
        rho_col = rho[[product_index[x] for x in self.product_of_supply]]
        for sign in (1.0, -1.0):
            m.rows(
                np.concatenate([np.arange(n)] * 3),
                np.concatenate([self.x_sold, rho_col, self.deviation]),
                np.concatenate([np.full(n, sign), -sign * self.supply_kg, -np.ones(n)]),
                np.full(n, -np.inf),
                np.zeros(n),
            )

    def basket_choice(self, values: FloatArray) -> dict[tuple[int, str], tuple[float, float]]:
        """Tier 2's integer decisions, by (basket type, product): in or out, and units."""
        return {
            key: (
                float(np.round(values[self.u[k]])),
                float(np.round(values[self.unit_cols[key]])) if key in self.unit_cols else 0.0,
            )
            for k, key in enumerate(self.basket_products)
        }

    def fix_basket_choice(
        self, m: _Model, choice: dict[tuple[int, str], tuple[float, float]]
    ) -> None:
        cols, values = [], []
        for k, key in enumerate(self.basket_products):
            chosen, units = choice.get(key, (0.0, 0.0))
            cols.append(int(self.u[k]))
            values.append(chosen)
            if key in self.unit_cols:
                cols.append(self.unit_cols[key])
                values.append(units)
        m.fix(np.array(cols, dtype=np.int64), np.array(values))

    # ---------------------------------------------------------------- objectives

    def objective_short(self, m: _Model) -> FloatArray:
        c = np.zeros(m.n)
        c[self.short_cols] = 1.0
        return c

    def objective_weight(self, m: _Model) -> FloatArray:
        c = np.zeros(m.n)
        c[self.weight_dev] = self.type_baskets
        return c

    def objective_shops(self, m: _Model) -> FloatArray:
        c = np.zeros(m.n)
        c[self.x_shop] = 1.0
        return c

    def objective_fairness(self, m: _Model) -> FloatArray:
        c = np.zeros(m.n)
        c[self.deviation] = 1.0
        return c

    def objective_transport(self, m: _Model) -> FloatArray:
        c = np.zeros(m.n)
        c[self.x_sold] = self.km + self.params.cost_per_kgkm * self.price
        return c

    # ---------------------------------------------------------------- reading the solution

    def solution(
        self, values: FloatArray, counts: dict[tuple[str, str, int], int], shares: dict[str, float]
    ) -> Solution:
        def clean(x: FloatArray) -> FloatArray:
            return np.where(x > 1e-7, x, 0.0)

        composition = {
            (self.type_ids[t], product): float(round(values[self.z[k]], 6))
            for k, (t, product) in enumerate(self.basket_products)
            if values[self.z[k]] > 1e-7
        }
        # Each class's flows shared among its farms in proportion to what each sold.
        sold = values[self.x_sold]
        class_sold = np.zeros(self.offers.size)
        np.add.at(class_sold, self.offers.of_supply, sold)
        total = class_sold[self.offers.of_supply]
        share = np.divide(sold, total, out=np.zeros_like(sold), where=total > 1e-12)

        def per_supply(cols: IntArray, kind: int) -> FloatArray:
            arcs = self.supply_arcs[kind]
            return clean(values[cols][self.arc_class[kind]] * share[arcs.supply])

        canteen_arcs, basket_arcs, shop_arcs = self.supply_arcs
        return Solution(
            canteen_arcs=canteen_arcs,
            basket_arcs=basket_arcs,
            shop_arcs=shop_arcs,
            basket_type_ids=self.type_ids,
            canteen_kg=per_supply(self.x_can, 0),
            basket_kg=per_supply(self.x_bsk, 1),
            shop_kg=per_supply(self.x_shop, 2),
            short_kg=clean(values[self.short_cols]),
            composition=composition,
            baskets_filled=dict(counts),
            fill_share=shares,
        )
