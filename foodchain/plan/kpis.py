"""The week's indicators for the town and the coordinator, computed from the plan record alone.

Definitions (kpis.json keeps these names):
- fulfilment: canteen kg delivered / demanded, baskets filled / due, kg sent to partner shops;
- transport per vehicle type: vehicles used, trips, road km, hours (hub loading to unloading),
  cost (fixed cost per vehicle and day used + per km + per hour), CO2 (km x the vehicle's
  factor, CNG vans with the scenario's biomethane share); ``diesel_co2_kg`` is what the diesel
  van of each vehicle's class would have emitted over the same km (a large van's 3.5 t, a small
  van's or a cargo bike's a small diesel van: ``foodchain.emissions``), ``co2_saved_kg`` the
  difference; ``farm_runs`` the farmers' own runs to the hub (farm -> hub -> farm each day a
  farm brings produce that goes through the hub, at its vehicle's diesel factor) and
  ``co2_total_kg`` all rounds and the farmers' runs together; ``direct_rounds`` the farms'
  own rounds from the farm to the destinations they deliver themselves (their trips, km,
  CO2 and cost, also counted in the totals and per vehicle type; the hub's economics leave
  their cost out: the farm pays it);
- food-miles: kg x road km farm -> hub -> destination (farm -> destination for what a farm
  delivers itself), summed over the allocation;
- fairness: Jain's index per product (1 = every farm sold the same share of its offer), the
  overall index weighted by kg offered;
- per canteen: the contribution to EGalim of the produce delivered: organic and EGalim quality
  shares of the purchase value of what the hub delivered this week, with the canteen's minimum
  for it. Not the canteen's EGalim rate, which counts all its purchases over a calendar year.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from foodchain.allocation import Flow, overall_fairness
from foodchain.consolidation import collection_kpis
from foodchain.plan.record import PlanRecord

LARGEST_SHORTFALLS = 10


def _r(value: float, digits: int = 3) -> float:
    return round(value, digits)


def _share(part: float, whole: float) -> float | None:
    return _r(part / whole, 4) if whole > 1e-9 else None


def _food_km(record: PlanRecord, flow: Flow) -> float:
    """Road km a kg of the flow travels: farm -> destination on the farm's own round, else
    through the hub (farm -> hub -> destination)."""
    farm, destination = record.sites[flow.farm_id], record.sites[flow.destination_id]
    if flow.delivered_by == flow.farm_id and flow.destination_id in farm.km_direct:
        return farm.km_direct[flow.destination_id]
    return farm.km_to_hub + destination.km_from_hub


def transport_kpis(record: PlanRecord) -> dict[str, Any]:
    rules = record.emissions
    by_type: dict[str, dict[str, float]] = defaultdict(
        lambda: {
            "vehicles": 0,
            "trips": 0,
            "km": 0.0,
            "hours": 0.0,
            "cost_eur": 0.0,
            "co2_kg": 0.0,
            "diesel_co2_kg": 0.0,
        }
    )
    used: set[tuple[str, str]] = set()
    farms_rounds: dict[str, dict[str, float]] = defaultdict(
        lambda: {"trips": 0, "km": 0.0, "co2_kg": 0.0, "cost_eur": 0.0}
    )
    for (day, vehicle_id, _trip), rows in record.trips().items():
        vehicle = record.vehicles[vehicle_id]
        kpi = by_type[vehicle.type]
        km = sum(r.km for r in rows)
        hours = (rows[-1].departure - rows[0].arrival) / 60.0
        if record.depot_of(vehicle_id) != record.hub_id:
            own = farms_rounds[record.depot_of(vehicle_id)]
            own["trips"] += 1
            own["km"] += km
            own["co2_kg"] += km * rules.kg_per_km(vehicle.type, vehicle.co2_kg_per_km)
            own["cost_eur"] += km * vehicle.cost_per_km_eur + hours * vehicle.cost_per_hour_eur
            if (day.isoformat(), vehicle_id) not in used:
                own["cost_eur"] += vehicle.cost_fixed_eur
        kpi["trips"] += 1
        kpi["km"] += km
        kpi["hours"] += hours
        kpi["co2_kg"] += km * rules.kg_per_km(vehicle.type, vehicle.co2_kg_per_km)
        kpi["diesel_co2_kg"] += km * rules.baseline_kg_per_km(vehicle.type)
        kpi["cost_eur"] += km * vehicle.cost_per_km_eur + hours * vehicle.cost_per_hour_eur
        if (day.isoformat(), vehicle_id) not in used:
            used.add((day.isoformat(), vehicle_id))
            kpi["vehicles"] += 1
            kpi["cost_eur"] += vehicle.cost_fixed_eur
    km = sum(k["km"] for k in by_type.values())
    co2 = sum(k["co2_kg"] for k in by_type.values())
    diesel = sum(k["diesel_co2_kg"] for k in by_type.values())
    farms = farm_runs_kpis(record)
    return {
        "by_vehicle_type": {
            t: {k: _r(v) if isinstance(v, float) else v for k, v in kpi.items()}
            for t, kpi in sorted(by_type.items())
        },
        "vehicle_days": len(used),
        "trips": sum(int(k["trips"]) for k in by_type.values()),
        "km": _r(km),
        "hours": _r(sum(k["hours"] for k in by_type.values())),
        "cost_eur": _r(sum(k["cost_eur"] for k in by_type.values()), 2),
        "co2_kg": _r(co2),
        "diesel_co2_kg": _r(diesel),
        "co2_saved_kg": _r(diesel - co2),
        "biomethane_share": rules.biomethane_share,
        "farm_runs": farms,
        "direct_rounds": {
            "trips": sum(int(f["trips"]) for f in farms_rounds.values()),
            "km": _r(sum(f["km"] for f in farms_rounds.values())),
            "co2_kg": _r(sum(f["co2_kg"] for f in farms_rounds.values())),
            "cost_eur": _r(sum(f["cost_eur"] for f in farms_rounds.values()), 2),
            "by_farm": {
                farm: {k: _r(v) if isinstance(v, float) else v for k, v in kpi.items()}
                for farm, kpi in sorted(farms_rounds.items())
            },
        },
        "co2_total_kg": _r(co2 + farms["co2_kg"]),
        "unserved_stops": len(record.unserved),
        "unserved_mandatory_stops": sum(
            1 for u in record.unserved if u.reason != "optional_dropped"
        ),
        "unserved_kg": _r(sum(u.kg for u in record.unserved)),
    }


def farm_runs_kpis(record: PlanRecord) -> dict[str, Any]:
    """The farmers' own runs to the hub: a farm that brings its produce drives farm -> hub ->
    farm on each day it brings some that goes through the hub (asked to or not), or takes
    other farms' produce there for its own deliveries, in the plan (or as its
    ``settings.co2.farms`` entry says), at its vehicle's factor."""
    rules = record.emissions
    days: dict[str, set[str]] = defaultdict(set)
    for flow in record.flows:
        through_hub = flow.delivered_by != flow.farm_id  # a farm's own direct round: no hub run
        if (
            flow.kg > 0
            and flow.farm_id in record.sites
            and record.brings(flow.farm_id, flow.pickup_day)
            and through_hub
        ):
            days[flow.farm_id].add(flow.pickup_day.isoformat())
        if flow.kg > 0 and flow.handed_over is not None:  # its van takes it at the hub
            days[flow.delivered_by].add(flow.handed_over.isoformat())
    by_farm: dict[str, dict[str, float]] = {}
    for farm_id in sorted(set(days) | set(rules.farms)):
        own = rules.farms.get(farm_id)
        site = record.sites.get(farm_id)
        runs = float(len(days[farm_id]))
        if own is not None and own.runs_per_week is not None:
            runs = own.runs_per_week
        if own is not None and own.km_per_run is not None:
            per_run = own.km_per_run
        elif site is not None:
            per_run = site.km_to_hub + site.km_from_hub
        else:
            continue  # named in the settings, not in this week's record: no runs known
        if runs <= 0:
            continue
        km = runs * per_run
        by_farm[farm_id] = {
            "runs": runs,
            "km": _r(km),
            "co2_kg": _r(km * rules.farm_kg_per_km(farm_id)),
        }
    return {
        "runs": sum(f["runs"] for f in by_farm.values()),
        "km": _r(sum(f["km"] for f in by_farm.values())),
        "co2_kg": _r(sum(f["co2_kg"] for f in by_farm.values())),
        "by_farm": by_farm,
    }


