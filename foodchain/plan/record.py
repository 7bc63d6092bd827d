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
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from foodchain.allocation.result import (
    AllocationResult,
    BasketFill,
    BasketLine,
    Fairness,
    Flow,
    Shortfall,
    Surplus,
)
from foodchain.consolidation import CollectionChange, brought_days
from foodchain.crates import CrateStop, CrateTrip, crate_returns
from foodchain.emissions import EmissionRules, emission_rules
from foodchain.hub_work import hub_work
from foodchain.routing.cold import cold_classes, on_board_limit
from foodchain.routing.problem import HUB, StopKind
from foodchain.routing.travel import Place, Travel
from foodchain.stock import StockRow
from foodchain.supplier import FRESH_PRODUCE_VAT, supplier

if TYPE_CHECKING:  # building a record takes them; reading one does not
    from foodchain.catalogue import Catalogue
    from foodchain.models import VehicleIn
    from foodchain.plan.rounds import DayRounds, EarlierRoutes


class _Row(BaseModel):
    """Frozen rows; the site, product and vehicle rows copy the catalogue's fields by name."""

    model_config = ConfigDict(frozen=True, extra="forbid", from_attributes=True)


class SiteInfo(_Row):
    id: str
    kind: str
    name: str
    commune: str = ""
    address: str = ""
    postcode: str = ""
    contact_name: str = ""
    phone: str = ""
    email: str = ""
    access_notes: str = ""
    """Format 2 on: what people need to find and reach the site (empty in older records)."""
    lat: float
    lon: float
    windows: dict[str, str] = {}
    organic_status: str | None = None
    """Farms only."""
    brings_own_produce: bool = False
    direct_destinations: list[str] = []
    """Farms, format 3 on: the destinations it delivers itself, from the farm."""
    km_direct: dict[str, float] = {}
    """Road km from the farm to each of its ``direct_destinations`` (their food-miles)."""
    km_to_hub: float = 0.0
    km_from_hub: float = 0.0
    """Road km between the site and the hub: food-miles are kg x (farm's km_to_hub +
    destination's km_from_hub)."""


class ProductInfo(_Row):
    id: str
    name: str
    family: str
    unit: str = "kg"
    kg_per_unit: float = 1.0
    kg_per_crate: float | None = None
    """Format 2 on; None in older records (quantities are then given in kg alone)."""


class SupplierInfo(_Row):
    """Who sells to the canteens, as delivery notes name it (``settings.supplier``)."""

    name: str
    address: str = ""
    postcode: str = ""
    commune: str = ""
    siret: str = ""
    vat_number: str = ""
    phone: str = ""
    email: str = ""
    vat_rate: float = FRESH_PRODUCE_VAT


class VehicleInfo(_Row):
    id: str
    name: str
    type: str
    depot_id: str = ""
    """Format 3 on: where it is based (the hub, or a farm for its direct deliveries); empty
    in older records (the hub)."""
    capacity_kg: float
    co2_kg_per_km: float
    cost_fixed_eur: float = 0.0
    cost_per_km_eur: float = 0.0
    cost_per_hour_eur: float = 0.0


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
    pause: tuple[float, float] | None = None
    """On a return row: the driver's break at the hub after this trip (start, end)."""
    crates: float = 0.0
    """Format 3 on: full crates dropped or collected at the stop (0 in older records)."""
    empties: int = 0
    """Format 3 on, with ``settings.hub_work``: empty crates taken back at a delivery."""
    cold: tuple[str, ...] = ()
    """Temperature classes of its goods kept cool that day (``settings.cold_chain``); on a
    depart row, the trip's. Empty in older records and outside the cold-chain months."""
    max_minutes_on_board: float | None = None
    on_board_until: float | None = None
    """A visit whose goods have a time on board: when a delivery must be done (loading
    start + the limit) or a pickup's goods unloaded at the hub (its service start + it)."""


class PackingRow(_Row):
    """One delivery's packing at the hub (``settings.hub_work``), before its trip loads."""

    day: dt.date
    packer: int
    """1 for the day's first packer."""
    site_id: str
    part: int = 1
    parts: int = 1
    """Which visit of the site it is packed for (a load split into several visits)."""
    farm_id: str = ""
    """Whose goods collected that day it packs; "" for goods already at the hub."""
    ready: float
    """When its goods are all at the hub (or packing opens)."""
    start: float
    end: float
    baskets: float = 0.0
    crates: float = 0.0


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
    engine: str = ""
    """Which engine's rounds were kept (``ortools``, ``pyvrp``, ``construction``...)."""
    crashes: str = ""
    """Searches that failed that day, with what went wrong (the day kept the others')."""
    depot_id: str = ""
    """Format 3 on: whose rounds these are, the hub's or a farm's own direct deliveries (its
    id); empty in older records, where every round is the hub's."""


