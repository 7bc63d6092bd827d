"""Empty crates: a site's crates come back at its next delivery, within the vehicle's room.

A delivery leaves full crates (a crate per product started, as the routing counts them); at
the site's next delivery the driver takes them back empty and folded, each taking
``settings.hub_work.folded_crate_share`` of a full crate's room, as far as the vehicle has
room for them at that stop and every later one until the hub; the rest waits for the next
visit. The rounds themselves reserve no room for empties, so they never carry more than
their crate capacity, and what stays out there is counted (``crate_counts``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CrateStop:
    """A stop of a trip as the crate count sees it."""

    site_id: str
    delivered: int
    """Full crates left there (0 at a pickup)."""
    on_board: float
    """Full crates on board when the vehicle leaves it."""


@dataclass(frozen=True)
class CrateTrip:
    day: dt.date
    start: float
    capacity: float
    """The vehicle's crate capacity."""
    stops: tuple[CrateStop, ...]


def crate_returns(trips: Sequence[CrateTrip], folded_share: float) -> list[list[int]]:
    """Empties taken back at each stop of each trip (``trips`` in any order).

    Trips are taken in the order of the week. A site starts the week with the crates of its
    last delivery of the week out there (the weeks are alike: last week's last delivery left
    about as many); each delivery visit takes back what is out there, as far as the vehicle
    has room for it, folded, at that stop and every later one until the hub (full crates
    still on board plus the folded empties within the capacity); the rest waits for the
    next visit. Pickups take none back (farms' crates are not counted)."""
    order = sorted(range(len(trips)), key=lambda k: (trips[k].day, trips[k].start, k))
    out_there: dict[str, int] = {}
    for k in order:
        for stop in trips[k].stops:
            if stop.delivered:
                out_there[stop.site_id] = stop.delivered  # the last one stays
    taken: list[list[int]] = [[] for _ in trips]
    for k in order:
        trip, folded = trips[k], 0.0
        for n, stop in enumerate(trip.stops):
            back = 0
            if stop.delivered:
                free = min(trip.capacity - s.on_board for s in trip.stops[n:]) - folded
                room = max(0, math.floor(free / folded_share + 1e-9))
                back = min(out_there.get(stop.site_id, 0), room)
                out_there[stop.site_id] = out_there.get(stop.site_id, 0) - back + stop.delivered
                folded += back * folded_share
            taken[k].append(back)
    return taken


@dataclass(frozen=True)
class CrateCount:
    """A site's crates over the week: ``out_before`` were out there when it began (its last
    delivery's, see ``crate_returns``), ``out_after`` are when it ends."""

    site_id: str
    out_before: int
    delivered: int
    returned: int

    @property
    def out_after(self) -> int:
        return self.out_before + self.delivered - self.returned


def crate_counts(rows: Iterable[Any]) -> list[CrateCount]:
    """Per site delivered, from the record's stop rows (``StopRow``) in the week's order."""
    visits = sorted(
        (r for r in rows if r.action == "delivery"), key=lambda r: (r.day, r.arrival, r.seq)
    )
    last: dict[str, int] = {}
    delivered: dict[str, int] = defaultdict(int)
    returned: dict[str, int] = defaultdict(int)
    for r in visits:
        last[r.site_id] = round(r.crates)
        delivered[r.site_id] += round(r.crates)
        returned[r.site_id] += r.empties
    return [CrateCount(site, last[site], delivered[site], returned[site]) for site in sorted(last)]
