"""A weekly plan as plain tables: what runs store and every document is written from.

The record holds the decisions (flows, basket contents, rounds) together with the names,
addresses and positions they refer to, so that a stored run renders the same documents years
later even if the catalogue has changed since. It is JSON through pydantic; times are minutes
since midnight, loads kg, distances road km.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from foodchain.allocation import AllocationProblem, AllocationResult
from foodchain.catalogue import Catalogue
from foodchain.models import VehicleIn
from foodchain.routing.problem import HUB, StopKind
from foodchain.routing.travel import Place, Travel
from foodchain.routing.week import DayRounds


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SiteInfo(_Row):
    id: str
    kind: str
    name: str
    commune: str = ""
    address: str = ""
    lat: float
    lon: float
    windows: dict[str, str] = {}
    organic_status: str | None = None
    """Farms only."""
    brings_own_produce: bool = False


class ProductInfo(_Row):
    id: str
    name: str
    family: str
    unit: str = "kg"
    kg_per_unit: float = 1.0


class VehicleInfo(_Row):
    id: str
    name: str
    type: str
    capacity_kg: float
    co2_kg_per_km: float
    cost_fixed_eur: float = 0.0
    cost_per_km_eur: float = 0.0
    cost_per_hour_eur: float = 0.0


class FlowRow(_Row):
    """kg of one farm's product for one destination (allocation.csv)."""

    farm_id: str
    product_id: str
    destination_id: str
    pickup_day: dt.date
    delivery_day: dt.date
    kg: float
    purpose: str
    """canteen, basket or shop."""
    item_id: str = ""
    organic_status: str
    price_eur_per_kg: float
    km: float
    """Road km farm -> hub -> destination (food-miles are kg x km)."""


class BasketRow(_Row):
    basket_type: str
    product_id: str
    kg_per_basket: float
    baskets: int
    units_per_basket: int | None = None


class FillRow(_Row):
    basket_type: str
    relay_point_id: str
    day: dt.date
    due: int
    filled: int


class ShortfallRow(_Row):
    who: str
    item: str
    """Product or substitution group (canteens), basket size (baskets)."""
    day: dt.date
    kg: float
    reason: str
    baskets: int = 0


class SurplusRow(_Row):
    farm_id: str
    product_id: str
    kg: float
    reason: str


class FairnessRow(_Row):
    product_id: str
    index: float
    offered_kg: float


class StopRow(_Row):
    """One line of routes.csv: a hub departure (seq 0), a visit, or the return to the hub."""

    day: dt.date
    vehicle_id: str
    trip: int
    """1 for a vehicle's first trip of the day."""
    seq: int
    site_id: str
    action: str
    """depart, pickup, delivery or return."""
    arrival: float
    departure: float
    window: tuple[float, float] | None = None
    pickup_kg: float = 0.0
    delivery_kg: float = 0.0
    load_kg: float
    """On board when the vehicle leaves (arrival load for the return)."""
    km: float
    """Road km from the previous row of the trip."""
    part: int = 1
    parts: int = 1
    """A site's load bigger than one vehicle is split into several visits."""


class UnservedRow(_Row):
    day: dt.date
    site_id: str
    action: str
    kg: float
    reason: str
    explanation: str


class DayStats(_Row):
    day: dt.date
    seconds: float
    cost_eur: float
    km: float
    co2_kg: float
    vehicles_used: int
    found_solution: bool
    objective: int | None = None


class PlanRecord(BaseModel):
    """The week's plan, self-contained; ``kpis`` is filled by :func:`foodchain.plan.kpis`."""

    model_config = ConfigDict(extra="forbid")

    week: str
    scenario: str = ""
    language: str = "fr"
    hub_id: str
    allocation_status: str
    supply_kg: float
    canteen_demand_kg: float
    diesel_co2_kg_per_km: float
    sites: dict[str, SiteInfo]
    products: dict[str, ProductInfo]
    vehicles: dict[str, VehicleInfo]
    names: dict[str, str]
    """Display names of substitution groups and basket sizes."""
    canteen_rules: dict[str, tuple[float, float]]
    """Canteen -> (organic, quality) minimum shares of purchase value."""
    flows: list[FlowRow]
    baskets: list[BasketRow]
    fills: list[FillRow]
    shortfalls: list[ShortfallRow]
    surplus: list[SurplusRow]
    fairness: list[FairnessRow]
    stops: list[StopRow]
    unserved: list[UnservedRow]
    days: list[DayStats]
    statistics: dict[str, Any] = {}
    kpis: dict[str, Any] = {}

    def name(self, key: str) -> str:
        """Display name of a site, product, vehicle, group or basket size (else the id)."""
        for table in (self.sites, self.products, self.vehicles):
            if key in table:
                return table[key].name
        return self.names.get(key, key)

    def trips(self) -> dict[tuple[dt.date, str, int], list[StopRow]]:
        """Rows of each (day, vehicle, trip), in order."""
        out: dict[tuple[dt.date, str, int], list[StopRow]] = defaultdict(list)
        for row in sorted(self.stops, key=lambda r: (r.day, r.vehicle_id, r.trip, r.seq)):
            out[(row.day, row.vehicle_id, row.trip)].append(row)
        return dict(out)