RECORD_FORMAT = 3
"""Version of the stored record's format. A change that an older record cannot be read with
raises it and reads the older formats on (tests/data/runs holds a record of each).

2: sites' postcode, contact, phone, e-mail and access notes; products' kg per crate; the
supplier. Older records read with empty values, no crates and no supplier.
3: the hub's packing; crates and empties per stop; direct deliveries: flows a farm
delivers itself (``Flow.direct``), the farms' own rounds (their trips leave from and return
to the farm; ``DayStats.depot_id``), sites' ``direct_destinations``. Older records read with
no packing, no crates, and every flow and round through the hub."""


class PlanRecord(BaseModel):
    """The week's plan, self-contained; ``kpis`` is filled by :func:`foodchain.plan.kpis`."""

    model_config = ConfigDict(extra="forbid")

    format: int = 1
    """``RECORD_FORMAT`` of the version that wrote it (records before versioning: 1)."""
    week: str
    scenario: str = ""
    language: str = "fr"
    hub_id: str
    allocation_status: str
    allocation_notes: list[str] = []
    """What gave way so that every basket could be filled (lighter baskets, buying in)."""
    supply_kg: float
    canteen_demand_kg: float
    diesel_co2_kg_per_km: float
    """The large class's diesel baseline (kept for records written before ``emissions``)."""
    emissions: EmissionRules = EmissionRules()
    """The scenario's ``settings.co2``: the basis of the CO2 KPIs."""
    sites: dict[str, SiteInfo]
    products: dict[str, ProductInfo]
    vehicles: dict[str, VehicleInfo]
    names: dict[str, str]
    """Display names of substitution groups, basket sizes and temperature classes."""
    canteen_rules: dict[str, tuple[float, float]]
    """Canteen -> (organic, quality) minimum shares of purchase value."""
    hub_margin: float = 0.0
    """Canteens pay the farm price × (1 + hub_margin)."""
    basket_prices: dict[str, float] = {}
    """Basket size -> what a subscriber pays (€)."""
    shop_price_factors: dict[str, float] = {}
    """Partner shop -> the share of the farm price it pays for surplus."""
    supplier: SupplierInfo | None = None
    """Format 2 on, when the scenario names one: the seller on the canteens' delivery notes."""
    collections: list[CollectionChange] = []
    """Collections under the minimum pickup: merged into another day, brought by the farm, or
    kept with the reason (``foodchain.consolidation``; empty in older records)."""
    stock_in: list[StockRow] = []
    """Held over from the previous week's run (``stock_from_run``), in the offers."""
    stock_from_run: int | None = None
    stock_out: list[StockRow] = []
    """Unsold and still keeping: offered again the next week."""
    stock_lost: list[StockRow] = []
    """Held over and no longer keeping: lost."""
    flows: list[Flow]
    baskets: list[BasketLine]
    fills: list[BasketFill]
    shortfalls: list[Shortfall]
    surplus: list[Surplus]
    fairness: list[Fairness]
    stops: list[StopRow]
    packing: list[PackingRow] = []
    """Format 3 on: the hub's packing of each delivery (``settings.hub_work``)."""
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

    def brings(self, farm_id: str, day: dt.date) -> bool:
        """Whether the farm brings that day's produce to the hub: always, or asked to because
        the collection was under the minimum pickup."""
        site = self.sites.get(farm_id)
        own = site is not None and site.brings_own_produce
        return own or (day, farm_id) in brought_days(self.collections)

    def unserved_mandatory(self) -> list[UnservedRow]:
        """Mandatory stops the rounds leave out: a plan that does not deliver what it allocated."""
        return [u for u in self.unserved if u.reason != "optional_dropped"]

    def unrouted_days(self) -> list[dt.date]:
        """Days with goods to move whose search ended without any rounds: an incomplete plan."""
        return [d.day for d in self.days if not d.found_solution]

    def depot_of(self, vehicle_id: str) -> str:
        """Where a vehicle's trips start and end: the hub, or the farm whose own it is."""
        vehicle = self.vehicles.get(vehicle_id)
        return vehicle.depot_id if vehicle is not None and vehicle.depot_id else self.hub_id

    def trips(self) -> dict[tuple[dt.date, str, int], list[StopRow]]:
        """Rows of each (day, vehicle, trip), in order."""
        out: dict[tuple[dt.date, str, int], list[StopRow]] = defaultdict(list)
        for row in sorted(self.stops, key=lambda r: (r.day, r.vehicle_id, r.trip, r.seq)):
            out[(row.day, row.vehicle_id, row.trip)].append(row)
        return dict(out)


