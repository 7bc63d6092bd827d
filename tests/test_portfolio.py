"""The routing portfolio: a plan always comes out, never one that breaks a rule.

The library's own verifier (which the portfolio trusts to keep or repair an engine's
rounds) must agree with the independent checker of ``tests/routing_checker.py``; the
construction must give valid rounds on any day; a crashing search is reported; a plan that
leaves mandatory stops out needs the coordinator's say to be saved or published; Ctrl-C
stops everything cleanly.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from foodchain.db import open_database
from foodchain.routing import (
    RoutingProblem,
    RoutingResult,
    SolverOptions,
    UnservedReason,
    construct,
    portfolio,
    solve,
)
from foodchain.routing.diagnosis import saturated, servable
from foodchain.routing.echelons import derive_hub_deadlines
from foodchain.routing.problem import BreakRule
from foodchain.routing.schedule import evaluate
from foodchain.routing.verify import violations
from foodchain.runs import list_runs, load_run

from .conftest import TINY
from .routing_checker import check_result
from .test_plan_cli import _plan, _run
from .test_routing import random_day

QUICK = SolverOptions(time_limit_s=None, solution_limit=40, workers=1, pyvrp_iterations=500)

RULES = ("capacity", "window", "shift", "range", "release", "goods", "due", "zone", "serve")


def _random_routes(problem: RoutingProblem, rng: random.Random) -> dict[int, list[list[int]]]:
    """Any stops on any trips of any vehicles: most such rounds break some rule."""
    routes: dict[int, list[list[int]]] = {}
    for s in range(len(problem.stops)):
        if rng.random() < 0.2:
            continue
        v = rng.randrange(len(problem.vehicles))
        trips = routes.setdefault(v, [[]])
        if rng.random() < 0.3 and len(trips) < problem.vehicles[v].max_trips:
            trips.append([])
        trips[rng.randrange(len(trips))].append(s)
    return routes


def _as_result(problem: RoutingProblem, routes: dict[int, list[list[int]]]) -> RoutingResult:
    served = {s for trips in routes.values() for t in trips for s in t}
    left = [saturated(problem, s) for s in range(len(problem.stops)) if s not in served]
    return evaluate(problem, routes, left)


@pytest.mark.parametrize("seed", range(6))
def test_the_library_verifier_agrees_with_the_independent_checker(seed: int) -> None:
    """Random rounds on random days (with hub deadlines, as the portfolio repairs them):
    the verifier finds a broken rule exactly when the independent checker does."""
    rng = random.Random(seed)
    agreed_valid = agreed_invalid = 0
    for k in range(60):
        problem = derive_hub_deadlines(random_day(seed=100 * seed + k, stops=8, vehicles=3))
        result = _as_result(problem, _random_routes(problem, rng))
        ours, theirs = violations(problem, result), check_result(problem, result)
        assert bool(ours) == bool(theirs), (ours, theirs)
        agreed_valid += not ours
        agreed_invalid += bool(ours)
    assert agreed_valid and agreed_invalid  # both kinds of rounds were met


@pytest.mark.parametrize("seed", range(4))
def test_the_verifier_and_the_checker_agree_on_drivers_and_breaks(seed: int) -> None:
    """The same with two drivers and a break due after 2 h 30 (so that both bite)."""
    rng = random.Random(seed)
    verdicts: set[tuple[bool, bool]] = set()
    for k in range(60):
        day = random_day(seed=300 * seed + k, stops=8, vehicles=3)
        problem = derive_hub_deadlines(
            replace(day, drivers=2, breaks=BreakRule(after_minutes=150, minutes=20))
        )
        result = _as_result(problem, _random_routes(problem, rng))
        ours, theirs = violations(problem, result), check_result(problem, result)
        assert bool(ours) == bool(theirs), (ours, theirs)
        verdicts.add((not ours, any("driver" in e or "break" in e for e in ours)))
    assert (False, True) in verdicts  # drivers or breaks broken, seen by both


@pytest.mark.parametrize("seed", range(6))
def test_the_construction_keeps_drivers_and_breaks_on_any_day(seed: int) -> None:
    day = random_day(seed=700 + seed, stops=20, vehicles=4)
    problem = derive_hub_deadlines(replace(day, drivers=2, breaks=BreakRule(150, 20)))
    allowed, excluded = servable(problem)
    broken = _random_routes(problem, random.Random(seed))
    routes, left = construct.build(problem, allowed, broken, improve_seconds=None)
    used = [v for v, trips in routes.items() if any(trips)]
    result = evaluate(problem, routes, construct.unserved_reasons(problem, left, excluded, used))
    assert check_result(problem, result) == [] and result.vehicles_used <= 2


@pytest.mark.parametrize("seed", range(8))
def test_the_construction_gives_valid_rounds_on_any_day(seed: int) -> None:
    problem = derive_hub_deadlines(random_day(seed=seed, stops=25, vehicles=4))
    allowed, excluded = servable(problem)
    routes, left = construct.build(problem, allowed, improve_seconds=None)
    result = evaluate(problem, routes, construct.unserved_reasons(problem, left, excluded))
    assert check_result(problem, result) == []
    served = {s for trips in routes.values() for t in trips for s in t}
    assert served | set(left) == set(allowed)  # each stop served or said to be left out


@pytest.mark.parametrize("seed", range(4))
def test_repair_keeps_what_is_valid_and_serves_what_it_can(seed: int) -> None:
    """Broken rounds in, valid rounds out, never more stops out than the construction."""
    problem = derive_hub_deadlines(random_day(seed=50 + seed, stops=20, vehicles=4))
    allowed, excluded = servable(problem)
    broken = _random_routes(problem, random.Random(seed))
    routes, left = construct.build(problem, allowed, broken, improve_seconds=None)
    result = evaluate(problem, routes, construct.unserved_reasons(problem, left, excluded))
    assert check_result(problem, result) == []


def test_a_crashing_search_is_reported_and_the_day_still_planned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("a bug in a search")

    problem = random_day(seed=2, stops=10, vehicles=3)
    monkeypatch.setattr("foodchain.routing.pyvrp_engine.search", broken)
    result = solve(problem, replace(QUICK, engine="auto"))  # PyVRP in a child process
    assert check_result(problem, result) == []
    assert "pyvrp" in str(result.statistics["crashes"])
    assert "ZeroDivisionError: a bug in a search" in str(result.statistics["crashes"])
    monkeypatch.setattr(portfolio, "ortools_solve_day", broken)
    result = solve(problem, replace(QUICK, engine="ortools"))
    assert check_result(problem, result) == []
    assert "ortools" in str(result.statistics["crashes"])
    assert result.statistics["engine"] == "construction"


def test_a_crashing_ortools_search_process_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two OR-Tools searches, the one in the child process crashes: the parent's result is
    kept and the crash is in the statistics (it used to be dropped without a trace)."""
    from foodchain.routing import ortools_search

    real = ortools_search.search_once

    def second_crashes(*args: Any, **kwargs: Any) -> Any:
        if args[4] == 1:  # config_index: the child's search
            raise MemoryError("out of memory in the child")
        return real(*args, **kwargs)

    monkeypatch.setattr(ortools_search, "search_once", second_crashes)
    problem = random_day(seed=2, stops=10, vehicles=3)
    options = replace(QUICK, engine="ortools", workers=2)
    result = solve(problem, options)
    assert check_result(problem, result) == []
    assert "ortools search 1" in str(result.statistics["crashes"])
    assert "MemoryError: out of memory in the child" in str(result.statistics["crashes"])


