"""The allocation's tiers, solved one after the other (lexicographic LP/MIP).

The model is built as sparse arrays (``builder``: no Python call per variable) and handed to
OR-Tools in one call (``lp``, the only module that imports its LP/MIP API); the arcs it is
made of are in ``arcs``, the settings in ``parameters``. Tiers are solved in priority
order; each optimum is then held (within ``tolerance``) as a constraint while the next tier
is optimised:

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

import numpy as np

from foodchain.allocation.arcs import Arcs, candidate_arcs
from foodchain.allocation.builder import Builder, leftover_builder
from foodchain.allocation.lp import FloatArray, Model
from foodchain.allocation.parameters import AllocationParameters, TierStats
from foodchain.allocation.problem import AllocationProblem, BasketDelivery
from foodchain.allocation.solution import Solution
from foodchain.errors import FoodchainError


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


Group = tuple[str, int]
"""Baskets of one size delivered on one day: they share the produce that reaches that day
fresh, so the model sees how many of them are filled, not at which relay point."""


def _due(problem: AllocationProblem) -> dict[Group, int]:
    due: dict[Group, int] = defaultdict(int)
    for d in problem.basket_deliveries:
        if d.baskets > 0:
            due[(d.basket_type_id, d.day)] += d.baskets
    return dict(due)


def _shared(deliveries: list[BasketDelivery], total: int) -> dict[BasketDelivery, int]:
    """``total`` baskets given out among ``deliveries`` in proportion to their baskets, by
    largest remainder (ties: more baskets due, then earlier day, then relay id): half of 110
    one-basket points is 55 baskets, not 110 x floor(0.5) = 0."""
    due = sum(d.baskets for d in deliveries)
    share = total / due if due else 0.0
    exact = {d: share * d.baskets for d in deliveries}
    floors = {d: min(d.baskets, math.floor(exact[d] + 1e-9)) for d in deliveries}
    left = total - sum(floors.values())
    order = sorted(
        deliveries, key=lambda d: (-(exact[d] - floors[d]), -d.baskets, d.day, d.relay_point_id)
    )
    for d in order:
        if left > 0 and floors[d] < d.baskets:
            floors[d] += 1
            left -= 1
    return floors


def most_filled(
    due: dict[Group, int], fits: Callable[[dict[Group, int]], bool]
) -> dict[Group, int]:
    """The most baskets of each size and day that can be filled: each group raised in turn,
    the most baskets due first, to the most it can take with the groups before it kept
    (what ``fits`` is downward closed, so a later group never reopens an earlier one: each
    ends at a per-delivery maximum). The count is searched to the basket below 100 baskets
    a day, and within 1% above (a regional day of 900 baskets: 7 probes instead of 10).
    ``due`` itself is known not to fit.

    Not a share of every group alike: one size holds one composition all week, so a few
    baskets on a day little produce reaches tie the whole size to that day's products
    (2027-W20 without the wholesaler: 4 small baskets on Tuesday held the small size to
    46 of its 123 on Thursday and Friday; shares raised alike filled 272 of 402, this 345)."""
    filled = dict.fromkeys(due, 0)
    for group in sorted(due, key=lambda g: (-due[g], g)):
        filled[group] = _raised(filled, group, due[group], fits)
    return filled


def _raised(
    filled: dict[Group, int], group: Group, most: int, fits: Callable[[dict[Group, int]], bool]
) -> int:
    """The most baskets ``group`` can take, from ``filled[group]`` (which fits) to ``most``,
    the other groups kept: ``most`` first, then by bisection (to within 1% of ``most``)."""
    least, slack = filled[group], most // 100
    if least < most and fits({**filled, group: most}):
        return most
    most -= 1
    while most - least > slack:
        trial = (least + most + 1) // 2
        if fits({**filled, group: trial}):
            least = trial
        else:
            most = trial - 1
    return least


def _filled_counts(
    problem: AllocationProblem, filled: dict[Group, int]
) -> dict[tuple[str, str, int], int]:
    """Baskets filled at each relay point when ``filled`` of each size can be on each day."""
    by_group: dict[Group, list[BasketDelivery]] = defaultdict(list)
    for d in problem.basket_deliveries:
        if d.baskets > 0:
            by_group[(d.basket_type_id, d.day)].append(d)
    return {
        (d.basket_type_id, d.relay_point_id, d.day): n
        for group, deliveries in by_group.items()
        for d, n in _shared(deliveries, filled.get(group, 0)).items()
    }


def solve(
    problem: AllocationProblem,
    params: AllocationParameters | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> Solution:
    """Solve the five tiers in order. Never raises for shortage: shortage is in the result.

    In large regions (``pool_offers_above``), the tiers are first solved over classes of
    interchangeable offers; if an EGalim row could have been changed by that
    (``Builder.egalim_certified``), they are solved again with one column per farm and
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
    return dataclasses.replace(solution, tiers=(*spent, *solution.tiers))


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
    builder = Builder(problem, params, arcs, type_ids, pool)
    build_seconds = time.perf_counter() - started
    tiers: list[TierStats] = []

    def run(
        name: str,
        model: Model,
        objective: FloatArray,
        maximize: bool,
        solver: str,
        integer: bool,
        hint: FloatArray | None,
        time_limit_s: float | None = None,
        first_solution: bool = False,
        highs_options: str | None = None,
    ) -> tuple[str, float, FloatArray | None]:
        clock = time.perf_counter()
        if highs_options is None:
            highs_options = params.highs_mip_options if objective.any() else ""
        limited = (
            params
            if time_limit_s is None
            else dataclasses.replace(params, time_limit_s=time_limit_s)
        )
        status, value, values, bound = model.solve(
            objective, maximize, solver, limited, hint, integer, first_solution, highs_options
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

    # Tier 2: baskets. Fill them all if the rules allow; else all of them under the short
    # week's rules (lighter, caps raised: every subscriber gets a basket before any gets
    # none); else the most baskets each size can take on each day under those (each day
    # raised in turn, see most_filled); then the weights. The search runs on the produce
    # tier 1 leaves (see leftover_builder) unless asked to re-route the canteens' flows too.
    search = builder if params.reroute_canteens_in_tier2 else leftover_builder(builder, values)
    relaxed = buying = False
    bought_opt = 0.0

    def basket_model(filled: dict[Group, int]) -> tuple[dict[tuple[str, str, int], int], Model]:
        counts = _filled_counts(problem, filled)
        model = search.model(counts, relaxed=relaxed, buying=buying, nested=nested)
        if search is builder:
            model.row(builder.short_cols, np.ones(builder.short_cols.size), -np.inf, hold_short)
        return counts, model

    groups = sorted(_due(problem))
    found_at: dict[tuple[int, ...], FloatArray] = {}
    """The solution of each feasible probe, by baskets filled: the final weight solve starts
    there."""

    def fillable(filled: dict[Group, int]) -> bool:
        _counts, trial = basket_model(filled)
        label = "baskets " + " ".join(f"{t} {day} {filled[(t, day)]}" for t, day in groups)
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
            found_at[tuple(filled[g] for g in groups)] = found[2]
        return found[2] is not None

    def optimise(
        name: str, model: Model, hint: FloatArray | None, first: bool = False
    ) -> tuple[str, float, FloatArray | None]:
        """The least bought in (when buying), held, then the weights closest to target.
        The € is searched for ``bought_time_limit_s`` at once: a buy-in nearly always fills,
        and a probe stopped at its limit made HiGHS do its root's work twice (2027-W20:
        2.0 s probe, then 2.2 s from its solution). The weights without ``hint`` are
        searched for a probe's time (no solution by then counts as none); with ``first``,
        the probe stops at its first solution and the weights are then searched from it for
        ``weight_time_limit_s`` (the whole MIP, 2027-W09: 0.5 + 1 s where the probe alone
        ran its 2 s). The weights after buying keep the products the € bought chose (only
        the steps are searched: 5 s less in 2027-W20)."""
        nonlocal bought_opt
        objectives = [("bought in", search.objective_bought(model))] if buying else []
        objectives.append(("", search.objective_weight(model)))
        status, value, values = "infeasible", math.nan, hint
        mip = params.mip_solver
        for label, objective in objectives:
            title = f"{name}: {label}" if label else name
            if not label and values is None:  # the last objective: a break ends the search
                probe = params.probe_time_limit_s
                status, value, values = run(
                    title, model, objective, False, mip, True, None, probe, first
                )
                if values is None or status == "optimal" or not first:
                    break
            limit = params.bought_time_limit_s if label else params.weight_time_limit_s
            highs = params.highs_bought_options if label else None
            status, value, found = run(
                title, model, objective, False, mip, True, values, limit, False, highs
            )
            if found is None and values is not None:  # cut short before taking its start
                status, value = "feasible", float(objective @ values)
            values = found if found is not None else values
            if values is None:
                break
            if label:
                bought_opt = value
                nz = np.flatnonzero(objective)
                slack = params.tolerance_abs + params.tolerance_rel * abs(value)
                model.row(nz, objective[nz], -np.inf, value + slack)
                search.fix_products(model, values)
        return status, value, values

    def settle(
        name: str, filled: dict[Group, int], hint: FloatArray | None
    ) -> tuple[dict[tuple[str, str, int], int], Model, str, float, FloatArray | None]:
        """``optimise`` the baskets ``filled``. Steps of products sold by weight make the
        MIP slow to prove (2026-W45: 4.2 s with them, 0.9 s without): unless buying in (the €
        bought is money, worth the whole MIP: choosing the products without steps bought
        40% more in 2027-W20), the sizes' products are first chosen with steps relaxed, then
        only the steps are searched, the products kept; the whole MIP is solved only if no
        steps fit those products, its probe stopped at its first solution. The weights are
        then optimal for those products."""
        counts, model = basket_model(filled)
        if hint is not None or buying or not search.step_cols:
            return counts, model, *optimise(name, model, hint)
        model.relax(np.array(search.step_cols, dtype=np.int64))
        status, value, loose = optimise(f"{name} (steps relaxed)", model, None)
        if loose is None:  # no solution even without steps: none with them
            return counts, model, status, value, None
        counts, model = basket_model(filled)
        search.fix_products(model, loose)
        status, value, values = optimise(f"{name} (in steps)", model, None)
        if values is not None:
            return counts, model, status, value, values
        counts, model = basket_model(filled)
        return counts, model, *optimise(name, model, None, first=True)

    # Every basket under the usual rules; else with sizes of their own (not nested: the
    # week's common products cannot fill every size); else under a short week's rules
    # (lighter); else buying in. Each rung keeps the ones before it given way.
    due = _due(problem)
    filled = dict(due)
    values = None
    nested = bool(problem.policy.chains)
    for step, allowed in (
        ("baskets", True),
        ("baskets (sizes not nested)", nested),
        ("baskets (short week: lighter)", problem.policy.can_relax),
        ("baskets (buying in)", any(x.bought for x in problem.supplies)),
    ):
        if not allowed:
            continue
        nested = nested and step == "baskets"
        relaxed = relaxed or step in ("baskets (short week: lighter)", "baskets (buying in)")
        buying = step == "baskets (buying in)"
        counts, model, status, weight_opt, values = settle(step, filled, None)
        if values is not None:
            break
    if values is None:
        # The most baskets the last rules tried can fill, day by day: a day no produce
        # reaches (no buy-in on a holiday's Tuesday) no longer holds back the others (a
        # uniform share per size kept 2027-W20 at 13 of 402 baskets).
        filled = most_filled(due, fillable)
        counts, model, status, weight_opt, values = settle(
            "baskets (most filled)",
            filled,
            found_at.get(tuple(filled[g] for g in groups)),
        )
    assert values is not None, "tier 2 always has the empty-basket solution"
    integers = int(np.concatenate(model.integer).sum())
    choice = search.basket_choice(values)

    # Tiers 3-5 on the whole model, holding tiers 1 and 2, then each tier the ones before.
    model = builder.model(counts, market=True, relaxed=relaxed, buying=buying, nested=nested)
    model.row(builder.short_cols, np.ones(builder.short_cols.size), -np.inf, hold_short)
    if params.keep_canteen_flows:
        model.fix(builder.x_can, canteen_flows)
    if buying:
        bought = builder.objective_bought(model)
        nz = np.flatnonzero(bought)
        slack = params.tolerance_abs + params.tolerance_rel * abs(bought_opt)
        model.row(nz, bought[nz], -np.inf, bought_opt + slack)
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
    # A tier cut short by its time limit keeps the tiers before it: the plan stays valid.
    kept = [t for t in tiers if t.name in ("canteens", "shops", "fairness", "transport")]
    if pool and final is not None and not builder.egalim_certified(model):
        return tiers
    kept.append(next(t for t in reversed(tiers) if t.name.startswith("baskets")))
    if buying:  # the € bought is a tier of its own: cut short, the plan may buy more
        kept += [t for t in tiers if t.name.endswith(": bought in")][-1:]
    return dataclasses.replace(
        builder.solution(final, counts),
        relaxed=relaxed,
        nested=nested,
        tiers=tuple(tiers),
        status="optimal"
        if all(t.status == "optimal" for t in kept) and len(kept) == 5 + buying
        else "feasible",
        variables=model.n,
        constraints=model.m,
        integers=integers,
        build_seconds=build_seconds,
    )


def _fairness_with_transport(
    model: Model,
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