def canteen_kpis(record: PlanRecord) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    short: dict[str, float] = defaultdict(float)
    for s in record.shortfalls:
        if not s.baskets:
            short[s.destination_id] += s.kg
    for canteen, (organic_min, quality_min) in sorted(record.canteen_rules.items()):
        flows = [f for f in record.flows if f.purpose == "canteen" and f.destination_id == canteen]
        value = sum(f.kg * f.price_eur_per_kg for f in flows)
        organic = sum(f.kg * f.price_eur_per_kg for f in flows if f.organic_status.is_organic)
        quality = sum(f.kg * f.price_eur_per_kg for f in flows if f.organic_status.is_quality)
        organic_share, quality_share = _share(organic, value), _share(quality, value)
        out[canteen] = {
            "delivered_kg": _r(sum(f.kg for f in flows)),
            "short_kg": _r(short[canteen]),
            "value_eur": _r(value, 2),
            "organic_share": organic_share,
            "quality_share": quality_share,
            "organic_min": organic_min,
            "quality_min": quality_min,
            "rule_met": value <= 1e-9
            or (organic >= organic_min * value - 1e-6 and quality >= quality_min * value - 1e-6),
        }
    return out


def economics_kpis(record: PlanRecord, transport_eur: float) -> dict[str, Any]:
    """The hub's week in euros before VAT: what subscribers, canteens and shops pay, what the
    farms and the wholesaler are paid, the rounds' cost, and what is left. Surplus sold to
    shops passes through: the farm gets what the shop pays (its price factor), the hub no
    margin."""
    baskets = sum(record.basket_prices.get(f.basket_type_id, 0.0) * f.filled for f in record.fills)
    canteens = sum(
        f.kg * f.price_eur_per_kg * (1 + record.hub_margin)
        for f in record.flows
        if f.purpose == "canteen"
    )
    shops = sum(
        f.kg * f.price_eur_per_kg * record.shop_price_factors.get(f.destination_id, 0.0)
        for f in record.flows
        if f.purpose == "shop"
    )
    farms = shops + sum(
        f.kg * f.price_eur_per_kg for f in record.flows if not f.bought and f.purpose != "shop"
    )
    bought = sum(f.kg * f.price_eur_per_kg for f in record.flows if f.bought)
    revenue = baskets + canteens + shops
    margin = revenue - farms - bought - transport_eur
    filled = sum(f.filled for f in record.fills)
    delivered = sum(f.kg for f in record.flows)
    return {
        "revenue_eur": _r(revenue, 2),
        "revenue_baskets_eur": _r(baskets, 2),
        "revenue_canteens_eur": _r(canteens, 2),
        "revenue_shops_eur": _r(shops, 2),
        "farm_payments_eur": _r(farms, 2),
        "bought_in_eur": _r(bought, 2),
        "transport_eur": _r(transport_eur, 2),
        "margin_eur": _r(margin, 2),
        "margin_per_basket_eur": _r(margin / filled, 2) if filled else None,
        "logistics_eur_per_kg": _r(transport_eur / delivered) if delivered > 1e-9 else None,
    }


