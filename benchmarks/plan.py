"""Wall time and peak memory of ``foodchain plan`` on the Lensois weeks (goal: < 10 s, < 500 MB).

    python -m benchmarks.plan [--weeks 2026-W49 ...] [--time-limit S] [--json OUT.json]

The scenario is installed once in a fresh SQLite file; each week is then planned by the real
command line in a fresh process, documents and run included. Memory: ``peak_pss_mb`` is the
largest total proportional set size (Linux /proc, sampled every 20 ms) of the planning process
and its routing workers together — the workers are forked, so pages they share with the parent
count once; ``rss_mb`` (max RSS of the planning process) and ``worker_rss_mb`` (of the largest
worker) are also given, whose sum double-counts the shared pages. Prints a table, writes JSON.
"""

from __future__ import annotations

import argparse
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


def plan_week(db: str, week: str, out: Path, time_limit: float | None) -> dict[str, Any]:
    args = ["--db", db, "plan", "--week", week, "--out", str(out / week)]
    if time_limit is not None:
        args += ["--time-limit", str(time_limit)]
    child, wall, peak_pss = measured_child(["-c", _CHILD, *args], f"{week}: foodchain plan")
    kpis = json.loads((out / week / "kpis.json").read_text(encoding="utf-8"))
    fulfilment = kpis["fulfilment"]
    return {
        "week": week,
        "wall_s": round(wall, 2),
        "plan_s": round(child["seconds"], 2),
        "peak_pss_mb": round(peak_pss, 1),
        "rss_mb": round(child["rss_mb"], 1),
        "worker_rss_mb": round(child["worker_rss_mb"], 1),
        "canteens": fulfilment["canteens"]["share"],
        "baskets": f"{fulfilment['baskets']['filled']}/{fulfilment['baskets']['due']}",
        "km": kpis["transport"]["km"],
        "trips": kpis["transport"]["trips"],
        "unserved": kpis["transport"]["unserved_mandatory_stops"],
        "co2_kg": kpis["transport"]["co2_kg"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", nargs="*", default=WEEKS)
    parser.add_argument("--time-limit", type=float, default=None, help="default: the CLI's")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
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
        rows = [plan_week(db, w, Path(folder), args.time_limit) for w in args.weeks]
    publish(rows, args.json)


if __name__ == "__main__":
    main()
