"""Allocation speed and quality: the Lensois weeks and synthetic regions of growing size.

    python -m benchmarks.allocation [--weeks 2026-W49 ...] [--sizes 50x100x100 ...]
                                    [--lp-solver GLOP] [--compare REV] [--json OUT.json]

Each instance runs in a fresh process so that its peak memory (max RSS) is its own. Sizes
are FARMSxRELAYSxCANTEENS; a synthetic region draws farms, offers, menus and baskets on the
Lensois catalogue with a fixed seed. Prints a table, writes JSON. ``--compare REV`` runs each
instance with git revision REV's code and data too (a copy made by ``git archive``, measured
by this script), right before this checkout's, so that both see the same load.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.table import publish

ROOT = Path(__file__).resolve().parent.parent
LENSOIS_WEEKS = [
    "2026-W45",
    "2026-W49",
    "2026-W52",
    "2027-W02",
    "2027-W10",
    "2027-W16",
    "2027-W20",
    "2027-W26",
]
SIZES = ["50x100x100", "150x120x120", "300x150x150"]


def lensois_problem(week_text: str) -> Any:
    from foodchain.allocation.load import problem_of
    from foodchain.demand import compute_week_demand
    from foodchain.inputs import Snapshot
    from foodchain.scenario import load_scenario
    from foodchain.weeks import Week

    scenario = load_scenario(ROOT / "scenarios" / "lensois.yaml")
    catalogue = scenario.catalogue()
    week = Week.parse(week_text)
    demand = compute_week_demand(week, catalogue, scenario.menu_lines, scenario.subscriptions)
    forecasts = [f for f in scenario.forecasts if f.week == str(week)]
    return problem_of(Snapshot(week, catalogue, scenario.vehicles, forecasts, demand, None))


def synthetic_problem(size: str, seed: int = 7) -> Any:
    """A region of FARMS farms, RELAYS relay points and CANTEENS canteens on Lensois products."""
    from foodchain.allocation.problem import (
        AllocationProblem,
        BasketDelivery,
        CanteenNeed,
        CanteenRule,
        Product,
        Shop,
        Supply,
        basket_spec,
    )
    from foodchain.organic import OrganicStatus
    from foodchain.scenario import load_scenario
    from foodchain.weeks import Week

    farms, relays, canteens = (int(x) for x in size.split("x"))
    rng = random.Random(seed)
    scenario = load_scenario(ROOT / "scenarios" / "lensois.yaml")
    products = {
        p.id: Product(
            p.id, p.name, p.family, p.shelf_life_days, p.kg_per_unit if p.unit != "kg" else None
        )
        for p in scenario.products
    }
    ids = sorted(products)
    statuses = [OrganicStatus.ORGANIC] * 6 + [
        OrganicStatus.CONVERSION,
        OrganicStatus.HVE,
        OrganicStatus.CONVENTIONAL,
    ]
    # Farms offer about 1.3 times what the region's canteens, baskets and shops take
    # (as in the Lensois weeks): about 4.9 kg per basket-and-canteen unit of demand below.
    demand_kg = relays * 3 * 17.5 * 4.0 + canteens * 10 * 16.0 + max(3, relays // 7) * 250.0
    per_offer = 1.3 * demand_kg / (farms * 8)
    supplies = []
    for f in range(farms):
        status = rng.choice(statuses)
        for product in rng.sample(ids, rng.randint(6, 10)):
            supplies.append(
                Supply(
                    f"farm_{f:03d}",
                    product,
                    float(round(rng.uniform(0.3, 1.7) * per_offer)) or 1.0,
                    round(rng.uniform(0.8, 4.5), 2),
                    status,
                    tuple(sorted(rng.sample(range(5), rng.randint(2, 3)))),
                    rng.uniform(2, 60),
                )
            )
    needs, rules = [], {}
    groups = [tuple(rng.sample(ids, 4)) for _ in range(4)]
    for c in range(canteens):
        canteen = f"canteen_{c:03d}"
        strict = rng.random() < 0.3
        rules[canteen] = CanteenRule(canteen, 1.0 if strict else 0.2, 1.0 if strict else 0.5)
        seen = set()
        for _ in range(rng.randint(8, 12)):
            day = rng.choice((0, 1, 3, 4))
            if rng.random() < 0.2:
                k = rng.randrange(len(groups))
                item, members = f"group_{k}", groups[k]
            else:
                item = rng.choice(ids)
                members = (item,)
            if (item, day) in seen:
                continue
            seen.add((item, day))
            needs.append(
                CanteenNeed(canteen, item, members, day, float(rng.randint(2, 30)), strict)
            )
    specs = {b.id: basket_spec(b, products) for b in scenario.basket_types}
    deliveries = []
    for r in range(relays):
        day = rng.choice((1, 3, 4))
        for type_id in specs:
            deliveries.append(BasketDelivery(type_id, f"relay_{r:03d}", day, rng.randint(5, 30)))
    families = sorted({p.family for p in products.values()})
    shops = tuple(
        Shop(
            f"shop_{h:02d}",
            (rng.choice((1, 3, 4)),),
            float(rng.randint(100, 400)),
            frozenset(rng.sample(families, 5)),
        )
        for h in range(max(3, relays // 7))
    )
    return AllocationProblem(
        Week(2026, 49),
        tuple(supplies),
        products,
        tuple(needs),
        rules,
        specs,
        tuple(deliveries),
        shops,
    )


def _measure(kind: str, name: str, lp_solver: str, queue: Any) -> None:
    from foodchain.allocation import AllocationParameters, allocate

    started = time.perf_counter()
    problem = lensois_problem(name) if kind == "lensois" else synthetic_problem(name)
    prepared = time.perf_counter()
    result = allocate(problem, AllocationParameters(lp_solver=lp_solver))
    done = time.perf_counter()
    gaps = [
        abs(t.objective - t.bound) / max(1e-9, abs(t.objective))
        for t in result.tiers
        if t.bound is not None and t.objective == t.objective
    ]
    queue.put(
        {
            "instance": f"{kind} {name}",
            "supplies": len(problem.supplies),
            "needs": len(problem.needs),
            "baskets_due": result.baskets_due,
            "variables": int(result.stats["variables"]),
            "integers": int(result.stats["integer_variables"]),
            "prepare_s": round(prepared - started, 2),
            "model_build_s": round(result.stats["build_seconds"], 3),
            "solve_s": round(result.stats["solve_seconds"], 2),
            "total_s": round(done - prepared, 2),
            "status": result.status,
            "max_gap": round(max(gaps, default=0.0), 6),
            "canteens_met": round(result.kg_to("canteen") / max(1e-9, result.canteen_demand_kg), 4),
            "baskets_filled": result.baskets_filled,
            "rules": "nested"
            if result.nested
            else "lighter"
            if result.relaxed
            else "own sizes"
            if problem.policy.chains
            else "usual",
            "bought_kg": round(result.bought_kg, 1),
            "bought_eur": round(result.bought_eur, 2),
            "unsold_kg": round(result.unsold_kg, 1),
            "fairness": round(result.fairness_overall, 4),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
    )


def run(kind: str, name: str, lp_solver: str) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_measure, args=(kind, name, lp_solver, queue))
    process.start()
    row: dict[str, Any] = queue.get()
    process.join()
    return row


def run_revision(folder: Path, kind: str, name: str, lp_solver: str) -> dict[str, Any]:
    """One instance of another revision's code (``folder``, a copy of it, with this benchmark
    script), in a fresh process."""
    out = folder / "row.json"
    which = ["--weeks", name, "--sizes"] if kind == "lensois" else ["--weeks", "--sizes", name]
    options = [*which, "--lp-solver", lp_solver, "--json", str(out)]
    subprocess.run(
        [sys.executable, "-m", "benchmarks.allocation", *options],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(folder)},
        capture_output=True,
        check=True,
    )
    row: dict[str, Any] = json.loads(out.read_text())[0]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--weeks", nargs="*", default=LENSOIS_WEEKS, help="ISO weeks, or 'all' for the horizon"
    )
    parser.add_argument("--sizes", nargs="*", default=SIZES)
    parser.add_argument("--lp-solver", default="GLOP")
    parser.add_argument("--compare", help="git revision to measure side by side")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.weeks == ["all"]:
        from foodchain.weeks import Week, iter_weeks

        args.weeks = [str(w) for w in iter_weeks(Week(2026, 45), Week(2027, 26))]
    instances = [("lensois", w) for w in args.weeks] + [("synthetic", s) for s in args.sizes]
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        other = Path(scratch)
        if args.compare:
            archive = subprocess.run(
                ["git", "archive", args.compare], cwd=ROOT, capture_output=True, check=True
            )
            subprocess.run(["tar", "-x", "-C", str(other)], input=archive.stdout, check=True)
            for script in ("allocation.py", "table.py"):  # both measured by this script
                shutil.copy(ROOT / "benchmarks" / script, other / "benchmarks" / script)
        for kind, name in instances:
            if args.compare:
                row = run_revision(other, kind, name, args.lp_solver)
                rows.append({"version": args.compare, **row})
            row = run(kind, name, args.lp_solver)
            rows.append({"version": "this checkout", **row} if args.compare else row)
    publish(rows, args.json)


if __name__ == "__main__":
    main()
