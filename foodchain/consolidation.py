"""Consolidated collections (``settings.consolidation`` of a scenario): no van drives 15 km for
6 kg of apples that keep 60 days.

The allocation picks up each flow on the latest day it can (the freshest produce), so a farm
may be collected for a few kg on several days of the week. After the allocation, each farm's
collection of a day under the minimum pickup (kg or €, per farm) is merged into another of
its collection days when every product in it keeps until its deliveries there: the farm
offers the product that day, the delivery is on or after it within the product's shelf life,
and, for a delivery the same day, the goods reach the hub before it must leave (the
allocation's own same-day rule). What cannot be merged is asked to be brought to the hub by
the farm (``otherwise: bring``, the default) or kept as a small pickup with its reason
(``otherwise: keep``). Farms that bring their produce anyway, and bought-in produce, are left
as they are.

Kept in the scenario's settings (no table of its own), validated when the scenario is read;
what was done is stored in the plan's record (``CollectionChange``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from foodchain.allocation.result import BASKET, CANTEEN, SHOP, Flow
from foodchain.timing import can_feed
from foodchain.weeks import WEEKDAYS

if TYPE_CHECKING:
    from foodchain.allocation.problem import AllocationProblem
    from foodchain.catalogue import Catalogue

Otherwise = Literal["bring", "keep"]


class PickupMinimum(BaseModel):
    """A farm's minimum pickup: a collection under every minimum given is small."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    min_pickup_kg: float | None = Field(default=None, ge=0, le=10_000)
    min_pickup_eur: float | None = Field(default=None, ge=0, le=100_000)
    """Value at the farm's price; a collection reaching either minimum is worth the trip."""
    otherwise: Otherwise | None = None
    """What becomes of a small collection no other day can take: ``bring`` (the farm brings
    it to the hub) or ``keep`` (collected anyway, with the reason)."""

    def is_small(self, kg: float, eur: float) -> bool:
        """Under every minimum given (none given: no collection is small)."""
        minimums = [(kg, self.min_pickup_kg), (eur, self.min_pickup_eur)]
        given = [(value, least) for value, least in minimums if least is not None]
        return bool(given) and all(value < least - 1e-9 for value, least in given)

    def words(self) -> str:
        """``20 kg or 30 €``."""
        parts = []
        if self.min_pickup_kg is not None:
            parts.append(f"{self.min_pickup_kg:g} kg")
        if self.min_pickup_eur is not None:
            parts.append(f"{self.min_pickup_eur:g} €")
        return " or ".join(parts)


class ConsolidationRules(PickupMinimum):
    """The scenario's default minimum pickup and the farms that differ (``farms``: each
    setting a farm gives replaces the default's, e.g. ``{min_pickup_kg: 0}`` exempts it)."""

    otherwise: Otherwise | None = "bring"
    farms: dict[str, PickupMinimum] = Field(default_factory=dict)

    def of(self, farm_id: str) -> PickupMinimum:
        own = self.farms.get(farm_id)
        given = own.model_dump(exclude_unset=True) if own is not None else {}
        base = self.model_dump(include={"min_pickup_kg", "min_pickup_eur", "otherwise"})
        resolved = PickupMinimum.model_validate(base | given)
        return (
            resolved if resolved.otherwise else resolved.model_copy(update={"otherwise": "bring"})
        )


def consolidation_rules(settings: Mapping[str, Any]) -> ConsolidationRules:
    """The scenario's rules (already validated when the scenario was read); none: no minimum."""
    return ConsolidationRules.model_validate(settings.get("consolidation") or {})


Action = Literal["merged", "brought", "kept"]


class CollectionChange(BaseModel):
    """What became of a farm's collection of a day under the minimum pickup."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    farm_id: str
    day: dt.date
    """The collection day as the allocation had it."""
    kg: float
    eur: float
    action: Action
    """``merged`` into ``into``; ``brought`` to the hub by the farm; ``kept`` as a small
    pickup (``reason``)."""
    products: list[str] = []
    into: dt.date | None = None
    minimum: str = ""
    """The minimum it was under, in words (``20 kg or 30 €``)."""
    reason: str = ""
    """Brought or kept: why no other collection day of the farm takes it."""


@dataclass(frozen=True)
class Consolidation:
    flows: list[Flow]
    """The allocation's flows, merged collections picked up on their new day."""
    changes: list[CollectionChange]

    @property
    def brought(self) -> frozenset[tuple[dt.date, str]]:
        """(day, farm) of the collections the farm is asked to bring to the hub."""
        return brought_days(self.changes)


