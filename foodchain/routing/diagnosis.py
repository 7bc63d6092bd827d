"""Why a mandatory stop cannot be served: checked stop by stop, vehicle by vehicle.

A stop that no vehicle could serve even on a trip of its own is left out of the solver's
model and reported with the first obstacle met, in words a coordinator understands. A stop
the solver drops although such a trip exists is reported as a saturated fleet, or as wanting a
driver when a vehicle able to serve it stays at the hub because every driver drives another.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from foodchain.routing.cold import cold_need, trip_breach, vehicle_too_warm
from foodchain.routing.problem import HUB, RoutingProblem, StopKind, Unserved, UnservedReason
from foodchain.routing.schedule import effective_release
from foodchain.timing import visit_times
from foodchain.weeks import clock


@dataclass(frozen=True)
class _Attempt:
    vehicle: int
    blocked_by_release: bool
    message: str
    blocked_by_cold: bool = False


def vehicle_can_visit(problem: RoutingProblem, vehicle: int, stop: int) -> str | None:
    """None if the vehicle may visit the stop at all (kind, zone, cold, size, range), else
    why not."""
    v = problem.vehicles[vehicle]
    s = problem.stops[stop]
    if v.allowed_site_kinds is not None and s.site_kind not in v.allowed_site_kinds:
        return f"{v.id} does not serve {s.site_kind} sites"
    out_km = problem.km[HUB][stop + 1]
    if v.max_km_from_hub is not None and out_km > v.max_km_from_hub + 1e-9:
        return f"{v.id} stays within {v.max_km_from_hub:g} km of the hub ({out_km:.1f} km)"
    too_warm = vehicle_too_warm(problem, vehicle, stop)
    if too_warm is not None:
        return too_warm
    if s.kg > v.capacity_kg + 1e-9:
        return f"{v.id} carries {v.capacity_kg:g} kg (needs {s.kg:g})"
    if s.crates > v.capacity_crates + 1e-9:
        return f"{v.id} carries {v.capacity_crates:g} crates (needs {s.crates:g})"
    round_trip = out_km + problem.km[stop + 1][HUB]
    if round_trip > v.range_km + 1e-9:
        return f"{v.id} has a range of {v.range_km:g} km (round trip {round_trip:.0f} km)"
    return None


def single_trip_timing(
    problem: RoutingProblem,
    vehicle: int,
    stop: int,
    use_release: bool = True,
    use_cold: bool = True,
) -> str | None:
    """None if the vehicle can serve the stop on a trip of its own within all times (the
    cold chain's time on board too, unless ``use_cold`` is False)."""
    v = problem.vehicles[vehicle]
    s = problem.stops[stop]
    loaded = s.kg if s.kind is StopKind.DELIVERY else 0.0
    unloaded = s.kg if s.kind is StopKind.PICKUP else 0.0
    start = v.shift[0]
    release = effective_release(problem, stop) if use_release else None
    if release is not None:
        start = max(start, release)
    departure = start + problem.loading_minutes(loaded)
    call = (problem.travel_minutes(vehicle, HUB, stop + 1), s.window[0], s.service_minutes)
    [(arrival, begin, leave)] = visit_times(departure, [call])
    if begin > s.window[1] + 1e-6:
        why = f"goods at the hub at {clock(release)}, " if release and start == release else ""
        return (
            f"{why}{v.id} arrives at {clock(arrival)} at the earliest, "
            f"after the window closes at {clock(s.window[1])}"
        )
    end = leave + problem.travel_minutes(vehicle, stop + 1, HUB)
    end += problem.unloading_minutes(unloaded)
    if end > v.shift[1] + 1e-6:
        return f"{v.id} would be back at {clock(end)}, after its shift ends at {clock(v.shift[1])}"
    longest = min(
        problem.max_day_minutes or math.inf,
        problem.breaks.after_minutes if problem.breaks else math.inf,
    )
    length = end - start - (begin - arrival)  # leaving later saves the wait
    if length > longest + 1e-6:
        return (
            f"a trip of {v.id} there takes {length / 60:.1f} h, longer than a driver "
            f"works without a break at the hub ({longest / 60:g} h)"
        )
    if s.kind is StopKind.PICKUP and s.hub_deadline is not None and end > s.hub_deadline + 1e-6:
        return f"{v.id} would unload at the hub at {clock(end)}, after {clock(s.hub_deadline)}"
    if not use_cold or problem.cold is None:
        return None
    # leaving later saves the wait: the goods are loaded that much later
    breach = trip_breach(problem, [stop], start + begin - arrival, [(begin, leave)], end)
    return None if breach is None else f"with {v.id}, {breach}"


def _within_zone(problem: RoutingProblem, vehicle: int, out_km: float) -> bool:
    limit = problem.vehicles[vehicle].max_km_from_hub
    return limit is None or out_km <= limit + 1e-9


def diagnose(problem: RoutingProblem, stop: int) -> Unserved | None:
    """None if some vehicle can serve the stop alone; else the reason, in words."""
    s = problem.stops[stop]
    name = s.site_id + (f" ({s.label})" if s.label else "")
    if not problem.vehicles:
        return Unserved(stop, UnservedReason.NO_ALLOWED_VEHICLE, f"{name}: there is no vehicle")
    kind_ok = [
        i
        for i, v in enumerate(problem.vehicles)
        if v.allowed_site_kinds is None or s.site_kind in v.allowed_site_kinds
    ]
    if not kind_ok:
        return Unserved(
            stop,
            UnservedReason.NO_ALLOWED_VEHICLE,
            f"{name}: no vehicle serves {s.site_kind} sites",
        )
    out_km = problem.km[HUB][stop + 1]
    zone_ok = [i for i in kind_ok if _within_zone(problem, i, out_km)]
    if not zone_ok:
        return Unserved(
            stop,
            UnservedReason.OUT_OF_RANGE,
            f"{name} is {out_km:.1f} km from the hub, outside the zone of every vehicle "
            "allowed there",
        )
    cold_ok = [i for i in zone_ok if vehicle_too_warm(problem, i, stop) is None]
    if not cold_ok:
        warm = ", ".join(problem.vehicles[i].id for i in zone_ok)
        return Unserved(
            stop,
            UnservedReason.COLD_CHAIN,
            f"{name}: its {cold_need(problem, stop)}, and none of those allowed there is "
            f"({warm}); give one that body (vehicles[].cold) or change settings.cold_chain",
        )
    zone_ok = cold_ok
    size_ok = [
        i
        for i in zone_ok
        if s.kg <= problem.vehicles[i].capacity_kg + 1e-9
        and s.crates <= problem.vehicles[i].capacity_crates + 1e-9
    ]
    if not size_ok:
        biggest = max(problem.vehicles[i].capacity_kg for i in zone_ok)
        most_crates = max(problem.vehicles[i].capacity_crates for i in zone_ok)
        return Unserved(
            stop,
            UnservedReason.TOO_HEAVY,
            f"{name}: {s.kg:g} kg / {s.crates:g} crates is more than any allowed vehicle "
            f"carries (largest {biggest:g} kg / {most_crates:g} crates); split the load",
        )
    round_trip = out_km + problem.km[stop + 1][HUB]
    range_ok = [i for i in size_ok if round_trip <= problem.vehicles[i].range_km + 1e-9]
    if not range_ok:
        longest = max(problem.vehicles[i].range_km for i in size_ok)
        return Unserved(
            stop,
            UnservedReason.OUT_OF_RANGE,
            f"{name}: the round trip is {round_trip:.0f} km, beyond the range of every vehicle "
            f"able to carry it (longest {longest:g} km)",
        )
    attempts = []
    for i in range_ok:
        why = single_trip_timing(problem, i, stop)
        if why is None:
            return None
        blocked = single_trip_timing(problem, i, stop, use_release=False) is None
        warm_ok = single_trip_timing(problem, i, stop, use_cold=False) is None
        attempts.append(_Attempt(i, blocked, why, warm_ok))
    cold = [a for a in attempts if a.blocked_by_cold]
    if cold and len(cold) == len(attempts):
        return Unserved(
            stop,
            UnservedReason.COLD_CHAIN,
            f"{name}: its goods cannot keep the cold chain even on a trip of their own: "
            f"{cold[0].message} (settings.cold_chain)",
        )
    if any(a.blocked_by_release for a in attempts):
        first = next(a for a in attempts if a.blocked_by_release)
        return Unserved(
            stop,
            UnservedReason.GOODS_TOO_LATE,
            f"{name}: its goods reach the hub too late for its window "
            f"{clock(s.window[0])}-{clock(s.window[1])}: {first.message}",
        )
    best = min(attempts, key=lambda a: a.vehicle)
    return Unserved(
        stop,
        UnservedReason.WINDOW_UNREACHABLE,
        f"{name}: window {clock(s.window[0])}-{clock(s.window[1])} cannot be reached "
        f"within any shift: {best.message}",
    )


def saturated(problem: RoutingProblem, stop: int) -> Unserved:
    """The reason for a stop the solver dropped although a trip of its own would serve it."""
    s = problem.stops[stop]
    name = s.site_id + (f" ({s.label})" if s.label else "")
    if not s.mandatory:
        return Unserved(
            stop,
            UnservedReason.OPTIONAL_DROPPED,
            f"{name}: optional visit left out, serving it would cost more than its "
            f"penalty of {s.penalty:g} €",
        )
    return Unserved(
        stop,
        UnservedReason.FLEET_SATURATED,
        f"{name}: every vehicle able to serve it is needed elsewhere within its window "
        f"{clock(s.window[0])}-{clock(s.window[1])}; add a vehicle or widen the window",
    )


def no_driver(problem: RoutingProblem, stop: int, used: Collection[int]) -> Unserved | None:
    """The reason for a stop left out while a vehicle able to serve it stays at the hub
    because every driver of the day drives another one; None if that is not the case."""
    limit = problem.driver_limit
    if len(set(used)) < limit or not problem.stops[stop].mandatory:
        return None  # an optional stop left out is an optional drop
    idle = [v for v in allowed_vehicles(problem, stop) if v not in used]
    if not idle and limit > 0:
        return None
    s = problem.stops[stop]
    name = s.site_id + (f" ({s.label})" if s.label else "")
    if limit == 0:
        why = "no driver works that day"
    else:
        spare = ", ".join(problem.vehicles[v].id for v in idle)
        why = (
            f"the day's {limit} driver(s) drive other vehicles and {spare} has no driver; "
            "add a driver that day (settings.drivers) or widen the window"
        )
    return Unserved(stop, UnservedReason.NO_DRIVER, f"{name}: {why}")


def allowed_vehicles(problem: RoutingProblem, stop: int) -> list[int]:
    """Vehicles that could serve the stop on a trip of its own (kind, zone, cold, size,
    times)."""
    return [
        v
        for v in range(len(problem.vehicles))
        if vehicle_can_visit(problem, v, stop) is None
        and single_trip_timing(problem, v, stop) is None
    ]


def supply_failure(
    problem: RoutingProblem, stop: int, excluded: Mapping[int, Unserved]
) -> Unserved:
    """The reason for a delivery whose goods' pickup is not made."""
    pickup = next(p for p in problem.stops[stop].supplied_by if p in excluded)
    s = problem.stops[stop]
    return Unserved(
        stop,
        UnservedReason.GOODS_TOO_LATE,
        f"{s.site_id}: its goods from {problem.stops[pickup].site_id} cannot be collected "
        f"({excluded[pickup].explanation})",
    )


def servable(problem: RoutingProblem) -> tuple[dict[int, list[int]], dict[int, Unserved]]:
    """Stops some vehicle can serve (with those vehicles), and the others with their reason.

    Every engine searches only the first; a delivery whose goods cannot be collected is
    among the second."""
    allowed: dict[int, list[int]] = {}
    excluded: dict[int, Unserved] = {}
    for s in range(len(problem.stops)):
        vehicles = allowed_vehicles(problem, s)
        if vehicles and problem.driver_limit == 0:
            excluded[s] = no_driver(problem, s, ()) or saturated(problem, s)
        elif vehicles:
            allowed[s] = vehicles
        else:
            excluded[s] = diagnose(problem, s) or saturated(problem, s)
    changed = True
    while changed:
        changed = False
        for s in list(allowed):
            if any(p in excluded for p in problem.stops[s].supplied_by):
                excluded[s] = supply_failure(problem, s, excluded)
                del allowed[s]
                changed = True
    return allowed, excluded
