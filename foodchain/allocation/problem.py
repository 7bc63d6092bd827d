"""The allocation problem of one week, as immutable, number-indexed data (no database).

Built from the week's forecasts and demand (``build_problem``); solved by ``solver.solve``;
checked by an independent checker in the tests.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

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

    @property
    def target_kg(self) -> float:
        return (self.min_kg + self.max_kg) / 2


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


def basket_spec(basket: BasketTypeIn, products: Iterable[str]) -> BasketSpec:
    """A basket size's rules, with the per-product cap and the product caps folded together."""
    return BasketSpec(
        basket.id,
        basket.min_kg,
        basket.max_kg,
        basket.min_products,
        basket.max_products,
        {p: min(basket.max_share_per_product, basket.product_caps.get(p, 1.0)) for p in products},
        dict(basket.family_caps),
        basket.organic_only,
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
    flow is allowed. Handling per kg is left out: it depends on what the allocation decides.
    """
    hub = catalogue.sites.get(catalogue.hub)
    loading = hub.service_minutes if hub is not None else 0.0

    def at_hub(farm_id: str) -> tuple[float, ...]:
        site, farm = catalogue.sites.get(farm_id), catalogue.farms.get(farm_id)
        if hub_minutes is None or site is None or farm is None:
            return ()
        if farm.brings_own_produce:
            return tuple(site_window(site, day)[0] for day in WEEKDAYS)
        return tuple(
            goods_at_hub(
                reach=(first_departure[k] if first_departure else -math.inf) + hub_minutes[farm_id],
                opens=site_window(site, day)[0],
                service=site.service_minutes,
                drive_back=hub_minutes[farm_id],
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
            loading=loading,
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
            tuple(WEEKDAYS.index(d) for d in f.days_available),
            km_to_hub.get(f.farm_id, 0.0),
            at_hub(f.farm_id),
        )
        for f in sorted(forecasts, key=lambda f: (f.farm_id, f.product_id))
        if f.week == str(week) and f.kg > 0
    )
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
    rules = {
        c.site_id: CanteenRule(c.site_id, c.organic_min_share, c.quality_min_share)
        for c in catalogue.canteens.values()
    }
    baskets = {b.id: basket_spec(b, products) for b in catalogue.basket_types.values()}
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
            tuple(WEEKDAYS.index(d) for d in site.delivery_days),
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
        week, supplies, products, needs, rules, baskets, deliveries, shops, names
    )