def _leave_one_out(problem: RoutingProblem, options: SolverOptions, **kwargs: Any) -> Any:
    """A day whose rounds leave its first stop out (as a saturated fleet would)."""
    result = solve(problem, options, **kwargs)
    routes = {
        v: [[s for s in trip if s != 0] for trip in trips] for v, trips in result.routes().items()
    }
    routes = {v: [t for t in trips if t] for v, trips in routes.items()}
    return evaluate(problem, routes, [saturated(problem, 0)])


def test_a_plan_leaving_mandatory_stops_out_is_saved_and_published_only_when_asked(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("foodchain.plan.rounds.solve", _leave_one_out)
    monkeypatch.chdir(tmp_path)  # publishing writes plans/2026-W49/published and run-N
    code, output = _plan(db_url, tmp_path / "refused")
    assert code == 1 and "Traceback" not in output
    assert "mandatory stop(s) unserved" in output and "--allow-unserved" in output
    assert list_runs(open_database(db_url)) == []
    assert not (tmp_path / "refused").exists()
    code, output = _plan(db_url, tmp_path / "kept", "--allow-unserved")
    assert code == 0, output
    (run,) = list_runs(open_database(db_url))
    assert load_run(open_database(db_url), run.id).record.unserved_mandatory()
    code, output = _run(db_url, "runs", "publish", str(run.id))
    assert code == 1 and "--force" in output and "Traceback" not in output
    code, output = _run(db_url, "runs", "publish", str(run.id), "--force")
    assert code == 0, output


def test_runs_show_says_which_engine_planned_each_day(db_url: str, tmp_path: Path) -> None:
    code, output = _plan(db_url, tmp_path / "plan")
    assert code == 0, output
    stored = load_run(open_database(db_url), 1)
    engines = {d.engine for d in stored.record.days}
    assert engines and engines <= {"ortools", "pyvrp", "construction", "warm start"} | {
        "ortools+repair",
        "pyvrp+repair",
    }
    code, output = _run(db_url, "runs", "show", "1")
    assert code == 0 and "Rounds kept from:" in output


def _children(pid: int) -> list[str]:
    try:
        return [
            child
            for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()
        ]
    except OSError:
        return []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_ctrl_c_stops_the_plan_and_its_searches_cleanly(tmp_path: Path) -> None:
    """SIGINT to the whole process group (what Ctrl-C does in a terminal) while the searches
    run: exit 130, no traceback from any process, nothing saved, no documents."""
    database = tmp_path / "plan.db"
    command = [
        sys.executable,
        "-m",
        "foodchain",
        "--db",
        f"sqlite:///{database}",
        "plan",
        "--week",
        "2026-W49",
        "--scenario",
        str(TINY),
        "--time-limit",
        "120",
        "--out",
        str(tmp_path / "plan"),
    ]
    ready = subprocess.run([*command[:5], "init", "--scenario", str(TINY)], capture_output=True)
    assert ready.returncode == 0, ready.stderr
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    deadline = time.monotonic() + 90
    while not _children(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)  # until a search process runs beside the planning one
    assert _children(process.pid), "the plan never started a search process"
    time.sleep(1)
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    output = (stdout + stderr).decode()
    assert process.returncode == 130, output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output
    assert list_runs(open_database(f"sqlite:///{database}")) == []
    assert not (tmp_path / "plan").exists()


def test_unserved_counts_before_cost_in_every_comparison() -> None:
    problem = random_day(seed=8, stops=12)
    result = solve(problem, QUICK)
    cheaper = replace(
        result,
        cost=result.cost - 1000,
        unserved=(*result.unserved, saturated(problem, 0)),
    )
    assert cheaper.unserved_mandatory == result.unserved_mandatory + 1
    assert result.rank() < cheaper.rank()
    assert any(u.reason is UnservedReason.FLEET_SATURATED for u in cheaper.unserved)


@pytest.mark.parametrize("engine", ["ortools", "pyvrp", "auto"])
def test_each_engine_routes_the_tiny_and_lensois_weeks(
    engine: str, tmp_path: Path, tiny: Any, lensois: Any
) -> None:
    """Every engine alone, and the portfolio, on real weeks: every day passes the checker,
    every stop is served (the fleets are large enough), and the day says which engine won."""
    from foodchain.plan.rounds import route_week
    from foodchain.scenario import install_scenario
    from foodchain.weeks import Week

    options = SolverOptions(
        time_limit_s=None, solution_limit=30, workers=1, pyvrp_iterations=400, engine=engine
    )
    for name, scenario, days in (("tiny", tiny, None), ("lensois", lensois, [3])):
        database = open_database(f"sqlite:///{tmp_path / name}.db")
        install_scenario(database, scenario)
        week = Week(2026, 49)
        chosen = None if days is None else [week.days()[d] for d in days]
        rounds = route_week(database, week, options, chosen)
        assert rounds.days, name
        for day in rounds.days:
            assert check_result(day.problem, day.result) == [], (name, day.day)
            assert day.result.all_mandatory_served, (name, day.day, day.result.unserved)
            kept = str(day.result.statistics["engine"])
            assert engine == "auto" or kept.startswith((engine, "construction"))
        database.dispose()
