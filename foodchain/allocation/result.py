"""What the allocation decided, in the words and units of the people who use it."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from foodchain.allocation.direct import HANDED_OVER, OWN, share_among_relays
from foodchain.organic import OrganicStatus
from foodchain.weeks import Week

if TYPE_CHECKING:  # the solver's types only: readers of results need no solver
    from foodchain.allocation.parameters import TierStats
    from foodchain.allocation.problem import AllocationProblem
    from foodchain.allocation.solution import Solution

CANTEEN, BASKET, SHOP = "canteen", "basket", "shop"


@dataclass(frozen=True)
class Flow:
    """Kg of one farm's product for one destination, picked up and delivered on given days."""

    farm_id: str
    product_id: str
    destination_id: str
    pickup_day: dt.date
    delivery_day: dt.date
    kg: float
    purpose: str
    """canteen, basket or shop."""
    item_id: str = ""
    """For canteens: the menu's product or substitution group; for baskets: the basket size."""
    organic_status: OrganicStatus = field(kw_only=True)
    price_eur_per_kg: float = field(kw_only=True)
    """The offer's status and price: what EGalim shares and delivery notes are made of."""
    bought: bool = field(default=False, kw_only=True)
    """Bought in from the buy-in supplier (``farm_id``), not a partner farm's offer."""
    delivered_by: str = field(default="", kw_only=True)
    """The farm whose own round delivers it, from that farm (``allocation.direct``); empty:
    the hub's rounds. When it is ``farm_id``, the produce never goes through the hub."""
    handed_over: dt.date | None = field(default=None, kw_only=True)
    """Another farm's produce for a destination ``delivered_by`` a farm: collected to the hub
    as usual (``pickup_day``), it goes into that farm's van at the hub on this day (the farm
    brings its own produce that day), then on its round."""


@dataclass(frozen=True)
class BasketLine:
    """What every basket of one size holds of one product this week."""

    basket_type_id: str
    product_id: str
    kg_per_basket: float
    baskets: int
    units_per_basket: int | None = None


@dataclass(frozen=True)
class BasketFill:
    """Baskets of one size due and filled at one relay point."""

    basket_type_id: str
    relay_point_id: str
    day: dt.date
    due: int
    filled: int


@dataclass(frozen=True)
class Shortfall:
    destination_id: str
    item_id: str
    """Product or group for canteens, basket size for baskets."""
    day: dt.date
    kg: float
    reason: str
    baskets: int = 0
    """For baskets: how many were not filled."""


@dataclass(frozen=True)
class Surplus:
    farm_id: str
    product_id: str
    kg: float
    reason: str


@dataclass(frozen=True)
class Fairness:
    """How evenly a product's sales are spread over the farms that offered it.

    ``index`` is Jain's index of the sold shares weighted by kg offered: 1 when every farm sold
    the same share of its offer, towards 1/n when one farm sold everything.
    """

    product_id: str
    index: float
    offered_kg: float
    shares: dict[str, float]


@dataclass(frozen=True)
class AllocationResult:
    """Never printed by the library: the CLI and the plan documents present it."""

    week: Week
    status: str
    flows: list[Flow]
    baskets: list[BasketLine]
    fills: list[BasketFill]
    shortfalls: list[Shortfall]
    surplus: list[Surplus]
    fairness: list[Fairness]
    tiers: list[TierStats]
    supply_kg: float
    canteen_demand_kg: float
    stats: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    """How the week's rules gave way (a short week's lighter baskets), in words."""
    relaxed: bool = False
    """The baskets follow the short week's rules (``BasketPolicy.floor``, caps raised)."""
    nested: bool = False
    """The sizes nest as ``BasketPolicy.chains`` asks (False: none asked, or gave way)."""

    def kg_to(self, purpose: str) -> float:
        return sum(f.kg for f in self.flows if f.purpose == purpose)

    @property
    def bought_kg(self) -> float:
        return sum(f.kg for f in self.flows if f.bought)

    @property
    def bought_eur(self) -> float:
        return sum(f.kg * f.price_eur_per_kg for f in self.flows if f.bought)

    @property
    def canteen_short_kg(self) -> float:
        return sum(s.kg for s in self.shortfalls if not s.baskets)

    @property
    def baskets_due(self) -> int:
        return sum(f.due for f in self.fills)

    @property
    def baskets_filled(self) -> int:
        return sum(f.filled for f in self.fills)

    @property
    def unsold_kg(self) -> float:
        return sum(s.kg for s in self.surplus)

    @property
    def fairness_overall(self) -> float:
        return overall_fairness(self.fairness)