# --------------------------------------------------------------------------- building


DIESEL_VAN_CO2_KG_PER_KM = 0.317
"""3.5 t diesel van, 10 L/100 km x 3.17 kgCO2e/L well-to-wheel (facts.md §6)."""


def _site_info(catalogue: Catalogue, site_id: str, travel: Travel) -> SiteInfo:
    site = catalogue.sites[site_id]
    farm = catalogue.farms.get(site_id)
    hub = catalogue.sites[catalogue.hub]
    place, hub_place = Place(site.id, site.lat, site.lon), Place(hub.id, hub.lat, hub.lon)
    return SiteInfo.model_validate(site).model_copy(
        update={
            "organic_status": str(farm.organic_status) if farm else None,
            "brings_own_produce": bool(farm and farm.brings_own_produce),
            "direct_destinations": list(farm.direct_destinations) if farm else [],
            "km_direct": {
                d: travel.km(place, Place(d, there.lat, there.lon))
                for d in (farm.direct_destinations if farm else [])
                if (there := catalogue.sites.get(d)) is not None
            },
            "km_to_hub": travel.km(place, hub_place),
            "km_from_hub": travel.km(hub_place, place),
        }
    )


def _supplier_info(settings: dict[str, Any]) -> SupplierInfo | None:
    seller = supplier(settings)
    return SupplierInfo.model_validate(seller) if seller else None


def _stop_rows(day: DayRounds) -> list[StopRow]:
    problem, result = day.problem, day.result
    parts = problem.parts()
    rows = []
    after: dict[tuple[int, int], tuple[float, float]] = {}
    for b in result.breaks:
        trips = [t for t in result.trips if t.vehicle == b.vehicle and t.end <= b.start + 1e-9]
        if trips:
            last = max(trips, key=lambda t: t.end)
            after[(last.vehicle, last.number)] = (b.start, b.end)
    for trip in result.trips:
        vehicle = problem.vehicles[trip.vehicle].id
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
                cold=tuple(sorted({c for s in trip.stops for c in cold_classes(problem, s)})),
            )
        )
        previous = HUB
        for seq, visit in enumerate(trip.visits, start=1):
            stop = problem.stops[visit.stop]
            part, of = parts[visit.stop]
            limit = on_board_limit(problem, visit.stop)
            loaded = trip.start if stop.kind is StopKind.DELIVERY else visit.start
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
                    part=part,
                    parts=of,
                    crates=stop.crates,
                    cold=cold_classes(problem, visit.stop),
                    max_minutes_on_board=limit,
                    on_board_until=None if limit is None else loaded + limit,
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
                pause=after.get((trip.vehicle, trip.number)),
                load_kg=trip.visits[-1].load_kg if trip.visits else 0.0,
                km=problem.km[previous][HUB],
            )
        )
    return rows


def _with_empties(
    rounds: Sequence[DayRounds], rows: list[StopRow], folded_share: float
) -> list[StopRow]:
    """``rows`` with the empty crates each delivery takes back (``crates.crate_returns``)."""
    trips: list[CrateTrip] = []
    keys: list[tuple[dt.date, str, int]] = []
    for day in rounds:
        problem = day.problem
        for trip in day.result.trips:
            stops = tuple(
                CrateStop(
                    problem.stops[v.stop].site_id,
                    round(problem.stops[v.stop].crates)
                    if problem.stops[v.stop].kind is StopKind.DELIVERY
                    else 0,
                    v.load_crates,
                )
                for v in trip.visits
            )
            capacity = problem.vehicles[trip.vehicle].capacity_crates
            trips.append(CrateTrip(day.day, trip.start, capacity, stops))
            keys.append((day.day, problem.vehicles[trip.vehicle].id, trip.number + 1))
    taken = crate_returns(trips, folded_share)
    empties = {
        (*key, seq): back
        for key, backs in zip(keys, taken, strict=True)
        for seq, back in enumerate(backs, start=1)
        if back
    }
    return [
        row.model_copy(update={"empties": empties[key]})
        if (key := (row.day, row.vehicle_id, row.trip, row.seq)) in empties
        else row
        for row in rows
    ]


def _packing_rows(day: DayRounds) -> list[PackingRow]:
    parts = day.problem.parts()
    return [
        PackingRow(
            day=day.day,
            packer=job.packer + 1,
            site_id=day.problem.stops[job.stop].site_id,
            part=parts[job.stop][0],
            parts=parts[job.stop][1],
            farm_id=job.source,
            ready=job.ready,
            start=job.start,
            end=job.end,
            baskets=job.baskets,
            crates=job.crates,
        )
        for job in day.packing
    ]


