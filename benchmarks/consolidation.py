"""What the minimum pickup (``settings.consolidation``) changes in the rounds, on one allocation.

    python -m benchmarks.consolidation [--weeks 2026-W45 ...] [--solutions N] [--json OUT.json]

``benchmarks.plan`` compares whole plans, whose allocation and time-limited searches vary from
run to run more than a few small collections weigh. Here each week is allocated once, then
routed twice with the same deterministic search budget (``--solutions`` per day, as ``plan
--deterministic --work N``): ``none`` with every collection as the allocation picks it up,
``minimum`` with the Lensois scenario's ``settings.consolidation`` applied. Columns: the farm
visits the vans make (a farm on a day), those under 20 kg, merged/brought/kept collections and
their kg, the rounds' km, trips, trips of one stop, vehicle-days, cost and CO2, mandatory stops
left out. A farm that brings a collection drives it itself (farm -> hub -> farm): ``farm_km``.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.plan import WEEKS
from benchmarks.table import publish

ROOT = Path(__file__).resolve().parent.parent


def _row(week: str, variant: str, rounds: Any, changes: Any, km_to_hub: Any) -> dict[str, Any]:
    visits: dict[tuple[Any, str], float] = defaultdict(float)
    trips = one_stop = vehicle_days = 0
    km = cost = co2 = 0.0
    unserved = 0
    for day in rounds:
        result, problem = day.result, day.problem
        for trip in result.trips:
            trips += 1
            one_stop += len(trip.visits) == 1
            for visit in trip.visits:
                stop = problem.stops[visit.stop]
                if stop.kind == "pickup":
                    visits[(day.day, stop.site_id)] += stop.kg
        vehicle_days += result.vehicles_used
        km += result.km
        cost += result.cost
        co2 += result.co2_kg
        unserved += result.unserved_mandatory
    by = {a: [c for c in changes if c.action == a] for a in ("merged", "brought", "kept")}
    return {
        "week": week,
        "variant": variant,
        "farm_visits": len(visits),
        "under_20kg": sum(1 for kg in visits.values() if kg < 20),
        "merged": f"{len(by['merged'])} ({sum(c.kg for c in by['merged']):.1f} kg)",
        "brought": f"{len(by['brought'])} ({sum(c.kg for c in by['brought']):.1f} kg)",
        "kept": len(by["kept"]),
        "farm_km": round(sum(2 * km_to_hub[c.farm_id] for c in by["brought"]), 1),
        "km": round(km, 1),
        "trips": trips,
        "one_stop_trips": one_stop,
        "vehicle_days": vehicle_days,
        "cost_eur": round(cost, 2),
        "co2_kg": round(co2, 2),
        "unserved": unserved,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", nargs="*", default=WEEKS)
    parser.add_argument("--solutions", type=int, default=30, help="routing solutions per day")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from foodchain.allocation import allocate
    from foodchain.allocation.load import problem_of
    from foodchain.consolidation import consolidate_flows
    from foodchain.db import open_database
    from foodchain.inputs import read_snapshot
    from foodchain.plan.limits import PYVRP_ITERATIONS_PER_SOLUTION
    from foodchain.plan.rounds import route_flows
    from foodchain.routing.options import SolverOptions
    from foodchain.scenario import install_scenario, load_scenario
    from foodchain.weeks import Week

    options = SolverOptions(
        time_limit_s=None,
        solution_limit=args.solutions,
        pyvrp_iterations=PYVRP_ITERATIONS_PER_SOLUTION * args.solutions,
    )
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        engine = open_database(f"sqlite:///{Path(folder) / 'foodchain.db'}")
        install_scenario(engine, load_scenario(ROOT / "scenarios" / "lensois.yaml"))
        for week in args.weeks:
            snapshot = read_snapshot(engine, Week.parse(week))
            catalogue = snapshot.catalogue
            problem = problem_of(snapshot)
            flows = allocate(problem).flows
            km_to_hub = {s.farm_id: s.km_to_hub for s in problem.supplies}
            done = consolidate_flows(problem, flows, catalogue)
            for variant, moved, brought, changes in (
                ("none", flows, frozenset(), []),
                ("minimum", done.flows, done.brought, done.changes),
            ):
                rounds = route_flows(
                    catalogue, snapshot.vehicles, moved, snapshot.matrix, options, brought=brought
                )
                rows.append(_row(week, variant, rounds, changes, km_to_hub))
        engine.dispose()
    publish(rows, args.json)


if __name__ == "__main__":
    main()