# --------------------------------------------------------------------------- building


DIESEL_VAN_CO2_KG_PER_KM = 0.317
"""3.5 t diesel van, 10 L/100 km x 3.17 kgCO2e/L well-to-wheel (facts.md §6)."""


def _site_info(catalogue: Catalogue, site_id: str) -> SiteInfo:
    site = catalogue.sites[site_id]
    farm = catalogue.farms.get(site_id)
    return SiteInfo(
        id=site.id,
        kind=str(site.kind),
        name=site.name,
        commune=site.commune,
        address=site.address,
        lat=site.lat,
        lon=site.lon,
        windows=dict(site.windows),
        organic_status=str(farm.organic_status) if farm else None,
        brings_own_produce=bool(farm and farm.brings_own_produce),
    )


def _stop_rows(day: DayRounds, vehicles: Sequence[str]) -> list[StopRow]:
    problem, result = day.problem, day.result
    parts: dict[tuple[str, StopKind], list[int]] = defaultdict(list)
    for index, stop in enumerate(problem.stops):
        parts[(stop.site_id, stop.kind)].append(index)
    rows = []
    for trip in result.trips:
        vehicle = vehicles[trip.vehicle]
        number = trip.number + 1
        rows.append(
            StopRow(
                day=day.day,
                vehicle_id=vehicle,
                trip=number,
                seq=0,
                site_id=problem.hub_id,
                action="depart",
                arrival=trip.start,
                departure=trip.departure,
                load_kg=trip.loaded_kg,
                km=0.0,
            )
        )
        previous = HUB
        for seq, visit in enumerate(trip.visits, start=1):
            stop = problem.stops[visit.stop]
            siblings = parts[(stop.site_id, stop.kind)]
            rows.append(
                StopRow(
                    day=day.day,
                    vehicle_id=vehicle,
                    trip=number,
                    seq=seq,
                    site_id=stop.site_id,
                    action=str(stop.kind),
                    arrival=visit.arrival,
                    departure=visit.departure,
                    window=stop.window,
                    pickup_kg=stop.kg if stop.kind is StopKind.PICKUP else 0.0,
                    delivery_kg=stop.kg if stop.kind is StopKind.DELIVERY else 0.0,
                    load_kg=visit.load_kg,
                    km=problem.km[previous][visit.stop + 1],
                    part=siblings.index(visit.stop) + 1,
                    parts=len(siblings),
                )
            )
            previous = visit.stop + 1
        rows.append(
            StopRow(
                day=day.day,
                vehicle_id=vehicle,
                trip=number,
                seq=len(trip.visits) + 1,
                site_id=problem.hub_id,
                action="return",
                arrival=trip.back,
                departure=trip.end,
                load_kg=trip.visits[-1].load_kg if trip.visits else 0.0,
                km=problem.km[previous][HUB],
            )
        )
    return rows