def build_record(
    catalogue: Catalogue,
    vehicles: Sequence[VehicleIn],
    allocation: AllocationResult,
    rounds: Sequence[DayRounds],
    travel: Travel,
    scenario: str = "",
    language: str | None = None,
) -> PlanRecord:
    """Gather the allocation and the rounds of the week into one record."""
    stops: list[StopRow] = []
    unserved: list[UnservedRow] = []
    days: list[DayStats] = []
    packing: list[PackingRow] = []
    for day in rounds:
        stops.extend(_stop_rows(day))
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
        packing.extend(_packing_rows(day))
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
                engine=str(r.statistics.get("engine", "")),
                crashes=str(r.statistics.get("crashes", "")),
                depot_id=day.problem.hub_id,
            )
        )
    rules = hub_work(catalogue.settings)
    if rules is not None:
        stops = _with_empties(rounds, stops, rules.folded_crate_share)
    used_sites = (
        {catalogue.hub}
        | {f.farm_id for f in allocation.flows}
        | {f.destination_id for f in allocation.flows}
        | {s.site_id for s in stops}
        | {s.destination_id for s in allocation.shortfalls}
        | {s.farm_id for s in allocation.surplus}
        | set(catalogue.canteens)
        | {fill.relay_point_id for fill in allocation.fills}
    )
    names = (
        {g.id: g.name for g in catalogue.groups.values()}
        | {b.id: b.name for b in catalogue.basket_types.values()}
        | {c: rule.name for c, rule in catalogue.cold_chain.classes.items() if rule.name}
    )
    return PlanRecord(
        format=RECORD_FORMAT,
        week=str(allocation.week),
        scenario=scenario,
        language=language or str(catalogue.settings.get("language", "fr")),
        hub_id=catalogue.hub,
        allocation_status=allocation.status,
        allocation_notes=list(allocation.notes),
        supply_kg=allocation.supply_kg,
        canteen_demand_kg=allocation.canteen_demand_kg,
        diesel_co2_kg_per_km=emission_rules(catalogue.settings).diesel_kg_per_km.get(
            "large", DIESEL_VAN_CO2_KG_PER_KM
        ),
        emissions=emission_rules(catalogue.settings),
        sites={
            s: _site_info(catalogue, s, travel) for s in sorted(used_sites) if s in catalogue.sites
        },
        products={p.id: ProductInfo.model_validate(p) for p in catalogue.products.values()},
        vehicles={v.id: VehicleInfo.model_validate(v) for v in vehicles},
        names=names,
        canteen_rules={
            c.site_id: (c.organic_min_share, c.quality_min_share)
            for c in catalogue.canteens.values()
        },
        hub_margin=catalogue.hub_margin,
        basket_prices={b.id: b.price_eur for b in catalogue.basket_types.values()},
        shop_price_factors={s.site_id: s.price_factor for s in catalogue.shops.values()},
        supplier=_supplier_info(catalogue.settings),
        flows=[f for f in allocation.flows if f.kg > 1e-9],
        baskets=allocation.baskets,
        fills=allocation.fills,
        shortfalls=allocation.shortfalls,
        surplus=allocation.surplus,
        fairness=allocation.fairness,
        stops=stops,
        packing=packing,
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
            "warm_started_days": sorted(
                {d.day.isoformat() for d in rounds if d.result.statistics.get("warm_start")}
            ),
        },
    )


def earlier_rounds(record: PlanRecord) -> dict[dt.date, EarlierRoutes]:
    """The record's rounds per day, as ``route_flows`` takes them to start from."""
    visits: dict[dt.date, dict[str, dict[int, list[tuple[str, str, int]]]]] = {}
    for row in sorted(record.stops, key=lambda r: (r.day, r.vehicle_id, r.trip, r.seq)):
        if row.action in (StopKind.PICKUP, StopKind.DELIVERY):
            trips = visits.setdefault(row.day, {}).setdefault(row.vehicle_id, {})
            trips.setdefault(row.trip, []).append((row.site_id, row.action, row.part))
    return {
        day: {vehicle: [trips[t] for t in sorted(trips)] for vehicle, trips in by_vehicle.items()}
        for day, by_vehicle in visits.items()
    }


__all__ = [
    "RECORD_FORMAT",
    "DayStats",
    "PackingRow",
    "PlanRecord",
    "ProductInfo",
    "SiteInfo",
    "StopRow",
    "SupplierInfo",
    "UnservedRow",
    "VehicleInfo",
    "build_record",
    "earlier_rounds",
]
