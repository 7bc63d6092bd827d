"""VRPTW benchmark of foodchain's routing engine against best-known solutions.

    python -m benchmarks.vrptw FILE... --time-limit SECONDS --json OUT.json

Each instance (Solomon text or VRPLIB) becomes a foodchain ``RoutingProblem`` (Euclidean
distance, travel time = distance, one trip per vehicle, cost 1 per distance unit) and is
solved by the same ``solve`` the weekly plans use. Every solution is then checked here
against the instance itself, in double precision and without the solver's integers: each
customer once, loads within capacity, service starts by each due date, back at the depot
by its due date. Gaps are to ``bks.csv`` (Solomon: the distance-only best known;
Homberger: the hierarchical one, vehicles first, so a distance-only run may beat it).
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

from benchmarks.instances import VrptwInstance, read_instance
from foodchain.routing import (
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


def to_problem(instance: VrptwInstance) -> RoutingProblem:
    """The instance in foodchain's terms: deliveries from the depot, one trip per vehicle."""
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


def check_routes(instance: VrptwInstance, routes: list[list[int]]) -> tuple[float, list[str]]:
    """Distance of routes (node positions) and every rule they break, from the instance."""
    errors: list[str] = []
    seen: dict[int, int] = {}
    total = 0.0
    if len([r for r in routes if r]) > instance.vehicles:
        errors.append(f"{len(routes)} routes for {instance.vehicles} vehicles")
    for number, route in enumerate(routes):
        if not route:
            continue
        load = sum(instance.demand[c] for c in route)
        if load > instance.capacity + 1e-9:
            errors.append(f"route {number}: load {load} above capacity {instance.capacity}")
        clock, here = instance.ready[0], 0
        for c in route:
            seen[c] = seen.get(c, 0) + 1
            step = instance.distance(here, c)
            total += step
            clock = max(clock + step, instance.ready[c])
            if clock > instance.due[c] + 1e-9:
                errors.append(
                    f"route {number}: customer {instance.ids[c]} served at {clock:.4f}, "
                    f"due {instance.due[c]}"
                )
            clock += instance.service[c]
            here = c
        step = instance.distance(here, 0)
        total += step
        if clock + step > instance.due[0] + 1e-9:
            errors.append(
                f"route {number}: back at {clock + step:.4f}, depot closes {instance.due[0]}"
            )
    for c in range(1, len(instance.ids)):
        if seen.get(c, 0) != 1:
            errors.append(f"customer {instance.ids[c]} served {seen.get(c, 0)} times")
    return total, errors


@dataclass
class Row:
    instance: str
    routes: list[list[int]]
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


def run(path: Path, options: SolverOptions, bks: dict[str, dict[str, str]]) -> Row:
    instance = read_instance(path)
    problem = to_problem(instance)
    started = time.perf_counter()
    result = solve(problem, options)
    seconds = time.perf_counter() - started
    routes = [[stop + 1 for stop in trip.stops] for trip in result.trips]
    distance, errors = check_routes(instance, routes)
    if not result.found_solution:
        errors.append("no solution found")
    ref, ref_vehicles = reference(bks, instance.name)
    ok = not errors
    gap = (distance - ref) / ref * 100 if ok and ref else None
    return Row(
        instance=instance.name,
        routes=[[instance.ids[c] for c in route] for route in routes],
        distance=distance if ok else None,
        vehicles=len(routes),
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
    parser.add_argument("--workers", type=int, default=2, help="parallel searches (processes)")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="default")
    parser.add_argument("--bks", type=Path, help="bks.csv (default: beside the instance folder)")
    parser.add_argument("--json", type=Path, help="write per-instance results here")
    args = parser.parse_args(argv)
    options = SolverOptions(
        time_limit_s=args.time_limit, searches=PRESETS[args.preset], workers=args.workers
    )
    bks_path = args.bks or args.files[0].resolve().parent.parent / "bks.csv"
    bks = load_bks(bks_path)
    rows: list[Row] = []
    print(
        f"{'instance':<12} {'veh':>4} {'distance':>10} {'bks':>10} {'bks_veh':>7} "
        f"{'gap%':>7} {'s':>6}"
    )
    for path in args.files:
        row = run(path, options, bks)
        rows.append(row)
        distance = "-" if row.distance is None else f"{row.distance:.2f}"
        gap = "-" if row.gap is None else f"{row.gap:+.2f}"
        ref = "-" if row.bks_distance is None else f"{row.bks_distance:.2f}"
        print(
            f"{row.instance:<12} {row.vehicles:>4} {distance:>10} {ref:>10} "
            f"{row.bks_vehicles or '-':>7} {gap:>7} {row.seconds:>6.1f}",
            flush=True,
        )
        for error in row.errors[:5]:
            print(f"  INFEASIBLE: {error}", flush=True)
    gaps = [r.gap for r in rows if r.gap is not None]
    failed = [r.instance for r in rows if r.errors]
    mean = statistics.fmean(gaps) if gaps else math.nan
    print(
        f"mean gap {mean:+.3f}% over {len(gaps)} instances; "
        f"infeasible or missing: {len(failed)} {failed}"
    )
    if args.json:
        payload = {
            "time_limit_s": args.time_limit,
            "workers": args.workers,
            "preset": args.preset,
            "mean_gap": mean,
            "failed": failed,
            "instances": [r.__dict__ for r in rows],
        }
        args.json.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
