"""The allocation problem of one week, as immutable, number-indexed data (no database).

Built from the week's forecasts and demand (``build_problem``); solved by ``solver.solve``;
checked by an independent checker in the tests.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from foodchain.allocation.direct import DirectArcs
from foodchain.catalogue import Catalogue
from foodchain.demand import WeekDemand
from foodchain.models import BasketTypeIn, ForecastIn, SiteKind, Unit
from foodchain.organic import OrganicStatus
from foodchain.timing import can_feed, goods_at_hub, latest_loading_start, site_window
from foodchain.weeks import WEEKDAYS, Week


@dataclass(frozen=True)
class Supply:
    """What one farm offers of one product in the week."""

    farm_id: str
    product_id: str
    kg: float
    price_eur_per_kg: float
    status: OrganicStatus
    days: tuple[int, ...]
    """Weekdays (0 = Monday) the produce can be picked up."""
    km_to_hub: float
    at_hub: tuple[float, ...] = ()
    """Per weekday, the earliest minute picked-up goods can be loaded at the hub that day
    (the farm's window opens, the van drives back); empty: at midnight."""
    bought: bool = False
    """Bought in (``BuyIn``): for baskets only, only what farms cannot fill, no fairness."""

    def ready(self, day: int) -> float:
        return self.at_hub[day] if self.at_hub else 0.0

    @property
    def organic(self) -> bool:
        return self.status.is_organic

    @property
    def quality(self) -> bool:
        return self.status.is_quality


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    family: str
    shelf_life_days: int
    unit_kg: float | None
    """kg of one piece or bunch for products sold by the unit (baskets then hold whole units)."""


@dataclass(frozen=True)
class CanteenNeed:
    """Kg a canteen needs of a product or substitution group, delivered on a day."""

    canteen_id: str
    item_id: str
    products: tuple[str, ...]
    day: int
    kg: float
    organic_only: bool
    leave_by: float = math.inf
    """The latest minute goods can leave the hub and reach the canteen within its window."""


@dataclass(frozen=True)
class CanteenRule:
    """Minimum shares of purchase value: organic (EGalim 20%) and quality (EGalim 50%)."""

    canteen_id: str
    organic_min: float
    quality_min: float


@dataclass(frozen=True)
class BasketSpec:
    id: str
    min_kg: float
    max_kg: float
    min_products: int
    max_products: int
    max_share: dict[str, float]
    """Per product: the largest share of a basket's weight (product and family caps folded in)."""
    family_caps: dict[str, float]
    organic_only: bool
    price_eur: float = 0.0
    value_min: float = 0.0
    """Least value of the contents at the week's selling prices (€; 0: no value rule)."""
    value_max: float = math.inf
    target: float | None = None
    """The weight baskets are filled towards; None: the middle of the band."""

    @property
    def target_kg(self) -> float:
        return self.target if self.target is not None else (self.min_kg + self.max_kg) / 2

    def relaxed(self, floor: float, caps_by: float) -> BasketSpec:
        """The rules of a short week: down to ``floor`` of the least weight and value, caps
        up by ``caps_by`` (the target weight stays: baskets are filled as close as supply
        lets them)."""
        return dataclasses.replace(
            self,
            min_kg=self.min_kg * floor,
            value_min=self.value_min * floor,
            max_share={p: min(1.0, x + caps_by) for p, x in self.max_share.items()},
            family_caps={f: min(1.0, x + caps_by) for f, x in self.family_caps.items()},
            target=self.target_kg,
        )


@dataclass(frozen=True)
class BasketPolicy:
    """The week's basket rules beyond each size's own (``foodchain.basket_rules``).

    The default keeps none of them: sizes independent, no value rule, any kg, no relaxing."""

    chains: tuple[tuple[str, ...], ...] = ()
    """Sizes that nest, smallest first: each holds the previous one's products, as much or
    more of each, and at most ``max_added_products`` more."""
    max_added_products: int = 2
    value_per_kg: Mapping[str, float] = field(default_factory=dict)
    """Per product, € per kg at the week's selling price (for the sizes' value bands)."""
    hub_margin: float = 0.0
    """The margin ``value_per_kg`` was computed with (from the offers' prices)."""
    step_kg: Mapping[str, float] = field(default_factory=dict)
    """Per product sold by weight, the step its kg per basket is a multiple of."""
    max_units: Mapping[str, int] = field(default_factory=dict)
    """Per product sold by the unit, the most units per basket."""
    floor: float = 1.0
    """In a short week, baskets may weigh and be worth down to this share of the minimums."""
    caps_relaxed_by: float = 0.0
    """... and caps may rise by this much, before any basket is left unfilled."""

    @property
    def can_relax(self) -> bool:
        return self.floor < 1.0 or self.caps_relaxed_by > 0.0


@dataclass(frozen=True)
class BasketDelivery:
    """Baskets of one size delivered to one relay point on a day."""

    basket_type_id: str
    relay_point_id: str
    day: int
    baskets: int
    leave_by: float = math.inf


@dataclass(frozen=True)
class Shop:
    id: str
    days: tuple[int, ...]
    max_kg: float
    families: frozenset[str]
    """Families the shop takes; empty = all."""
    leave_by: tuple[float, ...] = ()
    """Per weekday, as for canteens; empty: any time."""

    def latest(self, day: int) -> float:
        return self.leave_by[day] if self.leave_by else math.inf

    def takes(self, family: str) -> bool:
        return not self.families or family in self.families


@dataclass(frozen=True)
class AllocationProblem:
    week: Week
    supplies: tuple[Supply, ...]
    products: Mapping[str, Product]
    needs: tuple[CanteenNeed, ...]
    rules: Mapping[str, CanteenRule]
    basket_types: Mapping[str, BasketSpec]
    basket_deliveries: tuple[BasketDelivery, ...]
    shops: tuple[Shop, ...]
    names: Mapping[str, str] = field(default_factory=dict)
    """Display names of sites and products, for explanations."""
    policy: BasketPolicy = BasketPolicy()
    direct: DirectArcs = field(default_factory=DirectArcs)
    """Destinations farms deliver themselves (``allocation.direct``): none by default."""

    def date(self, day: int) -> dt.date:
        return self.week.day(WEEKDAYS[day])

    def pickup_day(self, supply: Supply, day: int, leave_by: float = math.inf) -> int | None:
        """The latest pickup day from which ``supply`` reaches a delivery on ``day`` fresh.

        Delivered on or after a day it can be picked up, within the product's shelf life; on
        the pickup day itself only if the goods are at the hub before the delivery must leave
        (a farm collected in the afternoon cannot feed a kitchen the same morning).
        """
        shelf = self.products[supply.product_id].shelf_life_days
        fresh = [
            a
            for a in supply.days
            if (a < day or (a == day and can_feed(supply.ready(a), leave_by))) and day - a < shelf
        ]
        return max(fresh) if fresh else None

    def basket_leave_by(self, basket_type_id: str, day: int) -> float:
        """Baskets of a size share one content: they leave when the earliest relay needs them."""
        return min(
            (
                d.leave_by
                for d in self.basket_deliveries
                if d.basket_type_id == basket_type_id and d.day == day and d.baskets > 0
            ),
            default=math.inf,
        )


def basket_spec(
    basket: BasketTypeIn,
    products: Iterable[str],
    weight_factor: float = 1.0,
    value_tolerance: float | None = None,
) -> BasketSpec:
    """A basket size's rules, with the per-product cap and the product caps folded together,
    the weight band scaled for the season and, with ``value_tolerance``, the value band."""
    valued = value_tolerance is not None and basket.price_eur > 0
    tolerance = value_tolerance or 0.0
    return BasketSpec(
        basket.id,
        basket.min_kg * weight_factor,
        basket.max_kg * weight_factor,
        basket.min_products,
        basket.max_products,
        {p: min(basket.max_share_per_product, basket.product_caps.get(p, 1.0)) for p in products},
        dict(basket.family_caps),
        basket.organic_only,
        basket.price_eur,
        basket.price_eur * (1 - tolerance) if valued else 0.0,
        basket.price_eur * (1 + tolerance) if valued else math.inf,
    )


def basket_chains(baskets: Iterable[BasketTypeIn]) -> tuple[tuple[str, ...], ...]:
    """Sizes that nest, smallest first: one chain per organic rule, by price then weight."""
    chains = []
    for organic_only in (False, True):
        line = sorted(
            (b for b in baskets if b.organic_only == organic_only),
            key=lambda b: (b.price_eur, b.max_kg, b.id),
        )
        if len(line) > 1:
            chains.append(tuple(b.id for b in line))
    return tuple(chains)


def selling_prices(supplies: Iterable[Supply], hub_margin: float) -> dict[str, float]:
    """Each product's price this week as the hub sells it: the farms' offers' price weighted
    by their kg (the buy-in's price for a product no farm offers), times (1 + the hub's
    margin)."""
    kg: dict[str, float] = {}
    value: dict[str, float] = {}
    bought: dict[str, float] = {}
    for s in supplies:
        if s.bought:
            bought[s.product_id] = s.price_eur_per_kg
            continue
        kg[s.product_id] = kg.get(s.product_id, 0.0) + s.kg
        value[s.product_id] = value.get(s.product_id, 0.0) + s.kg * s.price_eur_per_kg
    farms = {p: value[p] / kg[p] for p in kg if kg[p] > 0}
    return {p: price * (1 + hub_margin) for p, price in (bought | farms).items()}


def _delivery_days_this_week(
    site_id: str,
    days: Sequence[str],
    open_days: Callable[[str, Iterable[str]], tuple[int, ...]],
) -> tuple[int, ...]:
    """A supplier's delivery days this week: a day the hub is closed (a public holiday)
    moves to the next open working day, as a wholesaler delivers after a bank holiday."""
    found: set[int] = set()
    for day in days:
        after = WEEKDAYS[WEEKDAYS.index(day) : 6]  # that day, then on to Saturday
        moved = next(iter(open_days(site_id, after)), None)
        if moved is not None:
            found.add(moved)
    return tuple(sorted(found))


def _buy_in(
    catalogue: Catalogue,
    demand: WeekDemand,
    km_to_hub: Mapping[str, float],
    at_hub: Callable[[str], tuple[float, ...]],
    open_days: Callable[[str, Iterable[str]], tuple[int, ...]],
) -> tuple[Supply, ...]:
    """The buy-in supplier's offers: as much as every basket of the week could hold."""
    buy_in = catalogue.basket_rules.buy_in
    farm = catalogue.farms.get(buy_in.farm) if buy_in is not None else None
    if buy_in is None or farm is None:
        return ()
    enough = sum(
        b.baskets * catalogue.basket_types[b.basket_type_id].max_kg
        for b in demand.baskets
        if b.basket_type_id in catalogue.basket_types
    )
    if enough <= 0:
        return ()
    return tuple(
        Supply(
            buy_in.farm,
            product_id,
            float(enough),
            buy_in.price(product_id, catalogue.products[product_id].price_eur_per_kg),
            OrganicStatus(farm.organic_status),
            _delivery_days_this_week(buy_in.farm, buy_in.days, open_days),
            km_to_hub.get(buy_in.farm, 0.0),
            at_hub(buy_in.farm),
            bought=True,
        )
        for product_id in sorted(set(buy_in.products))
        if product_id in catalogue.products
    )


def build_problem(
    week: Week,
    catalogue: Catalogue,
    forecasts: Iterable[ForecastIn],
    demand: WeekDemand,
    km_to_hub: Mapping[str, float],
    hub_minutes: Mapping[str, float] | None = None,
    first_departure: Sequence[float] = (),
) -> AllocationProblem:
    """Gather the week's supply and demand from domain objects into an ``AllocationProblem``.

    With ``hub_minutes`` (driving minutes between each site and the hub), same-day flows are
    kept only where a trip of its own (``foodchain.timing``, as routing times it; vans leave
    the hub from ``first_departure`` of the weekday at the earliest) can bring the farm's
    goods to the hub before the destination's goods must leave; without it, any same-day
    flow is allowed. Handling per kg, which depends on what the allocation decides, is
    counted at its most (a collected farm's whole offer of the week unloaded; the
    destination's whole demand of the day unloaded from a farm that brings it, then loaded):
    a same-day flow kept here is one routing can time, never one it cannot.
    """
    forecasts = [f for f in forecasts if f.week == str(week) and f.kg > 0]
    hub = catalogue.sites.get(catalogue.hub)
    loading = hub.service_minutes if hub is not None else 0.0
    per_100kg = hub.service_minutes_per_100kg if hub is not None else 0.0
    offered: dict[str, float] = defaultdict(float)
    for f in forecasts:
        offered[f.farm_id] += f.kg
    wanted: dict[tuple[str, int], float] = defaultdict(float)
    for need in demand.canteens:
        wanted[(need.canteen_id, need.delivery_day.weekday())] += need.kg
    for order in demand.baskets:
        size = catalogue.basket_types.get(order.basket_type_id)
        wanted[(order.relay_point_id, order.delivery_day.weekday())] += order.baskets * (
            size.max_kg if size else 0.0
        )
    for shop in catalogue.shops.values():
        for k in range(len(WEEKDAYS)):
            wanted[(shop.site_id, k)] += shop.max_kg_per_week

    def open_days(site_id: str, days: Iterable[str]) -> tuple[int, ...]:
        """The weekdays among ``days`` on which the site and the hub are open this week."""
        return tuple(WEEKDAYS.index(d) for d in days if catalogue.open_on(site_id, week.day(d)))

    def at_hub(farm_id: str) -> tuple[float, ...]:
        site, farm = catalogue.sites.get(farm_id), catalogue.farms.get(farm_id)
        if hub_minutes is None or site is None or farm is None:
            return ()
        if farm.brings_own_produce:  # its goods' unloading is counted by ``leave_by``
            return tuple(site_window(site, day)[0] for day in WEEKDAYS)
        unloading = per_100kg * offered[farm_id] / 100.0
        return tuple(
            goods_at_hub(
                reach=(first_departure[k] if first_departure else -math.inf) + hub_minutes[farm_id],
                opens=site_window(site, day)[0],
                service=site.service_minutes
                + site.service_minutes_per_100kg * offered[farm_id] / 100.0,
                drive_back=hub_minutes[farm_id],
                unloading=unloading,
            )
            for k, day in enumerate(WEEKDAYS)
        )

    def leave_by(site_id: str, day: int) -> float:
        site = catalogue.sites.get(site_id)
        if hub_minutes is None or site is None:
            return math.inf
        return latest_loading_start(
            closes=site_window(site, WEEKDAYS[day])[1],
            drive_out=hub_minutes[site_id],
            # the destination's goods unloaded (from a farm that brings them) and loaded
            loading=loading + 2 * per_100kg * wanted[(site_id, day)] / 100.0,
        )

    products = {
        p.id: Product(
            p.id,
            p.name,
            p.family,
            p.shelf_life_days,
            p.kg_per_unit if p.unit != Unit.KG else None,
        )
        for p in catalogue.products.values()
    }
    supplies = tuple(
        Supply(
            f.farm_id,
            f.product_id,
            f.kg,
            f.price_eur_per_kg,
            OrganicStatus(f.organic_status),
            open_days(f.farm_id, f.days_available),
            km_to_hub.get(f.farm_id, 0.0),
            at_hub(f.farm_id),
        )
        for f in sorted(forecasts, key=lambda f: (f.farm_id, f.product_id))
    )
    supplies += _buy_in(catalogue, demand, km_to_hub, at_hub, open_days)
    needs = tuple(
        CanteenNeed(
            d.canteen_id,
            d.item_id,
            tuple(catalogue.groups[d.item_id].members) if d.is_group else (d.item_id,),
            d.delivery_day.weekday(),
            d.kg,
            catalogue.canteens[d.canteen_id].organic_min_share >= 1.0,
            leave_by(d.canteen_id, d.delivery_day.weekday()),
        )
        for d in demand.canteens
    )
    canteen_rules = {
        c.site_id: CanteenRule(c.site_id, c.organic_min_share, c.quality_min_share)
        for c in catalogue.canteens.values()
    }
    rules = catalogue.basket_rules
    factor = rules.weight_factor(week.day("thu"))
    baskets = {
        b.id: basket_spec(b, products, factor, rules.value_tolerance)
        for b in catalogue.basket_types.values()
    }
    policy = BasketPolicy(
        chains=basket_chains(catalogue.basket_types.values()) if rules.nested else (),
        max_added_products=rules.max_added_products,
        value_per_kg=selling_prices(supplies, catalogue.hub_margin),
        hub_margin=catalogue.hub_margin,
        step_kg={p.id: rules.step(p.id) for p in products.values() if p.unit_kg is None},
        max_units={p: n for p, n in rules.max_units.items() if p in products},
        floor=rules.shortage.floor,
        caps_relaxed_by=rules.shortage.caps_relaxed_by,
    )
    deliveries = tuple(
        BasketDelivery(
            b.basket_type_id,
            b.relay_point_id,
            b.delivery_day.weekday(),
            b.baskets,
            leave_by(b.relay_point_id, b.delivery_day.weekday()),
        )
        for b in demand.baskets
    )
    shops = tuple(
        Shop(
            site.id,
            open_days(site.id, site.delivery_days),
            catalogue_shop.max_kg_per_week,
            frozenset(catalogue_shop.families),
            tuple(leave_by(site.id, day) for day in range(len(WEEKDAYS)))
            if hub_minutes is not None
            else (),
        )
        for site in catalogue.sites_of(SiteKind.SHOP).values()
        if (catalogue_shop := catalogue.shops.get(site.id)) is not None
    )
    names = {k: s.name for k, s in catalogue.sites.items()}
    names.update({k: p.name for k, p in catalogue.products.items()})
    names.update({k: g.name for k, g in catalogue.groups.items()})
    return AllocationProblem(
        week, supplies, products, needs, canteen_rules, baskets, deliveries, shops, names, policy
    )
