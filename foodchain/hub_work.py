"""The hub's own work (``settings.hub_work`` of a scenario): packing before the departures.

Every delivery is packed at the hub before the trip carrying it loads: a relay point's baskets
(``minutes_per_basket`` each) and the crates of a canteen's or shop's products
(``minutes_per_crate`` each, a crate per product and started ``kg_per_crate``). The packers of
the day start at ``start``; a delivery's packing may begin only once its goods are at the hub
(collected the same day: when the trip bringing them is unloaded; brought by the farm: when
its share is unloaded; collected earlier: from the start) and must be over before its trip
starts loading.

The packing is scheduled before routing, so the routing only has to respect release times
(as it already does): the same-day pickups that feed a delivery get a fixed hub deadline (the
echelons' choice, made as if each delivery's window closed its packing time earlier), each
delivery's packing is put on the packer free the earliest after its goods are in (latest
loading first, in the first gap long enough), and its release becomes the packing's end.

Empty crates: a site's crates come back at its next delivery, folded, each taking
``folded_crate_share`` of a full crate's room; a driver takes back only what the vehicle has
room for at that stop until the hub (the rest waits for the next visit), so the rounds never
carry more than their crate capacity (``crate_returns``).

Kept in the scenario's settings (no table of its own), validated when the scenario is read.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from foodchain.routing.echelons import (
    SAFETY_MINUTES,
    derive_hub_deadlines,
    earliest_unloading,
    latest_loading,
)
from foodchain.routing.problem import RoutingProblem, StopKind
from foodchain.timing import minutes_of
from foodchain.weeks import WEEKDAYS

DEFAULT_KG_PER_CRATE = 10.0
"""A product without a crate size fills crates of this many kg (as the routing counts them)."""


class HubWork(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    packers: int | dict[str, int] = Field(default=1)
    """People packing at the hub: one number for every day, or per weekday (``mon``...
    ``sun``, ``*`` for the days not named; a day neither names has nobody packing)."""
    start: str = "06:00"
    """When packing may start (HH:MM), every day."""
    minutes_per_basket: float = Field(default=1.5, ge=0, le=60)
    minutes_per_crate: float = Field(default=0.5, ge=0, le=60)
    folded_crate_share: float = Field(default=0.2, gt=0, le=1)
    """Room an empty folded crate takes in a vehicle, as a share of a full crate's."""

    @field_validator("packers")
    @classmethod
    def _packers(cls, value: int | dict[str, int]) -> int | dict[str, int]:
        counts = value.values() if isinstance(value, dict) else [value]
        if any(isinstance(n, bool) or n < 0 for n in counts):
            raise ValueError("give a number of packers, 0 or more, e.g. 2")
        if isinstance(value, dict):
            unknown = sorted(set(value) - {*WEEKDAYS, "*"})
            if unknown:
                raise ValueError(
                    f"unknown day(s) {', '.join(unknown)}: use mon, tue, wed, thu, fri, "
                    "sat, sun or * (every other day)"
                )
        return value

    @field_validator("start")
    @classmethod
    def _start(cls, value: str) -> str:
        parts = value.split(":")
        if (
            len(parts) != 2
            or not all(p.isdigit() and len(p) == 2 for p in parts)
            or int(parts[0]) > 23
            or int(parts[1]) > 59
        ):
            raise ValueError(f"{value!r} is not a time of day: write it HH:MM, e.g. 06:00")
        return value

    def packers_on(self, day: dt.date) -> int:
        if isinstance(self.packers, int):
            return self.packers
        return self.packers.get(WEEKDAYS[day.weekday()], self.packers.get("*", 0))

    @property
    def start_minutes(self) -> float:
        return minutes_of(self.start)


def hub_work(settings: Mapping[str, Any]) -> HubWork | None:
    """The scenario's hub work (validated when the scenario was read); None: not modelled."""
    block = settings.get("hub_work")
    return None if block is None else HubWork.model_validate(block)


@dataclass(frozen=True)
class PackingWork:
    """What one destination needs packed on one day."""

    baskets: int = 0
    crates: int = 0
    """Crates of its canteen and shop lines (baskets are counted as baskets)."""

    def minutes(self, rules: HubWork) -> float:
        return self.baskets * rules.minutes_per_basket + self.crates * rules.minutes_per_crate