def overall_fairness(fairness: Sequence[Fairness]) -> float:
    """The products' indices averaged with their kg offered as weights."""
    total = sum(f.offered_kg for f in fairness)
    if not total:
        return 1.0
    return sum(f.index * f.offered_kg for f in fairness) / total


def jain_index(offered: list[float], sold: list[float]) -> float:
    """Jain's fairness index of the shares sold/offered, each farm weighted by its offer."""
    pairs = [(o, s / o) for o, s in zip(offered, sold, strict=True) if o > 0]
    num = sum(w * x for w, x in pairs) ** 2
    den = sum(w for w, _ in pairs) * sum(w * x * x for w, x in pairs)
    return num / den if den > 1e-12 else 1.0


def assemble(
    problem: AllocationProblem,
    solution: Solution,
    shortfalls: list[Shortfall],
    surplus: list[Surplus],
    notes: list[str] | None = None,
) -> AllocationResult:
    flows = _flows(problem, solution)
    sold: dict[tuple[str, str], float] = defaultdict(float)
    for flow in flows:
        sold[(flow.farm_id, flow.product_id)] += flow.kg
    by_product: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for s in problem.supplies:
        if not s.bought:
            by_product[s.product_id].append((s.farm_id, s.kg))
    fairness = []
    for product, offers in sorted(by_product.items()):
        got = [sold[(farm, product)] for farm, _ in offers]
        kg = [k for _, k in offers]
        fairness.append(
            Fairness(
                product,
                jain_index(kg, got),
                sum(kg),
                {farm: g / k for (farm, k), g in zip(offers, got, strict=True)},
            )
        )
    filled_by_type: dict[str, int] = defaultdict(int)
    for (type_id, _relay, _day), n in solution.baskets_filled.items():
        filled_by_type[type_id] += n
    baskets = [
        BasketLine(
            type_id,
            product,
            kg,
            filled_by_type[type_id],
            round(kg / unit) if (unit := problem.products[product].unit_kg) else None,
        )
        for (type_id, product), kg in sorted(solution.composition.items())
    ]
    fills = [
        BasketFill(
            d.basket_type_id,
            d.relay_point_id,
            problem.date(d.day),
            d.baskets,
            solution.baskets_filled.get((d.basket_type_id, d.relay_point_id, d.day), 0),
        )
        for d in problem.basket_deliveries
    ]
    return AllocationResult(
        week=problem.week,
        status=solution.status,
        flows=flows,
        baskets=baskets,
        fills=fills,
        shortfalls=shortfalls,
        surplus=surplus,
        fairness=fairness,
        tiers=list(solution.tiers),
        supply_kg=sum(s.kg for s in problem.supplies if not s.bought),
        canteen_demand_kg=sum(n.kg for n in problem.needs),
        stats={
            "variables": solution.variables,
            "constraints": solution.constraints,
            "integer_variables": solution.integers,
            "build_seconds": solution.build_seconds,
            "solve_seconds": sum(t.seconds for t in solution.tiers),
        },
        notes=list(notes or []),
        relaxed=solution.relaxed,
        nested=solution.nested,
    )


