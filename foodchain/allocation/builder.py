"""The allocation's model as sparse arrays: variables per arc, the rows of each rule, each
tier's objective; and reading a solution back."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import defaultdict

import numpy as np

from foodchain.allocation.arcs import Arcs, make_arcs, offer_classes
from foodchain.allocation.direct import direct_credits
from foodchain.allocation.lp import FloatArray, IntArray, Model
from foodchain.allocation.parameters import AllocationParameters
from foodchain.allocation.problem import AllocationProblem, Supply
from foodchain.allocation.solution import Solution
from foodchain.organic import OrganicStatus


def leftover_builder(builder: Builder, tier1: FloatArray) -> Builder:
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
    classes: dict[tuple[str, bool, tuple[int, ...], bool], int] = {}
    member_class = {}
    price: dict[int, float] = defaultdict(float)
    for i in sorted(reach):
        bought = bool(offers.bought[i])
        key = (offers.product[i], bool(offers.organic[i]), tuple(sorted(reach[i])), bought)
        member_class[i] = c = classes.setdefault(key, len(classes))
        if bought:  # what buying costs is an objective: keep its price
            price[c] = max(price[c], float(offers.price_high[i]))
    kg = np.zeros(len(classes))
    for i, c in member_class.items():
        kg[c] += max(0.0, leftover[i])
    pooled = tuple(
        Supply(
            f"class_{c}",
            product,
            float(kg[c]),
            price[c],
            OrganicStatus.ORGANIC if organic else OrganicStatus.CONVENTIONAL,
            days,
            0.0,
            bought=bought,
        )
        for (product, organic, days, bought), c in sorted(classes.items(), key=lambda kv: kv[1])
    )
    rows = sorted(
        {
            (member_class[i], t, day, day)
            for i, t, day in zip(
                arcs.supply.tolist(), arcs.target.tolist(), arcs.day.tolist(), strict=True
            )
        }
    )
    empty = make_arcs([])
    reduced = dataclasses.replace(problem, supplies=pooled, needs=(), shops=())
    return Builder(reduced, builder.params, (empty, make_arcs(rows), empty), builder.type_ids)


class Builder:
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
        self.direct_cols: IntArray = np.array([], dtype=np.int64)
        self.direct_km_saved: FloatArray = np.array([], dtype=np.float64)
        """Transport tier: columns carrying farms' own direct deliveries, km a kg saves."""

    # ---------------------------------------------------------------- layout and rows

    def model(
        self,
        counts: dict[tuple[str, str, int], int] | None,
        market: bool = False,
        relaxed: bool = False,
        buying: bool = False,
        nested: bool = True,
    ) -> Model:
        """Canteens (tier 1); baskets too if ``counts`` (tier 2), under the short week's
        rules if ``relaxed``, with bought-in produce only if ``buying``, the sizes nested
        (``BasketPolicy.chains``) only if ``nested``; shops and fairness
        too if ``market`` (tiers 3-5). Column indices of the last model built are kept on
        self."""
        p, m = self.p, Model()
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
            self._basket_layer(m, counts, sold_rows, sold_cols, relaxed, nested)
            bought = self.x_bsk[self.offers.bought[self.ba.supply] > 0]
            if bought.size and not buying:
                m.row(bought, np.ones(bought.size), -np.inf, 0.0)
            if market:
                self._market_layer(m, sold_rows, sold_cols)
                self.direct_cols, self.direct_km_saved = direct_credits(self, m, counts)
        m.rows(
            np.concatenate(sold_rows),
            np.concatenate(sold_cols),
            np.ones(sum(c.size for c in sold_cols)),
            np.full(self.offers.size, -np.inf),
            self.offers.kg,
        )
        return m

    def _egalim_rows(self, m: Model) -> None:
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

    def egalim_certified(self, m: Model) -> bool:
        """True when no EGalim row written with a class's least favourable price has a dual
        value in the LP just solved: its solution is then optimal without those rows too, so
        also with the farms' own prices (pooling the offers cannot have changed the optimum)."""
        if not self.egalim:
            return True
        return m.duals is not None and bool(np.all(np.abs(m.duals[self.egalim]) <= 1e-7))

    def _basket_layer(
        self,
        m: Model,
        counts: dict[tuple[str, str, int], int],
        sold_rows: list[IntArray],
        sold_cols: list[IntArray],
        relaxed: bool,
        nested: bool,
    ) -> None:
        p, params = self.p, self.params
        per_day: dict[tuple[int, int], int] = defaultdict(int)
        for (type_id, _relay, day), n in counts.items():
            per_day[(self.type_ids.index(type_id), day)] += n
        per_type: dict[int, int] = defaultdict(int)
        for (t, _day), n in per_day.items():
            per_type[t] += n
        specs = [p.basket_types[t] for t in self.type_ids]
        if relaxed:
            specs = [x.relaxed(p.policy.floor, p.policy.caps_relaxed_by) for x in specs]
        self.x_bsk = m.variables(self.ba.size, 0.0, np.inf)
        self.unit_cols: dict[tuple[int, str], int] = {}
        self.step_cols: list[int] = []
        """Counts of steps of products sold by weight (not pieces): see ``fix_products``."""
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
        policy = p.policy
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
            if used and (spec.value_min > 0 or spec.value_max < math.inf):
                value = np.array([policy.value_per_kg.get(x, 0.0) for x in products])
                m.row(z, value, spec.value_min, spec.value_max)
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
                # Whole units, or multiples of a practical step: a count of them per basket.
                step = info.unit_kg or policy.step_kg.get(product)
                if step:
                    top = math.floor(most_kg / step + 1e-9)
                    if info.unit_kg and product in policy.max_units:
                        top = min(top, policy.max_units[product])
                    count = m.variables(1, 0.0, float(top), integer=True)
                    m.row(np.array([z[k], count[0]]), np.array([1.0, -step]), 0.0, 0.0)
                    self.unit_cols[(t, product)] = int(count[0])
                    if not info.unit_kg:
                        self.step_cols.append(int(count[0]))
            for family, cap in spec.family_caps.items():
                inside = np.array([p.products[x].family == family for x in products])
                if cap < 1.0 and inside.any():
                    m.row(z, inside.astype(np.float64) - cap, -np.inf, 0.0)
        if nested:
            self._nesting(m, per_type)
        # Closeness to the mid-band weight (tier 2's objective).
        self.weight_dev = m.variables(len(specs), 0.0, np.inf)
        for t, spec in enumerate(specs):
            members = [k for k, (tt, _) in enumerate(keys) if tt == t]
            cols_t = np.append(self.z[members], self.weight_dev[t])
            m.row(cols_t, np.append(np.ones(len(members)), -1.0), -np.inf, spec.target_kg)
            m.row(cols_t, np.append(np.ones(len(members)), 1.0), spec.target_kg, np.inf)
        self.type_baskets = np.array([per_type[t] for t in range(len(specs))], dtype=np.float64)

    def _nesting(self, m: Model, per_type: dict[int, int]) -> None:
        """Each size of a chain holds the next smaller size's products, as much or more of
        each, and adds at most ``max_added_products`` (sizes without baskets are skipped)."""
        policy = self.p.policy
        for chain in policy.chains:
            sizes = [self.type_ids.index(x) for x in chain if x in self.type_ids]
            sizes = [t for t in sizes if per_type[t] > 0]
            for small, large in itertools.pairwise(sizes):
                smaller = [k for k, (t, _) in enumerate(self.basket_products) if t == small]
                larger = [k for k, (t, _) in enumerate(self.basket_products) if t == large]
                for k in smaller:
                    kk = self.bp_index.get((large, self.basket_products[k][1]))
                    if kk is None:  # the larger size cannot hold it: neither can this one
                        m.row(np.array([self.u[k]]), np.ones(1), -np.inf, 0.0)
                        continue
                    for cols in ((self.u[kk], self.u[k]), (self.z[kk], self.z[k])):
                        m.row(np.array(cols), np.array([1.0, -1.0]), 0.0, np.inf)
                m.row(
                    np.concatenate([self.u[larger], self.u[smaller]]),
                    np.concatenate([np.ones(len(larger)), -np.ones(len(smaller))]),
                    -np.inf,
                    float(policy.max_added_products),
                )

    def _market_layer(self, m: Model, sold_rows: list[IntArray], sold_cols: list[IntArray]) -> None:
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
        # Fairness: each farm's sold share of a product close to a common share rho_p
        # (among the farms: what is bought in is no farm's share).
        farms = np.flatnonzero([not s.bought for s in p.supplies])
        k = farms.size
        rho = m.variables(len(self.fair_products), 0.0, 1.0)
        self.deviation = m.variables(k, 0.0, np.inf)
        product_index = {x: j for j, x in enumerate(self.fair_products)}
        rho_col = rho[[product_index[self.product_of_supply[i]] for i in farms]]
        for sign in (1.0, -1.0):
            m.rows(
                np.concatenate([np.arange(k)] * 3),
                np.concatenate([self.x_sold[farms], rho_col, self.deviation]),
                np.concatenate([np.full(k, sign), -sign * self.supply_kg[farms], -np.ones(k)]),
                np.full(k, -np.inf),
                np.zeros(k),
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

    def fix_products(self, m: Model, values: FloatArray) -> None:
        """Keep which products each size holds (and its whole pieces) as in ``values``, a
        solution with steps relaxed: what is left to decide is how many steps of each."""
        cols = [int(self.u[k]) for k in range(len(self.basket_products))]
        cols += [c for c in self.unit_cols.values() if c not in set(self.step_cols)]
        chosen = np.array(cols, dtype=np.int64)
        m.fix(chosen, np.round(values[chosen]))

    def fix_basket_choice(
        self, m: Model, choice: dict[tuple[int, str], tuple[float, float]]
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

    def objective_short(self, m: Model) -> FloatArray:
        c = np.zeros(m.n)
        c[self.short_cols] = 1.0
        return c

    def objective_weight(self, m: Model) -> FloatArray:
        c = np.zeros(m.n)
        c[self.weight_dev] = self.type_baskets
        return c

    def objective_bought(self, m: Model) -> FloatArray:
        """€ of produce bought in for the baskets."""
        c = np.zeros(m.n)
        bought = self.offers.bought[self.ba.supply] > 0
        c[self.x_bsk[bought]] = self.offers.price_high[self.ba.supply[bought]]
        return c

    def objective_shops(self, m: Model) -> FloatArray:
        c = np.zeros(m.n)
        c[self.x_shop] = 1.0
        return c

    def objective_fairness(self, m: Model) -> FloatArray:
        c = np.zeros(m.n)
        c[self.deviation] = 1.0
        return c

    def objective_transport(self, m: Model) -> FloatArray:
        c = np.zeros(m.n)
        c[self.x_sold] = self.km + self.params.cost_per_kgkm * self.price
        c[self.direct_cols] -= self.direct_km_saved  # farms' own deliveries skip the hub
        return c

    # ---------------------------------------------------------------- reading the solution

    def solution(self, values: FloatArray, counts: dict[tuple[str, str, int], int]) -> Solution:
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
        )