def packing_work(
    flows: Iterable[Any],
    fills: Iterable[Any],
    kg_per_crate: Mapping[str, float | None],
) -> dict[tuple[dt.date, str], PackingWork]:
    """Per (delivery day, destination): the baskets filled (``BasketFill``) and the crates of
    the other flows (``allocation.Flow``), a crate per product started."""
    kg: dict[tuple[dt.date, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for f in flows:
        if f.purpose != "basket" and f.kg > 1e-9:
            kg[(f.delivery_day, f.destination_id)][f.product_id] += f.kg
    baskets: dict[tuple[dt.date, str], int] = defaultdict(int)
    for fill in fills:
        if fill.filled > 0:
            baskets[(fill.day, fill.relay_point_id)] += fill.filled
    out = {}
    for key in set(kg) | set(baskets):
        crates = sum(
            math.ceil(amount / (kg_per_crate.get(product) or DEFAULT_KG_PER_CRATE) - 1e-9)
            for product, amount in kg.get(key, {}).items()
        )
        out[key] = PackingWork(baskets=baskets.get(key, 0), crates=crates)
    return out


@dataclass(frozen=True)
class PackingJob:
    """One delivery's packing (stop ``stop`` of the day problem) by packer ``packer``."""

    stop: int
    packer: int
    start: float
    end: float
    ready: float
    """When its goods are all at the hub (or packing starts, for goods already there)."""
    baskets: float = 0.0
    crates: float = 0.0


def _earliest_gap(busy: list[tuple[float, float]], ready: float, length: float) -> float:
    """The earliest start at or after ``ready`` where ``length`` fits between ``busy`` jobs."""
    start = ready
    for begin, end in sorted(busy):
        if start + length <= begin + 1e-9:
            return start
        start = max(start, end)
    return start


PACKING_PASSES = 8
"""Schedules tried at most while a packing ends after its delivery's latest loading: each
pass brings the hub deadlines of its pickups forward by the overrun (to their earliest)."""


def plan_packing(
    problem: RoutingProblem,
    work: Mapping[str, PackingWork],
    rules: HubWork,
    day: dt.date,
) -> tuple[RoutingProblem, tuple[PackingJob, ...]]:
    """``problem`` with each delivery released when its packing is over, and the packing.

    ``work`` is the day's work per destination; a site split into several visits has its
    work shared among them like its kg. Supplying pickups get fixed hub deadlines (see the
    module's docstring), brought forward while that lets a packing end in time. With no
    packer that day, deliveries with work are never ready (reported unserved)."""
    deliveries = [i for i, s in enumerate(problem.stops) if s.kind is StopKind.DELIVERY]
    total_kg: dict[str, float] = defaultdict(float)
    for i in deliveries:
        total_kg[problem.stops[i].site_id] += problem.stops[i].kg
    share = {
        i: problem.stops[i].kg / total_kg[problem.stops[i].site_id]
        if total_kg[problem.stops[i].site_id] > 0
        else 0.0
        for i in deliveries
    }
    minutes = {
        i: work.get(problem.stops[i].site_id, PackingWork()).minutes(rules) * share[i]
        for i in deliveries
    }
    # Deadlines as if each delivery had to leave its packing time earlier.
    shortened = list(problem.stops)
    for i in deliveries:
        opens, closes = problem.stops[i].window
        shortened[i] = replace(shortened[i], window=(opens, max(opens, closes - minutes[i])))
    coupled = derive_hub_deadlines(replace(problem, stops=tuple(shortened)))
    deadlines = {
        p: s.hub_deadline
        for p, s in enumerate(coupled.stops)
        if s.kind is StopKind.PICKUP and s.hub_deadline is not None
    }
    earliest = {p: earliest_unloading(problem, p) for p in deadlines}
    due = {i: latest_loading(problem, i) for i in deliveries}
    jobs: list[PackingJob] = []
    for _ in range(PACKING_PASSES):
        jobs = _schedule(problem, deliveries, minutes, deadlines, due, rules, day)
        moved = False
        for job in jobs:
            late = job.end - (due[job.stop] if due[job.stop] is not None else math.inf)
            if late <= 1e-9:
                continue
            for p in problem.stops[job.stop].supplied_by:
                if p not in deadlines:
                    continue
                floor = deadlines[p] if earliest[p] is None else earliest[p] + SAFETY_MINUTES
                sooner = max(floor, deadlines[p] - late)
                if sooner < deadlines[p] - 1e-9:
                    deadlines[p], moved = sooner, True
        if not moved:
            break
    stops = list(problem.stops)
    for p, deadline in deadlines.items():
        stops[p] = replace(stops[p], hub_deadline=deadline)
    for job in jobs:
        stops[job.stop] = replace(stops[job.stop], release=job.end)
    if not rules.packers_on(day):  # nobody packs: the goods are never ready
        for i in deliveries:
            if minutes[i] > 0:
                stops[i] = replace(stops[i], release=math.inf)
    for job in jobs:
        site = work.get(stops[job.stop].site_id, PackingWork())
        jobs[jobs.index(job)] = replace(
            job, baskets=site.baskets * share[job.stop], crates=site.crates * share[job.stop]
        )
    return replace(problem, stops=tuple(stops)), tuple(sorted(jobs, key=lambda j: j.start))


def _schedule(
    problem: RoutingProblem,
    deliveries: Sequence[int],
    minutes: Mapping[int, float],
    deadlines: Mapping[int, float],
    due: Mapping[int, float | None],
    rules: HubWork,
    day: dt.date,
) -> list[PackingJob]:
    """Each delivery's packing on the packer that can start it the earliest once its goods
    are in (the first gap long enough), latest loading first."""
    packers = rules.packers_on(day)
    ready = {}
    for i in deliveries:
        s = problem.stops[i]
        times = [rules.start_minutes] + ([s.release] if s.release is not None else [])
        times += [deadlines[p] for p in s.supplied_by if p in deadlines]
        ready[i] = max(times)
    order = sorted(
        (i for i in deliveries if minutes[i] > 0),
        key=lambda i: (due[i] if due[i] is not None else math.inf, ready[i], i),
    )
    busy: list[list[tuple[float, float]]] = [[] for _ in range(packers)]
    jobs = []
    for i in order if packers else ():
        starts = [_earliest_gap(b, ready[i], minutes[i]) for b in busy]
        packer = min(range(packers), key=lambda k: (starts[k], k))
        busy[packer].append((starts[packer], starts[packer] + minutes[i]))
        jobs.append(PackingJob(i, packer, starts[packer], starts[packer] + minutes[i], ready[i]))
    return jobs


# --------------------------------------------------------------------------- empty crates


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
