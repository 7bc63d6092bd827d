"""The routing problem of a farm's own rounds: its direct deliveries of one day.

A farm that delivers some destinations itself (``FarmIn.direct_destinations``) loads its
produce at the farm and drives it there with its own vehicle(s), based at the farm. That is
a routing problem of its own whose depot (location 0) is the farm: the engines are
depot-agnostic, so it is built like a hub day (``build_day_problem``) with the farm in the
hub's place and its goods already at the depot (nothing to collect, no release to wait for).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date

from foodchain.models import FarmIn, SiteIn, VehicleIn
from foodchain.routing.build import Flow, build_day_problem
from foodchain.routing.problem import BreakRule, RoutingProblem
from foodchain.routing.travel import Travel


def build_direct_problem(
    day: date,
    farm: SiteIn,
    sites: Mapping[str, SiteIn],
    farms: Mapping[str, FarmIn],
    vehicles: Sequence[VehicleIn],
    deliveries: Sequence[Flow],
    travel: Travel,
    *,
    optional_sites: Collection[str] = frozenset(),
    kg_per_crate: Mapping[str, float] | None = None,
    max_trips: int = 3,
    breaks: BreakRule | None = None,
    max_day_minutes: float | None = None,
) -> RoutingProblem:
    """The farm's direct deliveries of ``day`` (``deliveries``: what its round takes from
    the farm that day, its own produce and what it took over at the hub) with
    the vehicles based at the farm, which load at the farm (its service time and rate per
    100 kg) and leave and come back within their shift (the farm's pickup windows are for
    the hub's vans, not its own). Its drivers are the farm's: one per vehicle, with the legal
    break and longest day of the scenario's ``drivers``."""
    depot = farm.model_copy(update={"windows": {}})
    own = [f for f in deliveries if f.day == day]
    return build_day_problem(
        day,
        depot,
        sites,
        farms,
        [v for v in vehicles if v.depot_id == farm.id],
        [],
        optional_sites=optional_sites,
        kg_per_crate=kg_per_crate,
        max_trips=max_trips,
        from_stock=own,
        travel=travel,
        breaks=breaks,
        max_day_minutes=max_day_minutes,
    )
