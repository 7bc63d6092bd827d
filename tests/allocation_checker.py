"""Independent checker of allocation results: recomputes every rule from the problem's data
and the result's flows — it shares no code with the model that produced them."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import defaultdict

from foodchain.allocation import AllocationProblem, AllocationResult
from foodchain.scenario import Scenario

TOL = 2e-3  # kg: the result lists shortfalls and surplus from 1 g


def check_allocation(
    problem: AllocationProblem, result: AllocationResult, scenario: Scenario | None = None
) -> list[str]:
    """Every broken rule, in words (empty: the result is valid). With ``scenario``, a same-day
    flow is judged by timing computed here from the scenario (sites, fleet, crow-flies km),
    not by the times the problem carries."""
    timing = OwnTiming(scenario) if scenario is not None else None
    errors: list[str] = []
    week_days = {problem.week.monday() + dt.timedelta(days=i) for i in range(7)}
    supply = {(s.farm_id, s.product_id): s for s in problem.supplies}
    sold: dict[tuple[str, str], float] = defaultdict(float)
    for f in result.flows:
        key = (f.farm_id, f.product_id)
        if key not in supply:
            errors.append(f"flow from an offer that does not exist: {key}")
            continue
        s = supply[key]
        if f.kg < 0:
            errors.append(f"negative flow {f}")
        if s.bought != f.bought or (s.bought and f.purpose != "basket"):
            errors.append(f"bought-in produce is for baskets only, and said so: {f}")
        sold[key] += f.kg
        if f.pickup_day not in week_days or f.delivery_day not in week_days:
            errors.append(f"flow outside the week: {f}")
        if f.pickup_day.weekday() not in s.days:
            errors.append(f"picked up on a day the farm does not offer: {f}")
        storage = (f.delivery_day - f.pickup_day).days
        shelf = problem.products[f.product_id].shelf_life_days
        if storage < 0 or storage >= shelf:
            errors.append(f"delivered {storage} days after pickup, shelf life {shelf}: {f}")
        if storage == 0 and timing is not None:
            ready = timing.at_hub(f.farm_id, f.pickup_day)
            deadline = timing.leave_by(f.destination_id, f.delivery_day)
            if ready > deadline + 1e-6:
                errors.append(
                    f"same-day flow: goods at the hub at minute {ready:.0f} at best, must "
                    f"leave by {deadline:.0f} (timed from the scenario): {f}"
                )
        if storage == 0 and s.at_hub:
            ready = s.at_hub[f.pickup_day.weekday()]
            deadline = _leave_by(problem, f)
            if ready > deadline + 1e-9:
                errors.append(
                    f"same-day flow at the hub at minute {ready:.0f}, must leave by "
                    f"{deadline:.0f}: {f}"
                )
    unsold: dict[tuple[str, str], float] = defaultdict(float)
    for u in result.surplus:
        unsold[(u.farm_id, u.product_id)] += u.kg
    for key, s in supply.items():
        if sold[key] > s.kg + 1e-6:
            errors.append(f"{key} sold {sold[key]:.4f} kg of {s.kg} offered")
        if s.bought:
            if unsold[key]:
                errors.append(f"{key}: what is not bought in is no farm's surplus")
            continue
        if abs(sold[key] + unsold[key] - s.kg) > TOL:
            errors.append(f"{key}: sold {sold[key]:.4f} + unsold {unsold[key]:.4f} != {s.kg}")
    errors += _check_canteens(problem, result, supply)
    errors += _check_baskets(problem, result, supply)
    errors += _check_shops(problem, result)
    return errors


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _minutes(hhmm: str) -> float:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _crow_km(a, b) -> float:
    """Haversine, written here (not the solver's travel module)."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b.lon - a.lon) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


class OwnTiming:
    """The rule "a trip of its own by the slowest van brings the farm's goods to the hub
    before the destination's goods must leave", from the scenario alone."""

    def __init__(self, scenario: Scenario) -> None:
        self.sites = {s.id: s for s in scenario.sites}
        self.brings = {f.site_id: f.brings_own_produce for f in scenario.farms}
        self.hub = self.sites[scenario.hub]
        vans = [v for v in scenario.vehicles if v.max_km_from_hub is None]
        self.speed = min(v.speed_kmh for v in vans)
        self.starts = [_minutes(v.shift.split("-")[0]) for v in vans]
        self.road_factor = float(scenario.settings.get("road_factor", 1.3))
        # README "Travel times": a van's leg, its first 5 km at 25 km/h, up to 30 km at
        # 55 km/h, beyond at 100 km/h (settings.travel may change each; by_leg: false, off).
        self.legs = {"town_km": 5.0, "motorway_from_km": 30.0, "town_kmh": 25.0}
        self.legs |= {"road_kmh": 55.0, "motorway_kmh": 100.0, "by_leg": True}
        self.legs |= scenario.settings.get("travel") or {}

    def window(self, site_id: str, day: dt.date) -> tuple[float, float]:
        windows = self.sites[site_id].windows
        text = windows.get(WEEKDAYS[day.weekday()]) or windows.get("*")
        if not text:
            return 0.0, 24 * 60.0
        opens, closes = text.split("-")
        return _minutes(opens), _minutes(closes)

    def drive(self, site_id: str) -> float:
        km = _crow_km(self.hub, self.sites[site_id]) * self.road_factor
        legs = self.legs
        if not legs["by_leg"]:
            return km / self.speed * 60
        town = min(km, legs["town_km"])
        road = max(0.0, min(km, legs["motorway_from_km"]) - legs["town_km"])
        motorway = max(0.0, km - legs["motorway_from_km"])
        hours = town / legs["town_kmh"] + road / legs["road_kmh"] + motorway / legs["motorway_kmh"]
        return hours * 60

    def at_hub(self, farm_id: str, day: dt.date) -> float:
        opens = self.window(farm_id, day)[0]
        if self.brings[farm_id]:
            return opens
        hub_opens = self.window(self.hub.id, day)[0]
        leave = min(max(start, hub_opens) for start in self.starts) + self.hub.service_minutes
        reach = leave + self.drive(farm_id)
        return max(reach, opens) + self.sites[farm_id].service_minutes + self.drive(farm_id)

    def leave_by(self, site_id: str, day: dt.date) -> float:
        closes = self.window(site_id, day)[1]
        return closes - self.drive(site_id) - self.hub.service_minutes


def _leave_by(problem, flow):
    """The latest minute the flow's goods may leave the hub for its destination that day."""
    day = flow.delivery_day.weekday()
    if flow.purpose == "canteen":
        return min(
            n.leave_by
            for n in problem.needs
            if n.canteen_id == flow.destination_id and n.day == day and n.item_id == flow.item_id
        )
    if flow.purpose == "basket":
        return min(
            d.leave_by
            for d in problem.basket_deliveries
            if d.relay_point_id == flow.destination_id
            and d.day == day
            and d.basket_type_id == flow.item_id
        )
    shop = next(h for h in problem.shops if h.id == flow.destination_id)
    return shop.leave_by[day] if shop.leave_by else float("inf")


def _check_canteens(problem, result, supply) -> list[str]:
    errors = []
    got: dict[tuple[str, str, dt.date], float] = defaultdict(float)
    value: dict[str, float] = defaultdict(float)
    organic_value: dict[str, float] = defaultdict(float)
    quality_value: dict[str, float] = defaultdict(float)
    for f in result.flows:
        if f.purpose != "canteen":
            continue
        got[(f.destination_id, f.item_id, f.delivery_day)] += f.kg
        s = supply[(f.farm_id, f.product_id)]
        euros = f.kg * s.price_eur_per_kg
        value[f.destination_id] += euros
        organic_value[f.destination_id] += euros if s.status.value == "organic" else 0.0
        quality_value[f.destination_id] += euros if s.status.value != "conventional" else 0.0
    needs = {(n.canteen_id, n.item_id, problem.date(n.day)): n for n in problem.needs}
    short: dict[tuple[str, str, dt.date], float] = defaultdict(float)
    for s in result.shortfalls:
        if not s.baskets:
            short[(s.destination_id, s.item_id, s.day)] += s.kg
    for key in set(got) - set(needs):
        errors.append(f"canteen delivery nobody asked for: {key}")
    for key, need in needs.items():
        if abs(got[key] + short[key] - need.kg) > TOL:
            errors.append(f"{key}: met {got[key]:.4f} + short {short[key]:.4f} != {need.kg}")
    for f in result.flows:
        if f.purpose != "canteen":
            continue
        need = needs.get((f.destination_id, f.item_id, f.delivery_day))
        if need and f.product_id not in need.products:
            errors.append(f"{f.product_id} delivered for {f.item_id}: {f}")
        if (
            need
            and need.organic_only
            and supply[(f.farm_id, f.product_id)].status.value != "organic"
        ):
            errors.append(f"non-organic produce for an organic-only canteen: {f}")
    for canteen, rule in problem.rules.items():
        if value[canteen] > 0:
            if organic_value[canteen] < rule.organic_min * value[canteen] - 1e-3:
                errors.append(
                    f"{canteen}: organic share {organic_value[canteen] / value[canteen]:.3f} < {rule.organic_min}"
                )
            if quality_value[canteen] < rule.quality_min * value[canteen] - 1e-3:
                errors.append(
                    f"{canteen}: quality share {quality_value[canteen] / value[canteen]:.3f} < {rule.quality_min}"
                )
    return errors


def _check_baskets(problem, result, supply) -> list[str]:
    errors = []
    composition: dict[str, dict[str, float]] = defaultdict(dict)
    for line in result.baskets:
        composition[line.basket_type_id][line.product_id] = line.kg_per_basket
    filled = {(f.basket_type_id, f.relay_point_id, f.day): f.filled for f in result.fills}
    due = {
        (d.basket_type_id, d.relay_point_id, problem.date(d.day)): d.baskets
        for d in problem.basket_deliveries
    }
    for key, n in filled.items():
        if n > due.get(key, 0) or n < 0:
            errors.append(f"{key}: {n} baskets filled of {due.get(key, 0)} due")
    delivered: dict[tuple[str, str, dt.date], dict[str, float]] = defaultdict(
        lambda: defaultdict(float)
    )
    for f in result.flows:
        if f.purpose != "basket":
            continue
        delivered[(f.item_id, f.destination_id, f.delivery_day)][f.product_id] += f.kg
        spec = problem.basket_types[f.item_id]
        if spec.organic_only and supply[(f.farm_id, f.product_id)].status.value != "organic":
            errors.append(f"non-organic produce in organic-only baskets: {f}")
    for key, n in filled.items():
        type_id = key[0]
        for product, kg in composition[type_id].items():
            if abs(delivered[key][product] - n * kg) > TOL * max(1, n):
                errors.append(
                    f"{key}: {delivered[key][product]:.4f} kg of {product} for {n} baskets of {kg}"
                )
        for product in delivered[key]:
            if product not in composition[type_id] and delivered[key][product] > TOL:
                errors.append(f"{key}: {product} delivered but not in the composition")
    policy = problem.policy
    floor, caps_by = (policy.floor, policy.caps_relaxed_by) if result.relaxed else (1.0, 0.0)
    price = _selling_prices(problem)
    for type_id, items in composition.items():
        spec = problem.basket_types[type_id]
        if not any(n for (t, _, _), n in filled.items() if t == type_id):
            continue
        weight = sum(items.values())
        if not spec.min_kg * floor - 1e-6 <= weight <= spec.max_kg + 1e-6:
            errors.append(f"'{type_id}' weighs {weight:.3f} kg, band {spec.min_kg}-{spec.max_kg}")
        if not spec.min_products <= len(items) <= spec.max_products:
            errors.append(f"'{type_id}' holds {len(items)} products")
        value = sum(price[p] * kg for p, kg in items.items())
        if not spec.value_min * floor - 1e-6 <= value <= spec.value_max + 1e-6:
            errors.append(
                f"'{type_id}' is worth {value:.2f} €, band {spec.value_min:.2f}-{spec.value_max:.2f}"
            )
        for product, kg in items.items():
            if kg > min(1.0, spec.max_share.get(product, 1.0) + caps_by) * weight + 1e-6:
                errors.append(f"'{type_id}': {product} is {kg / weight:.0%} of the weight")
            unit = problem.products[product].unit_kg or policy.step_kg.get(product)
            if unit and abs(kg / unit - round(kg / unit)) > 1e-6:
                errors.append(f"'{type_id}': {kg} kg of {product} is not a multiple of {unit}")
            most = policy.max_units.get(product)
            if most and problem.products[product].unit_kg and kg / unit > most + 1e-6:
                errors.append(f"'{type_id}': {kg / unit:.0f} units of {product}, at most {most}")
        for family, cap in spec.family_caps.items():
            share = sum(kg for p, kg in items.items() if problem.products[p].family == family)
            if share > min(1.0, cap + caps_by) * weight + 1e-6:
                errors.append(f"'{type_id}': family {family} is {share / weight:.0%} of the weight")
    if result.nested:
        errors += _check_nesting(problem, composition)
    elif problem.policy.chains and len(composition) > 1 and not result.notes:
        errors.append("the sizes do not nest, and the result does not say why")
    unfilled = sum(due.values()) - sum(filled.values())
    if unfilled and policy.can_relax and not result.relaxed:
        errors.append(f"{unfilled} baskets left unfilled before the short week's rules were tried")
    errors += _check_one_more(problem, result, supply, composition, filled, due)
    return errors


def _check_one_more(problem, result, supply, composition, filled, due) -> list[str]:
    """A size left short on a day is at its most: the produce nobody took (unsold, sent to a
    shop, or not bought in) that reaches that day fresh cannot make one more basket of the
    size's composition. Else a delivery was held back by another (a share of every day alike,
    dragged down by a day little produce reaches)."""
    errors = []
    taken: dict[tuple[str, str], float] = defaultdict(float)
    for f in result.flows:
        if f.purpose != "shop":  # a shop takes only what baskets leave
            taken[(f.farm_id, f.product_id)] += f.kg
    short: dict[tuple[str, dt.date], int] = defaultdict(int)
    for (type_id, _relay, day), n in due.items():
        short[(type_id, day)] += n - filled.get((type_id, _relay, day), 0)
    for (type_id, day), missing in sorted(short.items()):
        items = composition.get(type_id)
        if missing <= 0 or not items:
            continue
        weekday = day.weekday()
        spec = problem.basket_types[type_id]
        leaves = min(
            d.leave_by
            for d in problem.basket_deliveries
            if d.basket_type_id == type_id and d.day == weekday and d.baskets > 0
        )
        left: dict[str, float] = defaultdict(float)
        for key, s in supply.items():
            if s.product_id not in items or (spec.organic_only and s.status.value != "organic"):
                continue
            shelf = problem.products[s.product_id].shelf_life_days
            fresh = any(
                (a < weekday or (a == weekday and (not s.at_hub or s.at_hub[a] <= leaves)))
                and weekday - a < shelf
                for a in s.days
            )
            if fresh:
                left[s.product_id] += max(0.0, s.kg - taken[key])
        if all(left[p] >= kg - TOL for p, kg in items.items()):
            errors.append(
                f"'{type_id}' on {day}: {missing} baskets unfilled while the produce left that "
                f"reaches that day fresh makes one more ({', '.join(sorted(items))})"
            )
        elif _one_more_by_lp(problem, result, supply, items, type_id, day, filled):
            errors.append(
                f"'{type_id}' on {day}: {missing} baskets unfilled while the same products, "
                "weighed otherwise within the rules, make one more"
            )
    return errors


def _one_more_by_lp(problem, result, supply, items, type_id, day, filled) -> bool:
    """Whether one more basket of ``type_id`` on ``day`` fits with the same products in other
    kg (an LP of this checker's own, scipy's linprog: the size's kg per basket and its flows
    on each of its days; other destinations' flows kept). Only where the LP is exact: no
    product in steps or whole units, sizes not nested."""
    from scipy.optimize import linprog

    policy = problem.policy
    products = sorted(items)
    if result.nested or any(problem.products[p].unit_kg or policy.step_kg.get(p) for p in products):
        return False
    spec = problem.basket_types[type_id]
    floor, caps_by = (policy.floor, policy.caps_relaxed_by) if result.relaxed else (1.0, 0.0)
    baskets: dict[int, int] = defaultdict(int)
    for (t, _relay, date), n in filled.items():
        if t == type_id and n > 0:  # a day of no baskets has no departure to meet
            baskets[date.weekday()] += n
    baskets[day.weekday()] += 1
    others: dict[tuple[str, str], float] = defaultdict(float)
    for f in result.flows:
        if f.purpose == "canteen" or (f.purpose == "basket" and f.item_id != type_id):
            others[(f.farm_id, f.product_id)] += f.kg
    leaves = {
        d: min(
            x.leave_by
            for x in problem.basket_deliveries
            if x.basket_type_id == type_id and x.day == d and x.baskets > 0
        )
        for d in baskets
    }
    keys = [k for k, s in supply.items() if s.product_id in items]
    if spec.organic_only:
        keys = [k for k in keys if supply[k].status.value == "organic"]
    arcs = []  # (supply key, day) pairs that reach the day fresh
    for key in keys:
        s = supply[key]
        shelf = problem.products[s.product_id].shelf_life_days
        for d in baskets:
            if any(
                (a < d or (a == d and (not s.at_hub or s.at_hub[a] <= leaves[d]))) and d - a < shelf
                for a in s.days
            ):
                arcs.append((key, d))
    n_z = len(products)
    n = n_z + len(arcs)
    eq_rows, eq_rhs, up_rows, up_rhs = [], [], [], []
    for j, p in enumerate(products):  # flows of p on day d = baskets that day x kg of p
        for d, count in baskets.items():
            row = [0.0] * n
            row[j] = -float(count)
            for a, (key, dd) in enumerate(arcs):
                if dd == d and key[1] == p:
                    row[n_z + a] = 1.0
            eq_rows.append(row)
            eq_rhs.append(0.0)
    for key in keys:  # what is left of each offer
        row = [0.0] * n
        for a, (k, _d) in enumerate(arcs):
            if k == key:
                row[n_z + a] = 1.0
        up_rows.append(row)
        up_rhs.append(supply[key].kg - others[key])
    weight = [1.0] * n_z + [0.0] * len(arcs)
    up_rows += [[-x for x in weight], weight]
    up_rhs += [-spec.min_kg * floor, spec.max_kg]
    price = _selling_prices(problem)
    value = [price[p] for p in products] + [0.0] * len(arcs)
    up_rows += [[-x for x in value], value]
    up_rhs += [-spec.value_min * floor, spec.value_max if spec.value_max < math.inf else 1e9]
    for j, p in enumerate(products):  # product and family caps
        cap = min(1.0, spec.max_share.get(p, 1.0) + caps_by)
        row = [-cap * x for x in weight]
        row[j] += 1.0
        up_rows.append(row)
        up_rhs.append(0.0)
    for family, cap in spec.family_caps.items():
        inside = [1.0 if problem.products[p].family == family else 0.0 for p in products]
        row = [inside[j] - min(1.0, cap + caps_by) if j < n_z else 0.0 for j in range(n)]
        up_rows.append(row)
        up_rhs.append(0.0)
    least = 0.2  # kg of a product worth a basket (AllocationParameters.min_kg_per_product)
    bounds = [(least, None)] * n_z + [(0.0, None)] * len(arcs)
    found = linprog([0.0] * n, A_ub=up_rows, b_ub=up_rhs, A_eq=eq_rows, b_eq=eq_rhs, bounds=bounds)
    return bool(found.status == 0)


def _selling_prices(problem) -> dict[str, float]:
    """The week's selling price of each product, recomputed: farms' offers weighted by kg (the
    buy-in's price where no farm offers it), times (1 + the hub's margin)."""
    kg: dict[str, float] = defaultdict(float)
    euros: dict[str, float] = defaultdict(float)
    price: dict[str, float] = {}
    for s in problem.supplies:
        if s.bought:
            price.setdefault(s.product_id, s.price_eur_per_kg)
        else:
            kg[s.product_id] += s.kg
            euros[s.product_id] += s.kg * s.price_eur_per_kg
    price.update({p: euros[p] / kg[p] for p in kg if kg[p] > 0})
    return {p: x * (1 + problem.policy.hub_margin) for p, x in price.items()}


def _check_nesting(problem, composition) -> list[str]:
    """Each size of a chain holds the previous size's products (as much or more of each) and
    at most ``max_added_products`` more; sizes without baskets this week are skipped."""
    errors = []
    for chain in problem.policy.chains:
        sizes = [t for t in chain if composition.get(t)]
        for small, large in itertools.pairwise(sizes):
            for product, kg in composition[small].items():
                if composition[large].get(product, 0.0) < kg - 1e-6:
                    errors.append(f"'{large}' holds less {product} than '{small}'")
            added = len(set(composition[large]) - set(composition[small]))
            if added > problem.policy.max_added_products:
                errors.append(f"'{large}' adds {added} products to '{small}'")
    return errors


def _check_shops(problem, result) -> list[str]:
    errors = []
    shops = {s.id: s for s in problem.shops}
    taken: dict[str, float] = defaultdict(float)
    for f in result.flows:
        if f.purpose != "shop":
            continue
        shop = shops[f.destination_id]
        taken[shop.id] += f.kg
        family = problem.products[f.product_id].family
        if shop.families and family not in shop.families:
            errors.append(f"{shop.id} does not take {family}: {f}")
        if f.delivery_day.weekday() not in shop.days:
            errors.append(f"{shop.id} is not delivered on {f.delivery_day}: {f}")
    for shop_id, kg in taken.items():
        if kg > shops[shop_id].max_kg + 1e-6:
            errors.append(f"{shop_id} takes {kg:.3f} kg, more than {shops[shop_id].max_kg}")
    return errors
