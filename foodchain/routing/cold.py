"""The cold chain of a trip: which vehicle may carry a stop's goods, for how long, with what.

In the months a scenario sets (``RoutingProblem.cold``), goods of a class that needs cold go
only in a vehicle whose body is at least that cold (``ColdKind``: insulated, refrigerated),
stay on board at most their class's time, and classes kept apart never share a trip. Goods
are on board, for a delivery, from the start of loading at the hub to the end of its
service; for a pickup, from the start of its service to the end of unloading at the hub.
The exact rules (``verify``) and the construction (``construct``) judge trips here; the
engines model what they can of it (``ortools_model``; PyVRP only the vehicles allowed).
"""

from __future__ import annotations

from collections.abc import Sequence

from foodchain.routing.problem import ColdKind, RoutingProblem, StopKind

EPS = 1e-6
AMBIENT = "ambient"
"""The temperature class of a product that names none: needs nothing unless the scenario's
cold chain says so."""


def needed_kind(problem: RoutingProblem, stop: int) -> ColdKind:
    """The least cold kind of vehicle that may carry the stop's goods that day."""
    rules = problem.cold
    return ColdKind.NONE if rules is None else rules.need(problem.stops[stop].classes)


def on_board_limit(problem: RoutingProblem, stop: int) -> float | None:
    """The longest the stop's goods may stay on board that day (minutes); None: no limit."""
    rules = problem.cold
    return None if rules is None else rules.limit(problem.stops[stop].classes)


def cold_classes(problem: RoutingProblem, stop: int) -> tuple[str, ...]:
    """The stop's classes the day's cold chain rules (a cold vehicle or a time on board),
    for the documents: what the driver keeps cool."""
    rules = problem.cold
    if rules is None:
        return ()
    return tuple(
        sorted(
            c
            for c in problem.stops[stop].classes
            if rules.needs.get(c, ColdKind.NONE) is not ColdKind.NONE
            or c in rules.max_minutes_on_board
        )
    )


def vehicle_too_warm(problem: RoutingProblem, vehicle: int, stop: int) -> str | None:
    """None if the vehicle's body keeps the stop's goods cold enough, else why not."""
    need = needed_kind(problem, stop)
    kind = problem.vehicles[vehicle].cold
    if kind.level >= need.level:
        return None
    return f"{problem.vehicles[vehicle].id} is not {need.value} ({cold_need(problem, stop)})"


def cold_need(problem: RoutingProblem, stop: int) -> str:
    """What the stop's goods need, in words: "fresh goods need an insulated vehicle"."""
    need = needed_kind(problem, stop)
    rules = problem.cold
    classes = sorted(c for c in problem.stops[stop].classes if rules and rules.needs.get(c) == need)
    article = "an" if need.value[0] in "aeiou" else "a"
    return (
        f"{', '.join(classes)} goods need {article} {need.value} vehicle in the cold-chain months"
    )


def trip_breach(
    problem: RoutingProblem,
    stops: Sequence[int],
    loading_starts: float,
    services: Sequence[tuple[float, float]],
    unloading_ends: float,
) -> str | None:
    """None if a trip serving ``stops`` (each served from ``services[k][0]`` to
    ``services[k][1]``, the trip loading from ``loading_starts`` and unloaded at
    ``unloading_ends``) keeps the cold chain's time on board and classes apart; else the
    first breach, in words. The vehicle's body is ``vehicle_too_warm``'s."""
    rules = problem.cold
    if rules is None:
        return None
    clash = rules.clash({c for s in stops for c in problem.stops[s].classes})
    if clash is not None:
        return f"carries {clash[0]} and {clash[1]} goods on one trip"
    for s, (begin, end) in zip(stops, services, strict=True):
        limit = on_board_limit(problem, s)
        if limit is None:
            continue
        stop = problem.stops[s]
        delivered = stop.kind is StopKind.DELIVERY
        minutes = end - loading_starts if delivered else unloading_ends - begin
        if minutes > limit + EPS:
            return f"{stop.site_id}'s goods stay {minutes:.0f} min on board, at most {limit:g}"
    return None
