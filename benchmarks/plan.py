"""Wall time and peak memory of ``foodchain plan`` on the Lensois weeks (goal: < 10 s, < 500 MB).

    python -m benchmarks.plan [--weeks 2026-W49 ... | --horizon] [--time-limit S]
                              [--engine auto|ortools|pyvrp] [--busy N] [--json OUT.json]

``--horizon`` plans every week of the scenario's horizon; ``--busy N`` keeps N processes
spinning (``while True: pass``) for the whole run, as on a slow or shared machine. Each plan
is run with ``--allow-unserved`` so that a plan leaving stops out is counted, not lost:
``unserved`` is its mandatory stops left out, ``complete`` says it had rounds for every day
and none left out.

The scenario is installed once in a fresh SQLite file; each week is then planned by the real
command line in a fresh process, documents and run included. Memory: ``peak_pss_mb`` is the
largest total proportional set size (Linux /proc, sampled every 20 ms) of the planning process
and its routing workers together — the workers are forked, so pages they share with the parent
count once; ``rss_mb`` (max RSS of the planning process) and ``worker_rss_mb`` (of the largest
worker) are also given, whose sum double-counts the shared pages. Prints a table, writes JSON.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.table import publish

ROOT = Path(__file__).resolve().parent.parent
WEEKS = ["2026-W45", "2026-W49", "2026-W52", "2027-W02", "2027-W10", "2027-W20", "2027-W26"]

_CHILD = """
import json, resource, sys, time
from foodchain.cli import app
started = time.perf_counter()
try:
    app(sys.argv[1:], standalone_mode=False)
except SystemExit as exc:
    code = exc.code or 0
else:
    code = 0
