"""Start-up of the command line: wall time of light commands (goal: < 0.5 s).

    python -m benchmarks.startup [--repeat N] [--compare REV] [--json OUT.json]

Each command runs as people run it, in a fresh ``python -m foodchain`` process, ``--repeat``
times (median and worst given). The tiny test scenario is loaded once into a SQLite file for
the commands that read a database. ``--compare REV`` runs the same commands, interleaved in
the same loop so that both see the same machine load, from a checkout of git revision REV
(``git worktree``, removed afterwards) put first on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.table import publish

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "scenarios" / "tiny.yaml"

COMMANDS: list[list[str]] = [
    ["--help"],
    ["--version"],
    ["plan", "--help"],
    ["sites", "list"],
    ["runs", "list"],
    ["demand", "show", "--week", "2026-W49", "--format", "csv"],
]


def _time(command: list[str], env: dict[str, str], cwd: str) -> float | None:
    """Seconds of wall time, None if the command failed (a version without it). ``cwd`` is
    outside the checkout: ``python -m`` puts the working folder first on the path."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "foodchain", *command],
        env=env,
        cwd=cwd,
        capture_output=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    return elapsed if done.returncode == 0 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--compare", help="git revision to time side by side")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "foodchain.db"
        base = {**os.environ, "FOODCHAIN_DB": f"sqlite:///{db}", "COLUMNS": "80"}
        subprocess.run(
            [sys.executable, "-m", "foodchain", "init", "--scenario", str(TINY)],
            env=base,
            capture_output=True,
            check=True,
        )
        versions = {"this checkout": base}
        if args.compare:
            other = Path(folder) / "compare"
            subprocess.run(
                ["git", "worktree", "add", "--detach", str(other), args.compare],
                cwd=ROOT,
                capture_output=True,
                check=True,
            )
            versions[args.compare] = {**base, "PYTHONPATH": str(other)}
        try:
            times: dict[tuple[str, str], list[float | None]] = {}
            for _ in range(args.repeat):
                for command in COMMANDS:
                    for version, env in versions.items():
                        key = (" ".join(command), version)
                        times.setdefault(key, []).append(_time(command, env, folder))
        finally:
            if args.compare:
                subprocess.run(
                    ["git", "worktree", "remove", "--force", str(other)],
                    cwd=ROOT,
                    capture_output=True,
                    check=False,
                )
    rows = []
    for (shown, version), measured in times.items():
        seconds = [s for s in measured if s is not None]
        rows.append(
            {
                "command": f"`foodchain {shown}`",
                "version": version,
                "median_s": f"{statistics.median(seconds):.2f}" if seconds else "fails",
                "worst_s": f"{max(seconds):.2f}" if seconds else "-",
            }
        )
    publish(rows, args.json)


if __name__ == "__main__":
    main()
