"""From domain objects to the routing problem of one delivery day.

The allocation says which farm sends how many kg of which product to which destination on
which day (``Flow``). For that day: each farm that does not bring its produce becomes a
pickup (its kg summed over products and destinations), each destination a delivery that
carries goods from its farms, so it can leave the hub only once they are unloaded there.
Farms that bring their own produce arrive at the hub when their window of the day opens.
A load bigger than any vehicle allowed at the site is split into several visits. On a day of
the cold chain (``cold``), each stop knows the temperature classes of its products, and a
site's goods of classes kept apart become separate visits.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from foodchain.errors import FoodchainError
from foodchain.models import FarmIn, SiteIn, SiteKind, VehicleIn
from foodchain.routing.cold import AMBIENT
from foodchain.routing.problem import (
    BreakRule,
    ColdKind,
    ColdRules,
    RoutingProblem,
    Stop,
    StopKind,
    Vehicle,
)
from foodchain.routing.travel import Place, Travel, TravelMatrix, by_road
from foodchain.timing import site_window, window_of
from foodchain.weeks import WEEKDAYS

DEFAULT_KG_PER_CRATE = 10.0


@dataclass(frozen=True)
class Flow:
    """kg of one product from a farm to a destination on a delivery day (allocation.csv)."""

    farm_id: str
    product_id: str
    destination_id: str
    day: date
    kg: float


def _crates(kg_by_product: Mapping[str, float], kg_per_crate: Mapping[str, float] | None) -> float:
    """Crates used: each product fills its own crates (ceil per product)."""
    total = 0
    for product, kg in kg_by_product.items():
        per_crate = (kg_per_crate or {}).get(product, DEFAULT_KG_PER_CRATE)
        total += math.ceil(kg / per_crate - 1e-9)
    return float(total)


def _pieces(kg: float, crates: float, max_kg: float, max_crates: float) -> int:
    """Visits needed so that each carries at most what the biggest allowed vehicle takes."""
    if max_kg <= 0 or max_crates <= 0:
        return 1
    return max(1, math.ceil(kg / max_kg - 1e-9), math.ceil(crates / max_crates - 1e-9))


def _largest(
    vehicles: Sequence[VehicleIn], kind: SiteKind, need: ColdKind = ColdKind.NONE
) -> tuple[float, float]:
    allowed = [
        v
        for v in vehicles
        if (not v.allowed_kinds or kind in v.allowed_kinds) and v.cold.level >= need.level
    ]
    if not allowed:
        return 0.0, 0.0
    return max(v.capacity_kg for v in allowed), max(float(v.capacity_crates) for v in allowed)


def _visits(
    site: SiteIn,
    kind: StopKind,
    kg: float,
    crates: float,
    window: tuple[float, float],
    fleet: Sequence[VehicleIn],
    penalty_per_kg: float = 0.0,
    cold: ColdRules | None = None,
    classes: frozenset[str] = frozenset(),
    **extra: Any,
) -> list[Stop]:
    """The site's visit, or equal parts ("part k/n") when no vehicle allowed there (cold
    enough for its goods) carries it whole; service time and penalty follow each part's kg."""
    need = cold.need(classes) if cold else ColdKind.NONE
    pieces = _pieces(kg, crates, *_largest(fleet, site.kind, need))
    share = kg / pieces
    return [
        Stop(
            site_id=site.id,
            kind=kind,
            site_kind=site.kind.value,
            kg=share,
            crates=float(math.ceil(crates / pieces - 1e-9)),
            window=window,
            service_minutes=site.service_minutes + site.service_minutes_per_100kg * share / 100.0,
            penalty=penalty_per_kg * share,
            label=f"part {part + 1}/{pieces}" if pieces > 1 else "",
            classes=classes,
            **extra,
        )
        for part in range(pieces)
    ]


