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
delivery's packing, a piece per farm whose goods it packs (baskets are filled product by
product), is put on the packer free the earliest after those goods are in (latest loading
first, in the first gap long enough), and its release becomes the end of its last piece.

Empty crates come back folded, each taking ``folded_crate_share`` of a full crate's room
(``foodchain.crates``).

Kept in the scenario's settings (no table of its own), validated when the scenario is read.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
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


AT_HUB = ""
"""Source of goods collected on an earlier day: at the hub when packing starts."""

BY_FARM = "@farm"
"""Goods a farm delivers itself from its farm: packed there, not at the hub."""


@dataclass(frozen=True)
class PackingWork:
    """What one destination needs packed on one day from one source (a farm's goods of
    the day, or ``AT_HUB``): its share of the baskets, and crates of its products."""

    baskets: float = 0.0
    """The baskets' filling done with this source's goods, in baskets (a basket's
    ``minutes_per_basket`` shared among its sources by kg)."""
    crates: int = 0
    """Crates of its canteen and shop lines: a crate per product started (lots apart)."""

    def minutes(self, rules: HubWork) -> float:
        return self.baskets * rules.minutes_per_basket + self.crates * rules.minutes_per_crate


Work = Mapping[str, Mapping[str, PackingWork]]
"""One day's packing: destination -> source (farm id, or ``AT_HUB``) -> work."""


