"""Why demand was not met and why produce was not sold, in a coordinator's words."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from foodchain.allocation.problem import AllocationProblem, BasketDelivery, CanteenNeed, Supply
from foodchain.allocation.result import Shortfall, Surplus
from foodchain.allocation.solution import Solution
from foodchain.weeks import WEEKDAYS

EPS = 1e-3
"""Kg below which a shortfall or a surplus is solver tolerance, not a fact (1 gram)."""
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _name(problem: AllocationProblem, key: str) -> str:
    return problem.names.get(key, key)


def explain_rules(problem: AllocationProblem, solution: Solution) -> list[str]:
    """What gave way this week so that baskets could be filled."""
    notes = []
    policy = problem.policy
    if policy.chains and not solution.nested:
        notes.append(
            "not enough of the week's common products to nest the sizes: each size has a "
            "composition of its own this week"
        )
    if solution.relaxed and policy.can_relax:
        notes.append(
            "supply too short for the usual baskets: baskets may be lighter, down to "
            f"{policy.floor:.0%} of their least weight and value, with product and family caps "
            f"raised by {policy.caps_relaxed_by:.0%} of the weight"
        )
    bought: dict[str, float] = defaultdict(float)
    euros = 0.0
    for a in range(solution.basket_arcs.size):
        supply = problem.supplies[int(solution.basket_arcs.supply[a])]
        if supply.bought and solution.basket_kg[a] > EPS:
            bought[supply.product_id] += float(solution.basket_kg[a])
            euros += float(solution.basket_kg[a]) * supply.price_eur_per_kg
    if bought:
        farm = next(s.farm_id for s in problem.supplies if s.bought)
        items = ", ".join(
            f"{_name(problem, p).lower()} {kg:.1f} kg" for p, kg in sorted(bought.items())
        )
        notes.append(
            f"bought in from {_name(problem, farm)} to fill every basket: {items} "
            f"({sum(bought.values()):.1f} kg, {euros:.2f} € before VAT)"
        )
    return notes


def explain_shortfalls(problem: AllocationProblem, solution: Solution) -> list[Shortfall]:
    result = [
        Shortfall(
            need.canteen_id,
            need.item_id,
            problem.date(need.day),
            float(short),
            _canteen_reason(problem, solution, n, need, float(short)),
        )
        for n, (need, short) in enumerate(zip(problem.needs, solution.short_kg, strict=True))
        if short > EPS
    ]
    for d in problem.basket_deliveries:
        filled = solution.baskets_filled.get((d.basket_type_id, d.relay_point_id, d.day), 0)
        missing = d.baskets - filled
        if missing > 0:
            spec = problem.basket_types[d.basket_type_id]
            result.append(
                Shortfall(
                    d.relay_point_id,
                    d.basket_type_id,
                    problem.date(d.day),
                    missing * spec.min_kg,
                    _basket_reason(problem, solution, d, missing),
                    baskets=missing,
                )
            )
    return result


def _canteen_reason(
    problem: AllocationProblem, solution: Solution, n: int, need: CanteenNeed, short: float
) -> str:
    item = _name(problem, need.item_id).lower()
    where = f"({short:.1f} kg short, {_name(problem, need.canteen_id)}, {_DAY_NAMES[need.day]})"
    offered = [  # bought-in produce goes to baskets only
        s for s in problem.supplies if s.product_id in need.products and not s.bought
    ]
    if not offered:
        return f"no {item} offered in {problem.week} {where}"
    if need.organic_only:
        offered = [s for s in offered if s.organic]
        if not offered:
            return f"no organic {item} offered in {problem.week} {where}"
    fresh = [s for s in offered if problem.pickup_day(s, need.day, need.leave_by) is not None]
    if not fresh:
        days = sorted({WEEKDAYS[d] for s in offered for d in s.days})
        if any(problem.pickup_day(s, need.day) is not None for s in offered):
            return (
                f"no {item} can reach the hub in time: the farms' pickup hours on "
                f"{_DAY_NAMES[need.day]} come after the delivery window {where}"
            )
        return (
            f"no {item} can be picked up fresh by {_DAY_NAMES[need.day]} "
            f"(harvest days: {' '.join(days)}) {where}"
        )
    fresh_ids = {id(s) for s in fresh}
    elsewhere = _sold_to(problem, solution, fresh_ids)
    rule = problem.rules.get(need.canteen_id)
    shares = rule is not None and (0 < rule.organic_min < 1 or 0 < rule.quality_min < 1)
    if shares and elsewhere["basket"] + elsewhere["shop"] > EPS:
        return (
            f"the canteen's EGalim shares (organic, quality) leave no room for more "
            f"non-organic {item} {where}"
        )
    total = sum(s.kg for s in fresh)
    return (
        f"not enough {item}: all {total:.1f} kg that can arrive by {_DAY_NAMES[need.day]} "
        f"went to canteens {where}"
    )


def _sold_to(
    problem: AllocationProblem, solution: Solution, supply_ids: set[int]
) -> dict[str, float]:
    picked = np.array([id(s) in supply_ids for s in problem.supplies], dtype=bool)
    return {
        "canteen": float(solution.canteen_kg[picked[solution.canteen_arcs.supply]].sum()),
        "basket": float(solution.basket_kg[picked[solution.basket_arcs.supply]].sum()),
        "shop": float(solution.shop_kg[picked[solution.shop_arcs.supply]].sum()),
    }


def _basket_reason(
    problem: AllocationProblem, solution: Solution, delivery: BasketDelivery, missing: int
) -> str:
    type_id, day = delivery.basket_type_id, delivery.day
    spec = problem.basket_types[type_id]
    t = solution.basket_type_ids.index(type_id)
    usable = {
        problem.supplies[int(i)].product_id
        for i, target in zip(solution.basket_arcs.supply, solution.basket_arcs.target, strict=True)
        if target == t
    }
    head = f"{missing} of {delivery.baskets} '{type_id}' baskets not filled"
    if len(usable) < spec.min_products:
        kind = "organic " if spec.organic_only else ""
        return (
            f"{head}: only {len(usable)} {kind}products can be delivered fresh that day, "
            f"the size needs {spec.min_products}"
        )
    due = filled = 0
    for d in problem.basket_deliveries:
        if d.basket_type_id == type_id and d.day == day:
            due += d.baskets
            filled += solution.baskets_filled.get((type_id, d.relay_point_id, day), 0)
    lighter = f" even {1 - problem.policy.floor:.0%} lighter" if problem.policy.can_relax else ""
    return (
        f"{head}: after the canteens, the produce left fills only {filled} of the {due} "
        f"'{type_id}' baskets of {_DAY_NAMES[day]} within {spec.min_kg:g}-{spec.max_kg:g} kg"
        f"{lighter} and the variety rules, with one composition for the size all week "
        "(taken by a higher priority: canteens)"
    )


def explain_surplus(problem: AllocationProblem, solution: Solution) -> list[Surplus]:
    sold = np.zeros(len(problem.supplies))
    for arcs, kg in (
        (solution.canteen_arcs, solution.canteen_kg),
        (solution.basket_arcs, solution.basket_kg),
        (solution.shop_arcs, solution.shop_kg),
    ):
        np.add.at(sold, arcs.supply, kg)
    shop_kg: dict[str, float] = defaultdict(float)
    for a in range(solution.shop_arcs.size):
        shop_kg[problem.shops[solution.shop_arcs.target[a]].id] += float(solution.shop_kg[a])
    result = []
    for i, supply in enumerate(problem.supplies):
        unsold = supply.kg - sold[i]
        if unsold > EPS and not supply.bought:
            result.append(
                Surplus(
                    supply.farm_id,
                    supply.product_id,
                    float(unsold),
                    _surplus_reason(problem, solution, i, supply, shop_kg),
                )
            )
    return result


def _surplus_reason(
    problem: AllocationProblem,
    solution: Solution,
    i: int,
    supply: Supply,
    shop_kg: dict[str, float],
) -> str:
    product = problem.products[supply.product_id]
    name = product.name.lower()
    reasons: list[str] = []
    wanting = [n for n in problem.needs if supply.product_id in n.products]
    if not wanting:
        reasons.append(f"no canteen menu asks for {name} this week")
    elif not np.any(solution.canteen_arcs.supply == i):
        organic = all(n.organic_only for n in wanting) and not supply.organic
        reasons.append(
            f"the canteens asking for {name} take organic only"
            if organic
            else f"cannot reach the canteens' {name} delivery days fresh"
        )
    else:
        reasons.append(f"canteens' {name} needs are covered")
    in_baskets = {t for (t, p) in solution.composition if p == supply.product_id}
    if not np.any(solution.basket_arcs.supply == i):
        if problem.basket_deliveries:
            reasons.append("cannot reach the basket days fresh")
    elif in_baskets:
        notes = []
        for t in sorted(in_baskets):
            spec = problem.basket_types[t]
            weight = sum(kg for (tt, _), kg in solution.composition.items() if tt == t)
            share = spec.max_share.get(supply.product_id, 1.0)
            if solution.composition[(t, supply.product_id)] >= share * weight - EPS:
                notes.append(f"basket cap on {name} reached in '{t}' ({share:.0%} of the weight)")
            else:
                notes.append(f"'{t}' baskets are at their target weight ({spec.target_kg:g} kg)")
        reasons.append("; ".join(notes))
    else:
        reasons.append("not chosen for the baskets (they hold a limited number of products)")
    takers = [s for s in problem.shops if s.takes(product.family)]
    if not takers:
        reasons.append(f"no partner shop takes {name}")
    elif not np.any(solution.shop_arcs.supply == i):
        reasons.append("no partner shop delivery day fits its harvest days")
    else:
        full = [s for s in takers if shop_kg[s.id] >= s.max_kg - EPS]
        if len(full) == len(takers):
            reasons.append(
                "partner shops are full ("
                + ", ".join(f"{_name(problem, s.id)} {s.max_kg:g} kg" for s in full)
                + ")"
            )
        else:
            reasons.append("partner shops took other farms' produce first (fairness, transport)")
    return "; ".join(reasons)