def build_record(
    catalogue: Catalogue,
    vehicles: Sequence[VehicleIn],
    problem: AllocationProblem,
    allocation: AllocationResult,
    rounds: Sequence[DayRounds],
    travel: Travel,
    scenario: str = "",
    language: str | None = None,
) -> PlanRecord:
    """Gather the allocation and the rounds of the week into one record."""
    supplies = {(s.farm_id, s.product_id): s for s in problem.supplies}
    hub = catalogue.sites[catalogue.hub]
    hub_place = Place(hub.id, hub.lat, hub.lon)

    def km_via_hub(site_id: str, to_hub: bool) -> float:
        site = catalogue.sites[site_id]
        place = Place(site.id, site.lat, site.lon)
        return travel.km(place, hub_place) if to_hub else travel.km(hub_place, place)

    leg_km: dict[tuple[str, bool], float] = {}

    def leg(site_id: str, to_hub: bool) -> float:
        if (site_id, to_hub) not in leg_km:
            leg_km[(site_id, to_hub)] = km_via_hub(site_id, to_hub)
        return leg_km[(site_id, to_hub)]

    flows = [
        FlowRow(
            farm_id=f.farm_id,
            product_id=f.product_id,
            destination_id=f.destination_id,
            pickup_day=f.pickup_day,
            delivery_day=f.delivery_day,
            kg=f.kg,
            purpose=f.purpose,
            item_id=f.item_id,
            organic_status=str(supplies[(f.farm_id, f.product_id)].status),
            price_eur_per_kg=supplies[(f.farm_id, f.product_id)].price_eur_per_kg,
            km=leg(f.farm_id, True) + leg(f.destination_id, False),
        )
        for f in allocation.flows
        if f.kg > 1e-9
    ]
    vehicle_ids = [v.id for v in vehicles]
    stops: list[StopRow] = []
    unserved: list[UnservedRow] = []
    days: list[DayStats] = []
    for day in rounds:
        ids = [v.id for v in day.problem.vehicles]
        stops.extend(_stop_rows(day, ids))
        for u in day.result.unserved:
            stop = day.problem.stops[u.stop]
            unserved.append(
                UnservedRow(
                    day=day.day,
                    site_id=stop.site_id,
                    action=str(stop.kind),
                    kg=stop.kg,
                    reason=str(u.reason),
                    explanation=u.explanation,
                )
            )
        r = day.result
        days.append(
            DayStats(
                day=day.day,
                seconds=r.seconds,
                cost_eur=r.cost,
                km=r.km,
                co2_kg=r.co2_kg,
                vehicles_used=r.vehicles_used,
                found_solution=r.found_solution,
                objective=r.objective,
            )
        )
    used_sites = (
        {catalogue.hub}
        | {f.farm_id for f in flows}
        | {f.destination_id for f in flows}
        | {s.site_id for s in stops}
        | {s.destination_id for s in allocation.shortfalls}
        | {s.farm_id for s in allocation.surplus}
        | set(catalogue.canteens)
        | {fill.relay_point_id for fill in allocation.fills}
    )
    names = {g.id: g.name for g in catalogue.groups.values()} | {
        b.id: b.name for b in catalogue.basket_types.values()
    }
    return PlanRecord(
        week=str(allocation.week),
        scenario=scenario,
        language=language or str(catalogue.settings.get("language", "fr")),
        hub_id=catalogue.hub,
        allocation_status=allocation.status,
        supply_kg=allocation.supply_kg,
        canteen_demand_kg=allocation.canteen_demand_kg,
        diesel_co2_kg_per_km=float(
            catalogue.settings.get("diesel_co2_kg_per_km", DIESEL_VAN_CO2_KG_PER_KM)
        ),
        sites={s: _site_info(catalogue, s) for s in sorted(used_sites) if s in catalogue.sites},
        products={
            p.id: ProductInfo(
                id=p.id, name=p.name, family=p.family, unit=str(p.unit), kg_per_unit=p.kg_per_unit
            )
            for p in catalogue.products.values()
        },
        vehicles={
            v.id: VehicleInfo(
                id=v.id,
                name=v.name,
                type=str(v.type),
                capacity_kg=v.capacity_kg,
                co2_kg_per_km=v.co2_kg_per_km,
                cost_fixed_eur=v.cost_fixed_eur,
                cost_per_km_eur=v.cost_per_km_eur,
                cost_per_hour_eur=v.cost_per_hour_eur,
            )
            for v in vehicles
            if v.id in vehicle_ids
        },
        names=names,
        canteen_rules={
            c.site_id: (c.organic_min_share, c.quality_min_share)
            for c in catalogue.canteens.values()
        },
        flows=flows,
        baskets=[
            BasketRow(
                basket_type=b.basket_type_id,
                product_id=b.product_id,
                kg_per_basket=b.kg_per_basket,
                baskets=b.baskets,
                units_per_basket=b.units_per_basket,
            )
            for b in allocation.baskets
        ],
        fills=[
            FillRow(
                basket_type=f.basket_type_id,
                relay_point_id=f.relay_point_id,
                day=f.day,
                due=f.due,
                filled=f.filled,
            )
            for f in allocation.fills
        ],
        shortfalls=[
            ShortfallRow(
                who=s.destination_id,
                item=s.item_id,
                day=s.day,
                kg=s.kg,
                reason=s.reason,
                baskets=s.baskets,
            )
            for s in allocation.shortfalls
        ],
        surplus=[
            SurplusRow(farm_id=s.farm_id, product_id=s.product_id, kg=s.kg, reason=s.reason)
            for s in allocation.surplus
        ],
        fairness=[
            FairnessRow(product_id=f.product_id, index=f.index, offered_kg=f.offered_kg)
            for f in allocation.fairness
        ],
        stops=stops,
        unserved=unserved,
        days=days,
        statistics={
            "allocation": dict(allocation.stats),
            "allocation_tiers": [
                {
                    "tier": t.name,
                    "objective": t.objective if math.isfinite(t.objective) else None,
                    "seconds": t.seconds,
                    "status": t.status,
                }
                for t in allocation.tiers
            ],
        },
    )


__all__ = [
    "BasketRow",
    "DayStats",
    "FairnessRow",
    "FillRow",
    "FlowRow",
    "PlanRecord",
    "ProductInfo",
    "ShortfallRow",
    "SiteInfo",
    "StopRow",
    "SurplusRow",
    "UnservedRow",
    "VehicleInfo",
    "build_record",
]