kb = lambda who: resource.getrusage(who).ru_maxrss
print("BENCH " + json.dumps({
    "code": code,
    "seconds": time.perf_counter() - started,
    "rss_mb": kb(resource.RUSAGE_SELF) / 1024,
    "worker_rss_mb": kb(resource.RUSAGE_CHILDREN) / 1024,
}))
"""


def _tree_pss_mb(pid: int) -> float:
    """Proportional set size of a process and all its descendants, in MB (0 if gone)."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
            for row in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if row.startswith("Pss:"):
                    total += int(row.split()[1]) / 1024
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def measured_child(arguments: list[str], what: str) -> tuple[dict[str, Any], float, float]:
    """Run ``python ARGUMENTS``: its ``BENCH {json}`` line, wall seconds, peak PSS in MB."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, *arguments], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak_pss = 0.0
    while process.poll() is None:
        peak_pss = max(peak_pss, _tree_pss_mb(process.pid))
        time.sleep(0.02)
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - started
    line = next((x for x in stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None or process.returncode:
        raise SystemExit(f"{what} failed\n{stdout}\n{stderr}")
    return json.loads(line[len("BENCH ") :]), wall, peak_pss


def plan_week(
    db: str, week: str, out: Path, time_limit: float | None, engine: str = "auto"
) -> dict[str, Any]:
    args = ["--db", db, "plan", "--week", week, "--out", str(out / week)]
    args += ["--engine", engine, "--allow-unserved"]
    if time_limit is not None:
        args += ["--time-limit", str(time_limit)]
    child, wall, peak_pss = measured_child(["-c", _CHILD, *args], f"{week}: foodchain plan")
    kpis = json.loads((out / week / "kpis.json").read_text(encoding="utf-8"))
    visits = _visits_per_trip(out / week / "routes.csv")
    fulfilment = kpis["fulfilment"]
    unserved = kpis["transport"]["unserved_mandatory_stops"]
    return {
        "week": week,
        "engine": engine,
        "complete": child["code"] == 0 and unserved == 0,
        "wall_s": round(wall, 2),
        "plan_s": round(child["seconds"], 2),
        "peak_pss_mb": round(peak_pss, 1),
        "rss_mb": round(child["rss_mb"], 1),
        "worker_rss_mb": round(child["worker_rss_mb"], 1),
        "canteens": fulfilment["canteens"]["share"],
        "baskets": f"{fulfilment['baskets']['filled']}/{fulfilment['baskets']['due']}",
        "km": kpis["transport"]["km"],
        "trips": kpis["transport"]["trips"],
        "one_stop_trips": sum(1 for kinds in visits.values() if len(kinds) == 1),
        "pickups_under_20kg": _small_pickups(out / week / "routes.csv", 20.0),
        "vehicle_days": kpis["transport"].get("vehicle_days"),
        "hours": kpis["transport"].get("hours"),
        "cost_eur": kpis["transport"].get("cost_eur"),
        "unserved": unserved,
        "co2_kg": kpis["transport"]["co2_kg"],
        **_direct_columns(kpis["transport"]),
    }


def _direct_columns(transport: dict[str, Any]) -> dict[str, Any]:
    """The hub's rounds apart from the farms' own direct rounds, and the farmers' runs to the
    hub (a week planned before direct deliveries has none of them)."""
    direct = transport.get("direct_rounds") or {"km": 0.0, "co2_kg": 0.0}
    farms = transport.get("farm_runs") or {"km": 0.0, "co2_kg": 0.0}
    return {
        "hub_km": round(transport["km"] - direct["km"], 1),
        "hub_co2_kg": round(transport["co2_kg"] - direct["co2_kg"], 1),
        "direct_km": round(direct["km"], 1),
        "direct_co2_kg": round(direct["co2_kg"], 1),
        "farm_runs_km": round(farms["km"], 1),
        "co2_total_kg": transport.get("co2_total_kg"),
    }


def _rows(routes: Path) -> list[dict[str, str]]:
    """routes.csv as the plan wrote it (French documents: ``;`` and decimal commas)."""
    with routes.open(encoding="utf-8-sig", newline="") as file:
        text = file.read()
    french = ";" in text.partition("\n")[0]
    rows = list(csv.DictReader(text.splitlines(), delimiter=";" if french else ","))
    if french:
        for row in rows:
            row["pickup_kg"] = row["pickup_kg"].replace(",", ".")
    return rows


def _visits_per_trip(routes: Path) -> dict[tuple[str, str, str], list[str]]:
    """Per trip (day, vehicle, trip): the actions of its visits, hub rows left out."""
    trips: dict[tuple[str, str, str], list[str]] = {}
    for row in _rows(routes):
        visits = trips.setdefault((row["day"], row["vehicle_id"], row["trip"]), [])
        if row["action"] in ("pickup", "delivery"):
            visits.append(row["action"])
    return trips


def _small_pickups(routes: Path, kg: float) -> int:
    """Farm visits (a farm on a day, its parts together) collecting less than ``kg``."""
    collected: dict[tuple[str, str], float] = {}
    for row in _rows(routes):
        if row["action"] == "pickup":
            key = (row["day"], row["site_id"])
            collected[key] = collected.get(key, 0.0) + float(row["pickup_kg"])
    return sum(1 for total in collected.values() if total < kg)


def horizon_weeks() -> list[str]:
    """Every ISO week of the Lensois scenario's horizon."""
    from foodchain.scenario import load_scenario
    from foodchain.weeks import Week

    scenario = load_scenario(ROOT / "scenarios" / "lensois.yaml")
    first, last = scenario.horizon
    weeks, day = [], first.day("mon")
    while Week.of(day) <= last:
        weeks.append(str(Week.of(day)))
        day += dt.timedelta(days=7)
    return weeks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", nargs="*", default=WEEKS)
    parser.add_argument("--horizon", action="store_true", help="every week of the horizon")
    parser.add_argument("--time-limit", type=float, default=None, help="default: the CLI's")
    parser.add_argument("--engine", default="auto", choices=["auto", "ortools", "pyvrp"])
    parser.add_argument("--busy", type=int, default=0, help="spinning processes meanwhile")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    weeks = horizon_weeks() if args.horizon else args.weeks
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)
    ]
    try:
        rows = _plan_weeks(weeks, args.time_limit, args.engine)
    finally:
        for spinner in spinners:
            spinner.kill()
    complete = sum(1 for r in rows if r["complete"])
    walls = sorted(r["wall_s"] for r in rows)
    print(
        f"{complete} of {len(rows)} weeks complete ({args.engine}, {args.busy} busy processes); "
        f"median wall {walls[len(walls) // 2]:.1f} s, max {walls[-1]:.1f} s"
    )
    publish(rows, args.json)


def _plan_weeks(weeks: list[str], time_limit: float | None, engine: str) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as folder:
        db = f"sqlite:///{Path(folder) / 'foodchain.db'}"
        subprocess.run(
            [
                *(sys.executable, "-c", "from foodchain.cli import app; app()"),
                *("--db", db, "init"),
                *("--scenario", str(ROOT / "scenarios" / "lensois.yaml")),
            ],
            check=True,
            capture_output=True,
        )
        return [plan_week(db, w, Path(folder), time_limit, engine) for w in weeks]


if __name__ == "__main__":
    main()