def packing_work(
    flows: Iterable[Any],
    fills: Iterable[Any],
    kg_per_crate: Mapping[str, float | None],
) -> dict[dt.date, dict[str, dict[str, PackingWork]]]:
    """Delivery day -> destination -> source -> work, from the allocation's flows
    (``allocation.Flow``) and the baskets filled (``BasketFill``). A flow collected on its
    delivery day comes from its farm; one collected earlier is at the hub (``AT_HUB``).
    Baskets are filled product by product: each source takes the share of the baskets'
    time that its kg are of theirs; each crate line a crate per product started. What a
    farm delivers itself (``delivered_by``) is packed at the farm, not here."""
    basket_kg: dict[tuple[dt.date, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    crate_kg: dict[tuple[dt.date, str, str], dict[str, float]] = defaultdict(
        lambda: defaultdict(float)
    )
    for f in flows:
        if f.kg <= 1e-9:
            continue
        source = f.farm_id if f.pickup_day == f.delivery_day else AT_HUB
        if getattr(f, "delivered_by", ""):  # packed at the farm that delivers it
            source = BY_FARM
        if f.purpose == "basket":
            basket_kg[(f.delivery_day, f.destination_id)][source] += f.kg
        elif source != BY_FARM:
            crate_kg[(f.delivery_day, f.destination_id, source)][f.product_id] += f.kg
    baskets: dict[tuple[dt.date, str], int] = defaultdict(int)
    for fill in fills:
        if fill.filled > 0:
            baskets[(fill.day, fill.relay_point_id)] += fill.filled
    out: dict[dt.date, dict[str, dict[str, PackingWork]]] = defaultdict(lambda: defaultdict(dict))
    for (day, site), by_source in basket_kg.items():
        total = sum(by_source.values())
        for source, kg in by_source.items():
            if source != BY_FARM:
                share = baskets.get((day, site), 0) * kg / total
                out[day][site][source] = PackingWork(baskets=share)
    for (day, site, source), by_product in crate_kg.items():
        crates = sum(
            math.ceil(kg / (kg_per_crate.get(product) or DEFAULT_KG_PER_CRATE) - 1e-9)
            for product, kg in by_product.items()
        )
        before = out[day][site].get(source, PackingWork())
        out[day][site][source] = replace(before, crates=before.crates + crates)
    return {day: {site: dict(w) for site, w in sites.items()} for day, sites in out.items()}


@dataclass(frozen=True)
class PackingJob:
    """The packing of one source's goods for one delivery (stop ``stop`` of the day
    problem) by packer ``packer``, from ``start`` to ``end``."""

    stop: int
    source: str
    packer: int
    start: float
    end: float
    ready: float
    """When the source's goods are at the hub (or packing opens, if that is later)."""
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


END_OF_DAY = 24 * 60.0
"""When the goods of a day without packers are ready: too late for any trip."""

PACKING_PASSES = 8
"""Schedules tried at most while a packing ends after its delivery's latest loading: each
pass brings the hub deadlines of its pickups forward by the overrun (to their earliest)."""


@dataclass(frozen=True)
class _Task:
    stop: int
    source: str
    minutes: float
    baskets: float
    crates: float


def plan_packing(
    problem: RoutingProblem,
    work: Work,
    brought: Mapping[tuple[str, str], float],
    rules: HubWork,
    day: dt.date,
) -> tuple[RoutingProblem, tuple[PackingJob, ...]]:
    """``problem`` with each delivery released when its packing is over, and the packing.

    ``work`` is the day's; ``brought`` says when the goods a farm brings for a destination
    are unloaded at the hub ((farm, destination) -> minute). A site split into several
    visits has its work shared among them like its kg. Supplying pickups get fixed hub
    deadlines (see the module's docstring), brought forward while that lets a packing end
    in time. With nobody packing that day, deliveries with work are ready too late."""
    deliveries = [i for i, s in enumerate(problem.stops) if s.kind is StopKind.DELIVERY]
    total_kg: dict[str, float] = defaultdict(float)
    for i in deliveries:
        total_kg[problem.stops[i].site_id] += problem.stops[i].kg
    tasks: list[_Task] = []
    for i in deliveries:
        site = problem.stops[i].site_id
        share = problem.stops[i].kg / total_kg[site] if total_kg[site] > 0 else 0.0
        for source, w in sorted(work.get(site, {}).items()):
            if w.minutes(rules) > 0:
                tasks.append(
                    _Task(i, source, w.minutes(rules) * share, w.baskets * share, w.crates * share)
                )
    minutes: dict[int, float] = defaultdict(float)
    for task in tasks:
        minutes[task.stop] += task.minutes
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
    pickups_of: dict[str, list[int]] = defaultdict(list)
    for p, s in enumerate(problem.stops):
        if s.kind is StopKind.PICKUP:
            pickups_of[s.site_id].append(p)
    earliest = {p: earliest_unloading(problem, p) for p in deadlines}
    due = {i: latest_loading(problem, i) for i in deliveries}

    def ready(task: _Task) -> float:
        times = [rules.start_minutes]
        site = problem.stops[task.stop].site_id
        if (task.source, site) in brought:
            times.append(brought[(task.source, site)])
        times += [deadlines[p] for p in pickups_of.get(task.source, []) if p in deadlines]
        return max(times)

    jobs: list[PackingJob] = []
    for _ in range(PACKING_PASSES):
        jobs = _schedule(tasks, ready, due, rules.packers_on(day))
        moved = False
        for job in jobs:
            latest = due[job.stop]
            late = job.end - (math.inf if latest is None else latest)
            for p in pickups_of.get(job.source, []) if late > 1e-9 else []:
                if p not in deadlines:
                    continue
                first = earliest[p]
                floor = deadlines[p] if first is None else first + SAFETY_MINUTES
                sooner = max(floor, deadlines[p] - late)
                if sooner < deadlines[p] - 1e-9:
                    deadlines[p], moved = sooner, True
        if not moved:
            break
    stops = list(problem.stops)
    for p, deadline in deadlines.items():
        stops[p] = replace(stops[p], hub_deadline=deadline)
    for job in jobs:
        release = stops[job.stop].release
        stops[job.stop] = replace(stops[job.stop], release=max(job.end, release or job.end))
    if not rules.packers_on(day):  # nobody packs: the goods are ready at the end of the day
        for i in {task.stop for task in tasks}:
            stops[i] = replace(stops[i], release=END_OF_DAY)
    return replace(problem, stops=tuple(stops)), tuple(jobs)


def _schedule(
    tasks: Sequence[_Task],
    ready: Callable[[_Task], float],
    due: Mapping[int, float | None],
    packers: int,
) -> list[PackingJob]:
    """Each task on the packer that can start it the earliest once its goods are in (the
    first gap long enough), the deliveries that must load first first."""
    order = sorted(
        tasks,
        key=lambda t: (due[t.stop] if due[t.stop] is not None else math.inf, ready(t), t.stop),
    )
    busy: list[list[tuple[float, float]]] = [[] for _ in range(packers)]
    jobs = []
    for task in order if packers else ():
        at = ready(task)
        starts = [_earliest_gap(b, at, task.minutes) for b in busy]
        packer = min(range(packers), key=lambda k: (starts[k], k))
        end = starts[packer] + task.minutes
        busy[packer].append((starts[packer], end))
        jobs.append(
            PackingJob(
                task.stop, task.source, packer, starts[packer], end, at, task.baskets, task.crates
            )
        )
    return sorted(jobs, key=lambda j: (j.start, j.packer))