def _flows(problem: AllocationProblem, solution: Solution) -> list[Flow]:
    """Flows from the solver's arcs. Basket kg are shared among the day's relay points by their
    number of baskets filled, so every basket of a size gets the same composition."""
    supplies, date = problem.supplies, problem.date
    flows: list[Flow] = []
    arcs = solution.canteen_arcs
    for a in range(arcs.size):
        kg = float(solution.canteen_kg[a])
        if kg > 0:
            s, need = supplies[arcs.supply[a]], problem.needs[arcs.target[a]]
            flows.append(
                Flow(
                    s.farm_id,
                    s.product_id,
                    need.canteen_id,
                    date(int(arcs.pickup[a])),
                    date(int(arcs.day[a])),
                    kg,
                    CANTEEN,
                    need.item_id,
                    organic_status=s.status,
                    price_eur_per_kg=s.price_eur_per_kg,
                    delivered_by=problem.direct.carrier(s.farm_id, need.canteen_id),
                )
            )
    relays: dict[tuple[str, int], list[tuple[str, int]]] = defaultdict(list)
    for (type_id, relay, day), n in sorted(solution.baskets_filled.items()):
        if n > 0:
            relays[(type_id, day)].append((relay, n))
    arcs = solution.basket_arcs
    pieces: dict[tuple[str, int, str], list[tuple[int, str, float]]] = defaultdict(list)
    for a in range(arcs.size):
        kg = float(solution.basket_kg[a])
        if kg > 0:
            s = supplies[arcs.supply[a]]
            type_id, day = solution.basket_type_ids[arcs.target[a]], int(arcs.day[a])
            pieces[(type_id, day, s.product_id)].append((a, s.farm_id, kg))
    direct = problem.direct

    def handover(a: int, relay: str) -> tuple[str, int, int] | None:
        """(farm delivering ``relay`` itself, day its van takes arc ``a``'s kg at the hub,
        the latest pickup day before that within the product's shelf life), if any."""
        carrier = direct.delivered_by(relay)
        s, day = supplies[arcs.supply[a]], int(arcs.day[a])
        at_hub = direct.handover_day(carrier, day) if carrier else None
        if at_hub is None or s.farm_id == carrier:
            return None
        shelf = problem.products[s.product_id].shelf_life_days
        early = [d for d in s.days if d < at_hub and day - d < shelf]
        return (carrier, at_hub, max(early)) if early else None

    def way(a: int, relay: str) -> int | None:
        if direct.delivers(supplies[arcs.supply[a]].farm_id, relay):
            return OWN
        return HANDED_OVER if handover(a, relay) is not None else None

    for (type_id, day, _product), farms in sorted(pieces.items()):
        total = sum(n for _, n in relays[(type_id, day)])
        kg = sum(piece_kg for _, _, piece_kg in farms)
        needs = {relay: kg * n / total for relay, n in relays[(type_id, day)]}
        for a, relay, share in share_among_relays(farms, needs, way):
            s = supplies[arcs.supply[a]]
            taken = handover(a, relay) if way(a, relay) == HANDED_OVER else None
            flows.append(
                Flow(
                    s.farm_id,
                    s.product_id,
                    relay,
                    date(taken[2] if taken else int(arcs.pickup[a])),
                    date(day),
                    share,
                    BASKET,
                    type_id,
                    organic_status=s.status,
                    price_eur_per_kg=s.price_eur_per_kg,
                    bought=s.bought,
                    delivered_by=taken[0] if taken else direct.carrier(s.farm_id, relay),
                    handed_over=date(taken[1]) if taken else None,
                )
            )
    arcs = solution.shop_arcs
    for a in range(arcs.size):
        kg = float(solution.shop_kg[a])
        if kg > 0:
            s = supplies[arcs.supply[a]]
            flows.append(
                Flow(
                    s.farm_id,
                    s.product_id,
                    problem.shops[arcs.target[a]].id,
                    date(int(arcs.pickup[a])),
                    date(int(arcs.day[a])),
                    kg,
                    SHOP,
                    organic_status=s.status,
                    price_eur_per_kg=s.price_eur_per_kg,
                    delivered_by=problem.direct.carrier(
                        s.farm_id, problem.shops[arcs.target[a]].id
                    ),
                )
            )
    return flows
