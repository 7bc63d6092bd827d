"""VRPTW benchmark of foodchain's routing engines against best-known solutions.

    python -m benchmarks.vrptw FILE... --time-limit SECONDS --engine all --json OUT.json

Each instance (Solomon text, VRPLIB, or VRPLIB MTVRPTWR with release times and reloads)
becomes a foodchain ``RoutingProblem`` (Euclidean distance, travel time = distance, cost 1
per distance unit; one trip per vehicle, or up to ``MULTI_TRIPS`` for MTVRPTWR, whose
distances follow the DIMACS convention of its ``.sol`` files) and is solved by the same
``solve`` the weekly plans use, with each engine asked for (``--engine all``: ortools,
pyvrp and auto, side by side). Every solution is then checked here against the instance
itself, in double precision and without the solvers' integers: each customer once, loads
within capacity, a trip leaving after its customers' release times and its vehicle's
previous trip, service starts by each due date, back at the depot by its due date. Gaps
are to ``bks.csv`` (Solomon: the distance-only best known; Homberger: the hierarchical
one, vehicles first, so a distance-only run may beat it) or to the ``.sol`` beside an
MTVRPTWR file.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks.instances import VrptwInstance, read_instance, read_solution_cost
from foodchain.routing import (
    ENGINES,
    GLS_SEARCH,
    ILS_SEARCH,
    LNS_OPERATORS,
    RoutingProblem,
    SearchConfig,
    SolverOptions,
    Stop,
    StopKind,
    Vehicle,
    solve,
)

SLOW_OPERATORS = (
    "use_lin_kernighan",
    "use_exchange_subtrip",
    "use_relocate_subtrip",
    "use_shortest_path_swap_active",
    "use_shortest_path_two_opt",
    "use_swap_active_chain",
)
FULL = replace(ILS_SEARCH, operators_off=())

PRESETS: dict[str, tuple[SearchConfig, ...]] = {
    # What was measured while tuning (README "Routing (VRPTW)"); "default" is the engine's.
    "default": SolverOptions().searches,
    "ils_full_ops": (FULL, replace(FULL, seed=7)),
    "ils_gls": (ILS_SEARCH, GLS_SEARCH),
    "gls": (GLS_SEARCH,),
    "ils_one": (ILS_SEARCH,),
    "ils_leaner": (replace(ILS_SEARCH, operators_off=LNS_OPERATORS + SLOW_OPERATORS),),
    "ils_routes": (replace(ILS_SEARCH, ruin_routes=1), replace(ILS_SEARCH, ruin_routes=1, seed=7)),
    "ils_same": (ILS_SEARCH, replace(ILS_SEARCH, seed=7)),
    "ils_cold": (replace(ILS_SEARCH, temperatures=(0.03, 0.0003)),),
    "ils_warm": (replace(ILS_SEARCH, temperatures=(0.3, 0.003)),),
}


MULTI_TRIPS = 10
"""Trips a vehicle may make in an MTVRPTWR instance (the best known use at most 4)."""


def to_problem(instance: VrptwInstance) -> RoutingProblem:
    """The instance in foodchain's terms: deliveries from the depot, one trip per vehicle
    (or several, with release times, for MTVRPTWR)."""
    size = len(instance.ids)
    km = tuple(tuple(instance.distance(a, b) for b in range(size)) for a in range(size))
    stops = tuple(
        Stop(
            site_id=str(instance.ids[i]),
            kind=StopKind.DELIVERY,
            site_kind="customer",
            kg=instance.demand[i],
            crates=0.0,
            window=(instance.ready[i], instance.due[i]),
            service_minutes=instance.service[i],
            release=instance.release[i] if instance.release else None,
        )
        for i in range(1, size)
    )
    vehicles = tuple(
        Vehicle(
            id=f"vehicle_{k + 1}",
            capacity_kg=instance.capacity,
            capacity_crates=0.0,
            shift=(instance.ready[0], instance.due[0]),
            cost_per_km=1.0,
            max_trips=MULTI_TRIPS if instance.multi_trip else 1,
        )
        for k in range(instance.vehicles)
    )
    return RoutingProblem(
        stops=stops,
        vehicles=vehicles,
        km=km,
        minutes=(km,),
        hub_id=str(instance.ids[0]),
        name=instance.name,
    )


def check_routes(
    instance: VrptwInstance, vehicles: list[list[list[int]]]
) -> tuple[float, list[str]]:
    """Distance of each vehicle's trips (node positions) and every rule they break, from the
    instance: a trip leaves after its vehicle's previous one is back and after the release
    times of its customers."""
    errors: list[str] = []
    seen: dict[int, int] = {}
    total = 0.0
    if len([v for v in vehicles if any(v)]) > instance.vehicles:
        errors.append(f"{len(vehicles)} vehicles used, {instance.vehicles} available")
    for number, trips in enumerate(vehicles):
        clock = instance.ready[0]
        if len([t for t in trips if t]) > 1 and not instance.multi_trip:
            errors.append(f"vehicle {number}: several trips")
        for route in trips:
            if not route:
                continue
            load = sum(instance.demand[c] for c in route)
            if load > instance.capacity + 1e-9:
                errors.append(f"vehicle {number}: load {load} above capacity {instance.capacity}")
            if instance.release:
                clock = max([clock, *(instance.release[c] for c in route)])
            here = 0
            for c in route:
                seen[c] = seen.get(c, 0) + 1
                step = instance.distance(here, c)
                total += step
                clock = max(clock + step, instance.ready[c])
                if clock > instance.due[c] + 1e-9:
                    errors.append(
                        f"vehicle {number}: customer {instance.ids[c]} served at {clock:.4f}, "
                        f"due {instance.due[c]}"
                    )
                clock += instance.service[c]
                here = c
            step = instance.distance(here, 0)
            total += step
            clock += step
            if clock > instance.due[0] + 1e-9:
                errors.append(
                    f"vehicle {number}: back at {clock:.4f}, depot closes {instance.due[0]}"
                )
    for c in range(1, len(instance.ids)):
        if seen.get(c, 0) != 1:
            errors.append(f"customer {instance.ids[c]} served {seen.get(c, 0)} times")
    return total, errors


@dataclass
class Row:
    instance: str
    engine: str
    routes: list[list[list[int]]]
    distance: float | None
    vehicles: int
    seconds: float
    gap: float | None
    bks_distance: float | None
    bks_vehicles: int | None
    errors: list[str]
    statistics: dict[str, float | int | str]


def load_bks(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row["instance"].lower(): row for row in csv.DictReader(handle)}


def reference(bks: dict[str, dict[str, str]], name: str) -> tuple[float | None, int | None]:
    row = bks.get(name.lower())
    if row is None:
        return None, None
    if row.get("distance_bks_distance"):
        return float(row["distance_bks_distance"]), int(row["distance_bks_vehicles"])
    return float(row["hier_bks_distance"]), int(row["hier_bks_vehicles"])


def run(
    instance: VrptwInstance, path: Path, options: SolverOptions, bks: dict[str, dict[str, str]]
) -> Row:
    problem = to_problem(instance)
    started = time.perf_counter()
    result = solve(problem, options)
    seconds = time.perf_counter() - started
    by_vehicle = result.routes()
    vehicles = [[[s + 1 for s in trip] for trip in by_vehicle[v]] for v in sorted(by_vehicle)]
    distance, errors = check_routes(instance, vehicles)
    if not result.found_solution or not result.all_mandatory_served:
        errors.append(f"{len(result.unserved)} customers not served")
    ref, ref_vehicles = reference(bks, instance.name)
    if instance.multi_trip:
        ref, ref_vehicles = read_solution_cost(path.with_suffix(".sol")), None
    ok = not errors
    gap = (distance - ref) / ref * 100 if ok and ref else None
    return Row(
        instance=instance.name,
        engine=options.engine,
        routes=[[[instance.ids[c] for c in trip] for trip in trips] for trips in vehicles],
        distance=distance if ok else None,
        vehicles=len(vehicles),
        seconds=seconds,
        gap=gap,
        bks_distance=ref,
        bks_vehicles=ref_vehicles,
        errors=errors,
        statistics=dict(result.statistics),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per instance")
    parser.add_argument("--workers", type=int, default=2, help="OR-Tools' parallel searches")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="default")
    parser.add_argument(
        "--engine",
        choices=[*ENGINES, "all"],
        default="auto",
        help="routing engine; all: each of them on every instance, side by side",
    )
    parser.add_argument("--bks", type=Path, help="bks.csv (default: beside the instance folder)")
    parser.add_argument("--json", type=Path, help="write per-instance results here")
    args = parser.parse_args(argv)
    engines = [*ENGINES[1:], "auto"] if args.engine == "all" else [args.engine]
    options = SolverOptions(
        time_limit_s=args.time_limit, searches=PRESETS[args.preset], workers=args.workers
    )
    bks_path = args.bks or args.files[0].resolve().parent.parent / "bks.csv"
    bks = load_bks(bks_path)
    rows: list[Row] = []
    print(
        f"{'instance':<12} {'bks':>10}" + "".join(f" {e + ' gap%':>13} {'s':>5}" for e in engines)
    )
    for path in args.files:
        instance = read_instance(path)
        line = ""
        for engine in engines:
            row = run(instance, path, replace(options, engine=engine), bks)
            rows.append(row)
            gap = "infeasible" if row.errors else "-" if row.gap is None else f"{row.gap:+.2f}"
            line += f" {gap:>13} {row.seconds:>5.1f}"
        ref = "-" if rows[-1].bks_distance is None else f"{rows[-1].bks_distance:.2f}"
        print(f"{instance.name:<12} {ref:>10}{line}", flush=True)
        for row in rows[-len(engines) :]:
            for error in row.errors[:3]:
                print(f"  {row.engine} INFEASIBLE: {error}", flush=True)
    summary: dict[str, dict[str, object]] = {}
    for engine in engines:
        mine = [r for r in rows if r.engine == engine]
        gaps = [r.gap for r in mine if r.gap is not None]
        failed = [r.instance for r in mine if r.errors]
        mean = statistics.fmean(gaps) if gaps else math.nan
        wall = statistics.fmean(r.seconds for r in mine)
        summary[engine] = {"mean_gap": mean, "failed": failed, "mean_seconds": wall}
        print(
            f"{engine:<8} mean gap {mean:+.3f}% over {len(gaps)} instances, mean wall "
            f"{wall:.2f} s; infeasible or missing: {len(failed)} {failed}"
        )
    if args.json:
        payload = {
            "time_limit_s": args.time_limit,
            "workers": args.workers,
            "preset": args.preset,
            "engines": summary,
            "instances": [r.__dict__ for r in rows],
        }
        args.json.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    return 0 if not any(s["failed"] for s in summary.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