def _vehicle(
    vehicle: VehicleIn, hub_window: tuple[float, float], profile: int, trips: int
) -> Vehicle:
    shift = window_of(vehicle.shift)
    shift = (max(shift[0], hub_window[0]), min(shift[1], hub_window[1]))
    if shift[1] < shift[0]:
        shift = (shift[0], shift[0])
    return Vehicle(
        id=vehicle.id,
        capacity_kg=vehicle.capacity_kg,
        capacity_crates=float(vehicle.capacity_crates),
        shift=shift,
        cost_fixed=vehicle.cost_fixed_eur,
        cost_per_km=vehicle.cost_per_km_eur,
        cost_per_hour=vehicle.cost_per_hour_eur,
        co2_kg_per_km=vehicle.co2_kg_per_km,
        range_km=vehicle.range_km,
        max_km_from_hub=vehicle.max_km_from_hub,
        allowed_site_kinds=frozenset(k.value for k in vehicle.allowed_kinds) or None,
        max_trips=trips,
        profile=profile,
        cold=vehicle.cold,
    )


def _class_groups(
    kg_by_product: Mapping[str, float], classes: Mapping[str, str], cold: ColdRules | None
) -> list[tuple[frozenset[str], dict[str, float]]]:
    """A site's products in groups that may travel together (one group unless the cold
    chain keeps some of their classes apart), each with its temperature classes."""
    if cold is None:
        return [(frozenset(), dict(kg_by_product))]
    groups: list[tuple[set[str], dict[str, float]]] = []
    for product in sorted(kg_by_product, key=lambda p: (classes.get(p, AMBIENT), p)):
        kind = classes.get(product, AMBIENT)
        group = next((g for g in groups if cold.clash({*g[0], kind}) is None), None)
        if group is None:
            group = (set(), {})
            groups.append(group)
        group[0].add(kind)
        group[1][product] = kg_by_product[product]
    return [(frozenset(kinds), kgs) for kinds, kgs in groups]


