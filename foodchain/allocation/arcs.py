"""The flows the rules allow (arcs: offer -> need, basket or shop, by day) and the classes
of interchangeable offers of large regions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from foodchain.allocation.lp import FloatArray, IntArray
from foodchain.allocation.problem import AllocationProblem, Supply


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
    ``Builder.egalim_certified``).
    """

    of_supply: IntArray
    """Class of each supply."""
    kg: FloatArray
    product: list[str]
    organic: FloatArray
    quality: FloatArray
    price_low: FloatArray
    price_high: FloatArray
    bought: FloatArray

    @property
    def size(self) -> int:
        return int(self.kg.size)


def make_arcs(rows: list[tuple[int, int, int, int]]) -> Arcs:
    data = np.array(rows, dtype=np.int64).reshape(-1, 4)
    return Arcs(data[:, 0], data[:, 1], data[:, 2], data[:, 3])


def candidate_arcs(problem: AllocationProblem) -> tuple[Arcs, Arcs, Arcs, list[str]]:
    """Every flow the rules allow: product, organic rule, delivery day within shelf life;
    bought-in produce for baskets only."""
    by_product: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(problem.supplies):
        by_product[s.product_id].append(i)
    canteen: list[tuple[int, int, int, int]] = []
    for n, need in enumerate(problem.needs):
        for product in need.products:
            for i in by_product.get(product, []):
                supply = problem.supplies[i]
                if supply.bought or (need.organic_only and not supply.organic):
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
            if supply.bought or not shop_spec.takes(problem.products[supply.product_id].family):
                continue
            for day in sorted(shop_spec.days):  # the shop's first delivery day the produce reaches
                pickup = problem.pickup_day(supply, day, shop_spec.latest(day))
                if pickup is not None:
                    shop.append((i, h, day, pickup))
                    break
    return make_arcs(canteen), make_arcs(basket), make_arcs(shop), type_ids


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
                keys.setdefault(
                    (s.product_id, s.organic, s.quality, s.bought, tuple(reach[i])), len(keys)
                )
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
        np.array([supplies[i].bought for i in first.tolist()], dtype=np.float64),
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