def brought_days(changes: Sequence[CollectionChange]) -> frozenset[tuple[dt.date, str]]:
    return frozenset((c.day, c.farm_id) for c in changes if c.action == "brought")


def _leave_by(problem: AllocationProblem, flow: Flow) -> float:
    """When the flow's goods must leave the hub on its delivery day (the allocation's rule)."""
    day = flow.delivery_day.weekday()
    if flow.purpose == CANTEEN:
        return min(
            (
                n.leave_by
                for n in problem.needs
                if n.canteen_id == flow.destination_id
                and n.item_id == flow.item_id
                and n.day == day
            ),
            default=math.inf,
        )
    if flow.purpose == BASKET:
        return problem.basket_leave_by(flow.item_id, day)
    if flow.purpose == SHOP:
        shop = next((s for s in problem.shops if s.id == flow.destination_id), None)
        return shop.latest(day) if shop is not None else math.inf
    return math.inf


def consolidate(
    problem: AllocationProblem,
    flows: Sequence[Flow],
    rules: ConsolidationRules,
    brings_own_produce: Collection[str] = (),
    names: Mapping[str, str] | None = None,
) -> Consolidation:
    """Merge, bring or keep each collection under its farm's minimum (see the module); a
    collection not merged says why (``names``: display names of sites and products)."""
    shown = names if names is not None else problem.names

    def name(key: str) -> str:
        return shown.get(key, key)

    supplies = {(s.farm_id, s.product_id): s for s in problem.supplies}
    collections: dict[tuple[str, dt.date], list[Flow]] = defaultdict(list)
    left_alone: list[Flow] = []
    for f in flows:
        if (
            f.bought
            or f.kg <= 1e-9
            or f.farm_id in brings_own_produce
            or f.delivered_by == f.farm_id
        ):
            left_alone.append(f)
        else:
            collections[(f.farm_id, f.pickup_day)].append(f)

    def worth(key: tuple[str, dt.date]) -> tuple[float, float]:
        return (
            sum(f.kg for f in collections[key]),
            sum(f.kg * f.price_eur_per_kg for f in collections[key]),
        )

    def why_not(flow: Flow, day: dt.date) -> str | None:
        """Why the flow cannot be picked up on ``day`` instead and still reach its delivery
        (None: it can)."""
        supply = supplies.get((flow.farm_id, flow.product_id))
        what = (
            f"{name(flow.product_id)} for {name(flow.destination_id)} on {_day(flow.delivery_day)}"
        )
        if supply is None or day.weekday() not in supply.days:
            return f"{what} is not offered on {_day(day)}"
        storage = (flow.delivery_day - day).days
        shelf = problem.products[flow.product_id].shelf_life_days
        if storage < 0:
            return f"{what} is delivered before {_day(day)}"
        if storage >= shelf:
            return f"{what} would wait {storage} days at the hub, it keeps {shelf}"
        if storage == 0 and not can_feed(supply.ready(day.weekday()), _leave_by(problem, flow)):
            return f"{what} would reach the hub too late on {_day(day)}"
        return None

    def obstacle(key: tuple[str, dt.date], other: tuple[str, dt.date]) -> str | None:
        return next((w for f in collections[key] if (w := why_not(f, other[1])) is not None), None)

    def others_of(key: tuple[str, dt.date]) -> list[tuple[str, dt.date]]:
        return sorted(k for k in collections if k[0] == key[0] and k != key)

    changes: list[CollectionChange] = []

    def change(key: tuple[str, dt.date], action: Action, **extra: Any) -> CollectionChange:
        kg, eur = worth(key)
        products = sorted({f.product_id for f in collections[key]})
        minimum = rules.of(key[0]).words()
        return CollectionChange(
            farm_id=key[0],
            day=key[1],
            kg=round(kg, 3),
            eur=round(eur, 2),
            action=action,
            products=products,
            minimum=minimum,
            **extra,
        )

    merged = True
    while merged:  # each merge removes a collection: at most as many rounds as collections
        merged = False
        small = sorted(
            (key for key in collections if rules.of(key[0]).is_small(*worth(key))),
            key=lambda key: (worth(key)[0], key[1], key[0]),
        )
        for key in small:
            farm, day = key
            targets = [other for other in others_of(key) if obstacle(key, other) is None]
            if not targets:
                continue
            target = max(
                targets, key=lambda t: (worth(t)[0], -abs((t[1] - day).days), -t[1].toordinal())
            )
            # what joined this collection earlier now goes on with it
            changes = [
                c.model_copy(update={"into": target[1]})
                if c.farm_id == farm and c.into == day
                else c
                for c in changes
            ]
            changes.append(change(key, "merged", into=target[1]))
            collections[target] += [replace(f, pickup_day=target[1]) for f in collections.pop(key)]
            merged = True
            break

    for key in sorted(collections, key=lambda k: (k[1], k[0])):
        minimum = rules.of(key[0])
        if not minimum.is_small(*worth(key)):
            continue
        alternatives = others_of(key)
        reason = (
            "; ".join(f"{_day(o[1])}: {obstacle(key, o)}" for o in alternatives)
            if alternatives
            else "the farm has no other collection this week"
        )
        if minimum.otherwise == "keep":
            reason += "; small pickups are kept (settings.consolidation.otherwise)"
            changes.append(change(key, "kept", reason=reason))
        else:
            changes.append(change(key, "brought", reason=reason))
    kept = [f for fs in collections.values() for f in fs]
    return Consolidation(flows=left_alone + kept, changes=changes)