def compute_kpis(record: PlanRecord) -> dict[str, Any]:
    """All indicators of the week, JSON-ready."""
    kg_to: dict[str, float] = defaultdict(float)
    for flow in record.flows:
        kg_to[flow.purpose] += flow.kg
    bought = sum(f.kg for f in record.flows if f.bought)
    sold = sum(kg_to.values()) - bought  # of the farms' offers
    # What the rounds leave out does not arrive: delivered = allocated - unserved deliveries.
    purpose_of = {"canteen": "canteen", "relay": "basket", "shop": "shop"}
    undelivered: dict[str, float] = defaultdict(float)
    for u in record.unserved:
        kind = record.sites[u.site_id].kind if u.site_id in record.sites else ""
        if u.action == "delivery" and kind in purpose_of:
            undelivered[purpose_of[kind]] += u.kg
    delivered = {k: max(0.0, kg_to[k] - undelivered[k]) for k in ("canteen", "basket", "shop")}
    due = sum(f.due for f in record.fills)
    filled = sum(f.filled for f in record.fills)
    canteen_short = sum(s.kg for s in record.shortfalls if not s.baskets)
    food_miles = sum(f.kg * _food_km(record, f) for f in record.flows)
    lowest = min(record.fairness, key=lambda f: f.index, default=None)
    transport = transport_kpis(record)
    return {
        "week": record.week,
        "fulfilment": {
            "canteens": {
                "demand_kg": _r(record.canteen_demand_kg),
                "allocated_kg": _r(kg_to["canteen"]),
                "delivered_kg": _r(delivered["canteen"]),
                "undelivered_kg": _r(undelivered["canteen"]),
                "short_kg": _r(canteen_short),
                "share": _share(delivered["canteen"], record.canteen_demand_kg),
            },
            "baskets": {
                "due": due,
                "filled": filled,
                "kg": _r(kg_to["basket"]),
                "undelivered_kg": _r(undelivered["basket"]),
                "share": _share(filled, due),
            },
            "shops": {
                "kg": _r(kg_to["shop"]),
                "delivered_kg": _r(delivered["shop"]),
                "undelivered_kg": _r(undelivered["shop"]),
            },
        },
        "supply_kg": _r(record.supply_kg),
        "sold_kg": _r(sold),
        "bought_in_kg": _r(bought),
        "unsold_kg": _r(sum(s.kg for s in record.surplus)),
        "stock": {
            "in_kg": _r(sum(r.kg for r in record.stock_in)),
            "out_kg": _r(sum(r.kg for r in record.stock_out)),
            "lost_kg": _r(sum(r.kg for r in record.stock_lost)),
        },
        "collections": collection_kpis(record.collections),
        "largest_shortfalls": [
            {
                "who": s.destination_id,
                "item": s.item_id,
                "day": s.day.isoformat(),
                "kg": _r(s.kg),
                "reason": s.reason,
            }
            for s in sorted(record.shortfalls, key=lambda s: -s.kg)[:LARGEST_SHORTFALLS]
        ],
        "transport": transport,
        "economics": economics_kpis(
            record, transport["cost_eur"] - transport["direct_rounds"]["cost_eur"]
        ),
        "food_miles_kg_km": _r(food_miles, 1),
        "food_miles_km_per_kg": _r(food_miles / (sold + bought)) if sold + bought > 1e-9 else None,
        "purchase_value_eur": _r(sum(f.kg * f.price_eur_per_kg for f in record.flows), 2),
        "fairness": {
            "overall": _r(overall_fairness(record.fairness), 4),
            "lowest": {"product_id": lowest.product_id, "index": _r(lowest.index, 4)}
            if lowest is not None
            else None,
        },
        "canteens": canteen_kpis(record),
    }