def build_day_problem(
    day: date,
    hub: SiteIn,
    sites: Mapping[str, SiteIn],
    farms: Mapping[str, FarmIn],
    vehicles: Sequence[VehicleIn],
    flows: Sequence[Flow],
    road_factor: float = 1.3,
    matrix: TravelMatrix | None = None,
    optional_sites: Collection[str] = frozenset(),
    kg_per_crate: Mapping[str, float] | None = None,
    *,
    max_trips: int = 3,
    optional_penalty_eur_per_kg: float = 1.0,
    collected_for_later: Sequence[Flow] = (),
    from_stock: Sequence[Flow] = (),
    travel: Travel | None = None,
    drivers: int | None = None,
    breaks: BreakRule | None = None,
    max_day_minutes: float | None = None,
    cold: ColdRules | None = None,
    classes: Mapping[str, str] | None = None,
) -> RoutingProblem:
    """The routing problem of ``day``: pickups, deliveries, the hub's vehicles, travel.

    Only vehicles based at ``hub`` are used; shifts are cut to the hub's opening hours.
    Destinations in ``optional_sites`` (shop surplus) may be dropped at
    ``optional_penalty_eur_per_kg`` × kg. ``collected_for_later`` are picked up today and
    kept at the hub for a later delivery; ``from_stock`` are delivered today from goods
    collected on an earlier day (their release does not wait for today's pickups).
    ``drivers`` (None: one per vehicle), ``breaks`` and ``max_day_minutes`` are the day's
    drivers, their break and the longest day one works. ``cold`` is the day's cold chain
    (None outside its months) and ``classes`` each product's temperature class.
    Raises ``FoodchainError`` if a flow names a site that is not known.
    """
    weekday = WEEKDAYS[day.weekday()]
    todays = [f for f in flows if f.day == day and f.kg > 0]
    later = [f for f in collected_for_later if f.kg > 0]
    stocked = [f for f in from_stock if f.kg > 0]
    unknown = sorted(
        {f.farm_id for f in [*todays, *later] if f.farm_id not in sites or f.farm_id not in farms}
        | {f.destination_id for f in [*todays, *stocked] if f.destination_id not in sites}
    )
    if unknown:
        raise FoodchainError(
            f"flows of {day} name sites that are not in the scenario: {', '.join(unknown)}"
        )
    wrong = sorted(
        {
            f.destination_id
            for f in todays
            if sites[f.destination_id].kind in (SiteKind.HUB, SiteKind.FARM)
        }
    )
    if wrong:
        raise FoodchainError(
            f"flows of {day} send goods to {', '.join(wrong)}, which is not a canteen, "
            "relay point or shop"
        )
    fleet = [v for v in vehicles if v.depot_id == hub.id]
    hub_window = site_window(hub, weekday)

    picked: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    delivered: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    sources: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for f in todays:
        picked[f.farm_id][f.product_id] += f.kg
        delivered[f.destination_id][f.product_id] += f.kg
        sources[f.destination_id][f.farm_id] += f.kg
    for f in later:
        picked[f.farm_id][f.product_id] += f.kg
    for f in stocked:
        delivered[f.destination_id][f.product_id] += f.kg

    stops: list[Stop] = []
    pickups_of: dict[str, list[int]] = {}
    brought_at: dict[str, float] = {}
    rate = hub.service_minutes_per_100kg
    classes = classes or {}
    for farm_id in sorted(picked):
        site = sites[farm_id]
        window = site_window(site, weekday)
        if farms[farm_id].brings_own_produce:
            brought_at[farm_id] = window[0]
            continue
        first = len(stops)
        for kinds, load in _class_groups(picked[farm_id], classes, cold):
            kg, crates = sum(load.values()), _crates(load, kg_per_crate)
            stops += _visits(
                site, StopKind.PICKUP, kg, crates, window, fleet, cold=cold, classes=kinds
            )
        pickups_of[farm_id] = list(range(first, len(stops)))
    visits = [
        (site_id, kinds, load)
        for site_id in sorted(delivered)
        for kinds, load in _class_groups(delivered[site_id], classes, cold)
    ]
    for destination_id, kinds, load in visits:
        site = sites[destination_id]
        kg = sum(load.values())
        crates = _crates(load, kg_per_crate)
        supplied_by = tuple(
            sorted(i for farm in sources[destination_id] for i in pickups_of.get(farm, []))
        )
        # Goods a farm brings are unloaded destination by destination, the most urgent first:
        # a delivery's goods are ready once its own share of the farm's load is off the van.
        own = [
            brought_at[farm] + rate * kg_from / 100.0
            for farm, kg_from in sources[destination_id].items()
            if farm in brought_at
        ]
        optional = destination_id in optional_sites
        stops += _visits(
            site,
            StopKind.DELIVERY,
            kg,
            crates,
            site_window(site, weekday),
            fleet,
            penalty_per_kg=optional_penalty_eur_per_kg if optional else 0.0,
            mandatory=not optional,
            release=max(own) if own else None,
            supplied_by=supplied_by,
            cold=cold,
            classes=kinds,
        )

    travel = travel or Travel(road_factor=road_factor, matrix=matrix)
    places = [Place(hub.id, hub.lat, hub.lon)] + [
        Place(s.site_id, sites[s.site_id].lat, sites[s.site_id].lon) for s in stops
    ]
    profiles: dict[tuple[float, bool], int] = {}
    minutes: list[tuple[tuple[float, ...], ...]] = []
    built: list[Vehicle] = []
    for vehicle in fleet:
        uses_matrix = by_road(vehicle.type)
        key = (vehicle.speed_kmh, uses_matrix)
        if key not in profiles:
            profiles[key] = len(minutes)
            minutes.append(travel.minutes_matrix(places, vehicle.speed_kmh, uses_matrix))
        built.append(_vehicle(vehicle, hub_window, profiles[key], max_trips))
    if not minutes:
        minutes.append(travel.minutes_matrix(places, 30.0))
    return RoutingProblem(
        stops=tuple(stops),
        vehicles=tuple(built),
        km=travel.km_matrix(places),
        minutes=tuple(minutes),
        hub_id=hub.id,
        hub_fixed_minutes=hub.service_minutes,
        hub_minutes_per_100kg=rate,
        name=f"{hub.id} {day.isoformat()}",
        drivers=drivers,
        breaks=breaks,
        max_day_minutes=max_day_minutes,
        cold=cold,
    )