def consolidate_flows(
    problem: AllocationProblem, flows: Sequence[Flow], catalogue: Catalogue
) -> Consolidation:
    """``consolidate`` with the catalogue's rules and farms."""
    return consolidate(
        problem,
        flows,
        consolidation_rules(catalogue.settings),
        {farm_id for farm_id, farm in catalogue.farms.items() if farm.brings_own_produce},
    )


def _day(day: dt.date) -> str:
    return f"{WEEKDAYS[day.weekday()]} {day:%d/%m}"


def collection_notes(
    changes: Sequence[CollectionChange],
    name: Any,
    hub_hours: Mapping[str, str] | None = None,
) -> list[str]:
    """The coordinator's lines: each collection merged, brought or kept, then the total.

    ``name`` gives a site's or product's display name; ``hub_hours`` the hub's hours per
    weekday (for a farm that brings its collection)."""
    lines = []
    for c in sorted(changes, key=lambda c: (c.day, c.farm_id)):
        what = f"{c.kg:.1f} kg ({c.eur:.2f} €: {', '.join(name(p) for p in c.products)})"
        head = f"{name(c.farm_id)}, {_day(c.day)}: {what}, under the minimum pickup ({c.minimum})"
        if c.action == "merged" and c.into is not None:
            lines.append(
                f"{head}, collected on {_day(c.into)} with the rest: it keeps until its deliveries."
            )
        elif c.action == "brought":
            hours = (hub_hours or {}).get(WEEKDAYS[c.day.weekday()]) or (hub_hours or {}).get("*")
            at = f" ({hours})" if hours else ""
            lines.append(
                f"{head}, no other day takes it ({c.reason}): the farm is asked to bring it "
                f"to the hub{at}."
            )
        else:
            lines.append(f"{head}, no other day takes it ({c.reason}): kept as a small pickup.")
    merged = [c for c in changes if c.action == "merged"]
    brought = [c for c in changes if c.action == "brought"]
    if merged or brought:
        lines.append(
            f"{len(merged) + len(brought)} farm visit(s) fewer for the vans "
            f"({len(merged)} merged into another day, {sum(c.kg for c in merged):.1f} kg; "
            f"{len(brought)} brought by the farm, {sum(c.kg for c in brought):.1f} kg)."
        )
    return lines


def collection_kpis(changes: Sequence[CollectionChange]) -> dict[str, Any]:
    """``kpis.json``'s ``collections``: visits the vans no longer make, and their kg."""
    by = {a: [c for c in changes if c.action == a] for a in ("merged", "brought", "kept")}
    return {
        "visits_saved": len(by["merged"]) + len(by["brought"]),
        **{f"{a}": len(cs) for a, cs in by.items()},
        **{f"{a}_kg": round(sum(c.kg for c in cs), 3) for a, cs in by.items()},
    }
