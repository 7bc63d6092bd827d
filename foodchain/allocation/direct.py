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

from foodchain.catalogue import Catalogue
from foodchain.models import VehicleIn
from foodchain.routing.travel import Place, Travel


@dataclass(frozen=True)
class DirectArcs:
    """Per farm that delivers some destinations itself: destination -> road km saved per kg
    by going farm -> destination rather than farm -> hub -> destination (negative when the
    direct road is the longer one)."""

    km_saved: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def delivers(self, farm_id: str, destination_id: str) -> bool:
        """The farm takes its own produce for the destination there itself."""
        return destination_id in self.km_saved.get(farm_id, {})

    def carrier(self, farm_id: str, destination_id: str) -> str:
        """Whose round takes the farm's produce to the destination: the farm's id if it
        delivers it itself, else empty (the hub's)."""
        return farm_id if self.delivers(farm_id, destination_id) else ""

    def destinations(self, farm_id: str) -> Mapping[str, float]:
        return self.km_saved.get(farm_id, {})


def direct_arcs(
    catalogue: Catalogue, vehicles: Sequence[VehicleIn], travel: Travel
) -> DirectArcs:
    """The farms' direct destinations, kept where the farm has a vehicle based at the farm
    (``depot_id``) to deliver them with, with the km a kg saves on each."""
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
    return DirectArcs(saved)


def share_among_relays(
    pieces: Sequence[tuple[int, str, float]],
    needs: Mapping[str, float],
    delivers: Callable[[str, str], bool],
) -> list[tuple[int, str, float]]:
    """Share one product's basket kg of one size and day among the relay points.

    ``pieces`` are (key, farm, kg) of the farms' supplies, ``needs`` what each relay point's
    baskets hold of the product (their kg sum to the pieces'). A farm's kg go first to the
    relay points it delivers itself (``delivers``), as far as their baskets hold the product;
    the rest is shared among the remaining needs in proportion. Every basket still holds the
    same: only who supplies which relay point changes. Returns (key, relay point, kg)."""
    left = dict(needs)
    rest: list[tuple[int, str, float]] = []
    out: list[tuple[int, str, float]] = []
    for key, farm, kg in pieces:
        for relay in sorted(left):
            if kg <= 1e-12:
                break
            if left[relay] > 1e-12 and delivers(farm, relay):
                taken = min(kg, left[relay])
                out.append((key, relay, taken))
                left[relay] -= taken
                kg -= taken
        if kg > 1e-12:
            rest.append((key, farm, kg))
    open_needs = {relay: kg for relay, kg in left.items() if kg > 1e-12}
    total = sum(open_needs.values())
    for key, _farm, kg in rest:
        if total <= 1e-12:  # rounding: the pieces held a hair more than the needs
            relay = max(needs, key=lambda r: needs[r])
            out.append((key, relay, kg))
            continue
        out += [(key, relay, kg * need / total) for relay, need in sorted(open_needs.items())]
    return out
