"""Sparse LP/MIP models handed to OR-Tools in one call: the only module that imports
OR-Tools' LP/MIP API (the model builder for GLOP, CLP and SCIP, MathOpt's model proto
for HiGHS)."""

from __future__ import annotations

import math
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
from ortools.math_opt.solvers import highs_pb2

from foodchain.allocation.parameters import AllocationParameters

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class Model:
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

    def relax(self, cols: IntArray) -> None:
        """Let integer variables take any value within their bounds."""
        integer = np.concatenate(self.integer)
        integer[cols] = False
        self.integer = [integer]
        self.lb, self.ub = [np.concatenate(self.lb)], [np.concatenate(self.ub)]

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
        first_solution: bool = False,
        highs_options: str = "",
    ) -> tuple[str, float, FloatArray | None, float | None]:
        """Status, objective value, values (None without a solution) and, for a MIP, its
        bound. With ``first_solution``, a MIP stops at its first solution: whether there is
        one is all a probe asks, and a solve from it finishes the search. ``highs_options``:
        HiGHS settings for this MIP, one ``name = value`` a line."""
        self.duals = None
        matrix = sp.csr_matrix(
            (
                np.concatenate(self.rows_v),
                (np.concatenate(self.rows_i), np.concatenate(self.rows_j)),
            ),
            shape=(self.m, self.n),
        )
        if solver_name == "HIGHS":
            return self._solve_mathopt(
                matrix, objective, maximize, params, integer, hint, first_solution, highs_options
            )
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
            first = "limits/solutions = 1\n" if first_solution else ""
            solver.set_solver_specific_parameters(
                f"limits/gap = {params.relative_gap}\n{first}{params.scip_parameters}"
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
        first_solution: bool,
        highs_options: str,
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
            if first_solution:
                parameters.solution_limit = 1
            _highs_options(parameters.highs, highs_options)
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


def _highs_options(options: highs_pb2.HighsOptionsProto, text: str) -> None:
    """``name = value`` lines into MathOpt's HiGHS options, typed as HiGHS reads them."""
    for line in text.splitlines():
        if not line.strip():
            continue
        name, _, raw = (part.strip() for part in line.partition("="))
        if raw.lower() in ("true", "false"):
            options.bool_options[name] = raw.lower() == "true"
        elif raw.lstrip("-").isdigit():
            options.int_options[name] = int(raw)
        else:
            try:
                options.double_options[name] = float(raw)
            except ValueError:
                options.string_options[name] = raw
