"""Direct deliveries: destinations a farm delivers itself, from the farm, with its own vehicle.

A farm's ``direct_destinations`` (a relay point on its own coast, say) get the farm's produce
on the farm's own rounds, without the hub: the kg go farm -> destination instead of
farm -> hub -> destination. The allocation knows these arcs and what a kg saves on them, so
that it prefers the farm for those destinations (``Builder``'s transport tier), and every flow
from such a farm to such a destination is marked ``direct``: the week's rounds route it from
the farm (``foodchain.plan.rounds``), not through the hub.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from foodchain.routing.travel import Place

if TYPE_CHECKING:  # reading a result (documents of a stored run) needs no solver, no database
    from foodchain.allocation.builder import Builder
    from foodchain.allocation.lp import FloatArray, IntArray, Model
    from foodchain.allocation.problem import Supply
    from foodchain.catalogue import Catalogue
    from foodchain.models import VehicleIn
    from foodchain.routing.travel import Travel


@dataclass(frozen=True)
class DirectArcs:
    """Per farm that delivers some destinations itself: destination -> road km saved per kg
    by going farm -> destination rather than farm -> hub -> destination (negative when the
    direct road is the longer one)."""

    km_saved: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    at_hub_days: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    """Per farm that brings its produce to the hub: the weekdays it may come (0 = Monday).
    Other farms' kg for its direct destinations, at the hub before such a day, go into its
    van there and on its direct round (none for a farm the hub's vans collect)."""

    def delivers(self, farm_id: str, destination_id: str) -> bool:
        """The farm takes its own produce for the destination there itself."""
        return destination_id in self.km_saved.get(farm_id, {})

    def carrier(self, farm_id: str, destination_id: str) -> str:
        """Whose round takes the farm's produce to the destination: the farm's id if it
        delivers it itself, else empty (the hub's)."""
        return farm_id if self.delivers(farm_id, destination_id) else ""

    def destinations(self, farm_id: str) -> Mapping[str, float]:
        return self.km_saved.get(farm_id, {})

    def delivered_by(self, destination_id: str) -> str:
        """The farm that delivers the destination itself ('' if none does; the first by id
        if several do)."""
        return next((f for f in sorted(self.km_saved) if destination_id in self.km_saved[f]), "")

    def handover_day(self, farm_id: str, delivery_day: int) -> int | None:
        """The last day before ``delivery_day`` the farm comes to the hub (None: none)."""
        days = [d for d in self.at_hub_days.get(farm_id, ()) if d < delivery_day]
        return max(days) if days else None


def direct_arcs(
    catalogue: Catalogue,
    vehicles: Sequence[VehicleIn],
    travel: Travel,
    supplies: Sequence[Supply] = (),
) -> DirectArcs:
    """The farms' direct destinations, kept where the farm has a vehicle based at the farm
    (``depot_id``) to deliver them with, with the km a kg saves on each; the days such a farm
    that brings its produce comes to the hub: those of its ``supplies`` this week."""
    hub = catalogue.sites.get(catalogue.hub)
    depots = {v.depot_id for v in vehicles}
    if hub is None:
        return DirectArcs()
    at_hub = Place(hub.id, hub.lat, hub.lon)
    saved: dict[str, dict[str, float]] = {}
    for farm in catalogue.farms.values():
        site = catalogue.sites.get(farm.site_id)
        if site is None or not farm.direct_destinations or farm.site_id not in depots:
            continue
        at_farm = Place(site.id, site.lat, site.lon)
        via_hub = travel.km(at_farm, at_hub)
        for destination_id in farm.direct_destinations:
            destination = catalogue.sites.get(destination_id)
            if destination is None:
                continue
            there = Place(destination.id, destination.lat, destination.lon)
            saved.setdefault(farm.site_id, {})[destination_id] = (
                via_hub + travel.km(at_hub, there) - travel.km(at_farm, there)
            )
    comes: dict[str, set[int]] = {}
    for supply in supplies:
        supplier = catalogue.farms.get(supply.farm_id)
        if supply.farm_id in saved and supplier is not None and supplier.brings_own_produce:
            comes.setdefault(supply.farm_id, set()).update(supply.days)
    return DirectArcs(saved, {f: tuple(sorted(days)) for f, days in comes.items()})


OWN, HANDED_OVER = 0, 1
"""How a farm's kg reach a relay point a farm delivers itself (``share_among_relays``): the
delivering farm's own produce, or another farm's handed over to its van at the hub."""


def share_among_relays(
    pieces: Sequence[tuple[int, str, float]],
    needs: Mapping[str, float],
    way: Callable[[int, str], int | None],
) -> list[tuple[int, str, float]]:
    """Share one product's basket kg of one size and day among the relay points.

    ``pieces`` are (key, farm, kg) of the farms' supplies, ``needs`` what each relay point's
    baskets hold of the product (their kg sum to the pieces'). ``way(key, relay)`` says how
    a piece can reach a relay point delivered by a farm itself: ``OWN`` (it is that farm's),
    ``HANDED_OVER`` (collected early enough to go into its van at the hub), None (only
    through the hub). Relay points delivered directly get the farm's own kg first, then
    kg that can be handed over; the rest is shared among the remaining needs in proportion.
    Every basket still holds the same: only who supplies which relay point changes.
    Returns (key, relay point, kg)."""
    left = dict(needs)
    kg_left = {key: kg for key, _farm, kg in pieces}
    out: list[tuple[int, str, float]] = []
    for rank in (OWN, HANDED_OVER):
        for key, _farm, _kg in pieces:
            for relay in sorted(left):
                if kg_left[key] <= 1e-12:
                    break
                if left[relay] > 1e-12 and way(key, relay) == rank:
                    taken = min(kg_left[key], left[relay])
                    out.append((key, relay, taken))
                    left[relay] -= taken
                    kg_left[key] -= taken
    open_needs = {relay: kg for relay, kg in left.items() if kg > 1e-12}
    total = sum(open_needs.values())
    for key, _farm, _kg in pieces:
        kg = kg_left[key]
        if kg <= 1e-12:
            continue
        if total <= 1e-12:  # rounding: the pieces held a hair more than the needs
            out.append((key, max(needs, key=lambda r: needs[r]), kg))
            continue
        out += [(key, relay, kg * need / total) for relay, need in sorted(open_needs.items())]
    return out


def direct_credits(
    builder: Builder, m: Model, counts: Mapping[tuple[str, str, int], int]
) -> tuple[IntArray, FloatArray]:
    """Columns of the transport tier that carry a farm's kg to a destination it delivers
    itself, with the km each kg on them saves (only where going direct saves km).

    Canteen and shop flows name their destination: the farm's arc there is credited. Basket
    flows name a size, shared among relay points afterwards (``share_among_relays``, which
    gives the farm's kg to its own relay points first): a new column per (farm's arc, relay
    point) takes at most the arc's kg and, with the other farms' for that relay point, at
    most what its baskets of that size hold of the product (baskets × kg per basket).
    Offers pooled across farms (large regions) are credited only when all of the class's
    offers are the one farm's."""
    direct = builder.p.direct
    if not direct.km_saved:  # no farm delivers anything itself: nothing to credit
        return np.array([], dtype=np.int64), np.array([], dtype=np.float64)
    supplies = builder.p.supplies
    farms_of: dict[int, set[str]] = {}
    for i, c in enumerate(builder.offers.of_supply.tolist()):
        farms_of.setdefault(c, set()).add(supplies[i].farm_id)

    def saving(offer: int, destination: str) -> float:
        farms = farms_of.get(offer, set())
        if len(farms) != 1:
            return 0.0
        return max(0.0, direct.destinations(next(iter(farms))).get(destination, 0.0))

    cols: list[int] = []
    saved: list[float] = []
    for a in range(builder.ca.size):
        need = builder.p.needs[int(builder.ca.target[a])]
        if (s := saving(int(builder.ca.supply[a]), need.canteen_id)) > 0:
            cols.append(int(builder.x_can[a]))
            saved.append(s)
    for a in range(builder.sa.size):
        shop = builder.p.shops[int(builder.sa.target[a])]
        if (s := saving(int(builder.sa.supply[a]), shop.id)) > 0:
            cols.append(int(builder.x_shop[a]))
            saved.append(s)
    relays = sorted({r for farm in direct.km_saved for r in direct.destinations(farm)})
    share_rows: dict[tuple[str, int, int, str], list[int]] = {}
    arc_of: list[int] = []
    for a in range(builder.ba.size):
        offer, t, day = int(builder.ba.supply[a]), int(builder.ba.target[a]), int(builder.ba.day[a])
        product = builder.product_of_offer[offer]
        for relay in relays:
            if counts.get((builder.type_ids[t], relay, day), 0) <= 0:
                continue
            if (s := saving(offer, relay)) > 0:
                share_rows.setdefault((relay, t, day, product), []).append(len(arc_of))
                arc_of.append(a)
                saved.append(s)
    if arc_of:
        y = m.variables(len(arc_of), 0.0, np.inf)
        cols += y.tolist()
        by_arc: dict[int, list[int]] = {}
        for k, a in enumerate(arc_of):
            by_arc.setdefault(a, []).append(k)
        for a, ks in by_arc.items():  # what the arc carries, shared among its relay points
            m.row(np.append(y[ks], builder.x_bsk[a]), np.append(np.ones(len(ks)), -1.0), -np.inf, 0)
        for (relay, t, day, product), ks in share_rows.items():  # what the baskets hold
            n = counts[(builder.type_ids[t], relay, day)]
            z = builder.z[builder.bp_index[(t, product)]]
            m.row(np.append(y[ks], z), np.append(np.ones(len(ks)), -float(n)), -np.inf, 0)
    return np.array(cols, dtype=np.int64), np.array(saved, dtype=np.float64)
