"""Several coordinators at once, with real processes, on every backend: two plans of one week
both complete and are both stored; an import committed while a plan reads does not reach it."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from foodchain import forecasts, subscriptions
from foodchain.db import make_engine, open_database
from foodchain.importing import import_file
from foodchain.inputs import read_snapshot
from foodchain.runs import list_runs, load_run
from foodchain.scenario import Scenario, install_scenario
from foodchain.weeks import Week

from .conftest import TINY
from .snapshot import snapshot

WEEK = Week.parse("2026-W49")
PAUSE_S = 2.0
"""How long the plan holds its read open for the import (below the lock wait)."""


def _plan_pausing_mid_read(url: str, paused: Any, imported: Any, results: Any) -> None:
    """Spawned: plan the week, holding the read open between forecasts and demand."""
    import foodchain.inputs as inputs
    from foodchain.plan import PlanOptions, plan_week
    from foodchain.runs import save_run

    read_demand = inputs.read_week_demand  # type: ignore[attr-defined]

    def held(*args: Any, **kwargs: Any) -> Any:
        paused.set()
        imported.wait(timeout=PAUSE_S)  # PostgreSQL lets the import commit; SQLite makes it wait
        return read_demand(*args, **kwargs)

    inputs.read_week_demand = held  # type: ignore[attr-defined]  # this process only
    engine = make_engine(url)
    try:
        plan = plan_week(engine, WEEK, PlanOptions(deterministic=True, solution_limit=30))
        results.put(("plan", plan.fingerprint, save_run(engine, plan)))
    except Exception as exc:  # reported, so the test shows what went wrong
        results.put(("plan", f"crash: {exc!r}", None))
    finally:
        engine.dispose()


def _import_when_paused(
    url: str, files: list[str], paused: Any, imported: Any, results: Any
) -> None:
    """Spawned: once the plan is reading, commit a forecast and a subscription change."""
    engine = make_engine(url)
    try:
        paused.wait(timeout=60)
        import_file(engine, forecasts.IMPORTER, Path(files[0]))
        import_file(engine, subscriptions.IMPORTER, Path(files[1]))
        results.put(("import", "done", None))
    except Exception as exc:
        results.put(("import", f"crash: {exc!r}", None))
    finally:
        imported.set()
        engine.dispose()


def _changed_inputs(folder: Path) -> list[str]:
    forecast = folder / "forecast.csv"
    forecast.write_text("farm;product;week;kg\nfarm_nord;carrot;2026-W49;55\n", encoding="utf-8")
    original = (TINY.parent / "tiny" / "subscriptions.csv").read_text(encoding="utf-8")
    counts = folder / "subscriptions.csv"
    counts.write_text(original.replace("relay_loos,small,4,", "relay_loos,small,9,"), "utf-8")
    return [str(forecast), str(counts)]


def test_an_import_committed_while_a_plan_reads_does_not_reach_it(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    before = read_snapshot(engine, WEEK)
    context = multiprocessing.get_context("spawn")
    paused, imported, results = context.Event(), context.Event(), context.Queue()
    processes = [
        context.Process(target=_plan_pausing_mid_read, args=(db_url, paused, imported, results)),
        context.Process(
            target=_import_when_paused,
            args=(db_url, _changed_inputs(tmp_path), paused, imported, results),
        ),
    ]
    for process in processes:
        process.start()
    outcomes = {
        kind: (value, run_id)
        for kind, value, run_id in (results.get(timeout=120) for _ in processes)
    }
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    assert outcomes["import"][0] == "done", outcomes
    fingerprint, run_id = outcomes["plan"]
    assert fingerprint == before.fingerprint(), outcomes  # the plan saw the database before
    after = read_snapshot(engine, WEEK)
    assert after.fingerprint() != before.fingerprint()  # the import did land, after the read
    record = load_run(engine, run_id).record
    assert record.supply_kg == sum(f.kg for f in before.forecasts)
    assert record.supply_kg != sum(f.kg for f in after.forecasts)


@pytest.mark.parametrize("loaded", [True, False], ids=["loaded-database", "empty-database"])
def test_two_plans_of_one_week_started_together_are_both_stored(
    db_url: str, tiny: Scenario, tmp_path: Path, loaded: bool
) -> None:
    """On an empty database both processes also create the schema and load the scenario."""
    if loaded:
        install_scenario(open_database(db_url), tiny)
    commands = [
        [
            *(sys.executable, "-m", "foodchain", "--db", db_url, "plan", "--week", str(WEEK)),
            *("--scenario", str(TINY), "--out", str(tmp_path / f"plan{i}")),
            *("--deterministic", "--seed", str(i)),
        ]
        for i in range(2)
    ]
    env = {"COLUMNS": "200", "NO_COLOR": "1", "PATH": "/usr/bin:/bin"}
    processes = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        for command in commands
    ]
    outputs = [process.communicate(timeout=180)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    engine = open_database(db_url)
    runs = list_runs(engine, str(WEEK))
    assert sorted(run.id for run in runs) == [1, 2]
    assert len({run.fingerprint for run in runs}) == 1
    assert read_snapshot(engine, WEEK).fingerprint() == runs[0].fingerprint
    stored = snapshot(engine)  # the scenario once, not twice nor half
    assert (len(stored["site"]), len(stored["forecast"])) == (len(tiny.sites), len(tiny.forecasts))
    for i, output in enumerate(outputs):
        assert any(f"Run {run.id} saved" in output for run in runs), output
        assert (tmp_path / f"plan{i}" / "index.html").is_file()
    engine.dispose()
