"""`foodchain plan`, `runs` and `report` as a coordinator uses them, on the tiny scenario."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from foodchain.cli import app
from foodchain.db import open_database
from foodchain.runs import list_runs

from .conftest import LENSOIS, TINY

runner = CliRunner()


def _run(db_url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--db", db_url, *args])
    return result.exit_code, result.output


def _plan(db_url: str, out: Path, *extra: str) -> tuple[int, str]:
    return _run(
        db_url,
        *("plan", "--week", "2026-W49", "--scenario", str(TINY)),
        *("--deterministic", "--out", str(out), *extra),
    )


def _files(folder: Path) -> dict[str, object]:
    """Each file's content; XLSX by cell values (openpyxl stamps the time of writing)."""
    return {
        str(p.relative_to(folder)): _cells(p) if p.suffix == ".xlsx" else p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _cells(path: Path) -> list[list[tuple[object, ...]]]:
    book = load_workbook(path)
    return [list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets]


def test_plan_writes_documents_and_a_draft_run(db_url: str, tmp_path: Path) -> None:
    code, output = _plan(db_url, tmp_path / "plan")
    assert code == 0, output
    assert "Loaded the scenario" in output
    assert "Run 1 saved as a draft" in output
    assert "Demand is short this week" in output  # 0.8 kg of organic lettuce (hand-checked)
    for name in ("allocation.csv", "baskets.csv", "shortfalls.csv", "surplus.csv", "routes.csv"):
        with (tmp_path / "plan" / name).open(encoding="utf-8-sig") as handle:
            assert next(csv.reader(handle, delimiter=";"))  # a header
    assert (tmp_path / "plan" / "kpis.json").exists()
    assert (tmp_path / "plan" / "routes.geojson").exists()
    assert (tmp_path / "plan" / "map.html").exists()

    # The database now holds the scenario: a second plan does not load it again.
    code, output = _plan(db_url, tmp_path / "again")
    assert code == 0, output
    assert "Loaded the scenario" not in output and "Run 2 saved" in output

    code, output = _run(db_url, "runs", "diff", "1", "2")
    assert code == 0, output
    assert "inputs identical" in output and "The two plans are the same." in output

    # Exporting a stored run writes the very documents the plan wrote (the map's element ids
    # are random, so it is compared by existence only).
    code, output = _run(db_url, "runs", "export", "1", "--out", str(tmp_path / "export"))
    assert code == 0, output
    planned, exported = _files(tmp_path / "plan"), _files(tmp_path / "export")
    assert planned.keys() == exported.keys()
    for name, content in planned.items():
        if not name.endswith("map.html"):
            assert exported[name] == content, name


def test_publishing_rules(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # publishing writes plans/2026-W49/published and run-N
    for folder in ("a", "b"):
        assert _plan(db_url, tmp_path / folder)[0] == 0
    code, output = _run(db_url, "runs", "publish", "1")
    assert code == 0 and "Run 1 is the published plan of 2026-W49" in output
    assert str(Path("plans") / "2026-W49" / "published") in output
    code, output = _run(db_url, "runs", "publish", "2")
    assert code == 1 and "--replace" in output and "Traceback" not in output
    code, output = _run(db_url, "runs", "publish", "2", "--replace")
    assert code == 0, output
    code, output = _run(db_url, "runs", "list", "--week", "2026-W49")
    assert code == 0
    statuses = {r.id: r.status for r in list_runs(open_database(db_url), "2026-W49")}
    assert statuses == {1: "superseded", 2: "published"}
    code, output = _run(db_url, "runs", "show", "42")
    assert code == 1 and "no run 42" in output


def test_report_over_weeks(db_url: str, tmp_path: Path) -> None:
    assert _plan(db_url, tmp_path / "w49")[0] == 0
    code, output = _run(
        db_url,
        *("plan", "--week", "2026-W50", "--deterministic", "--out", str(tmp_path / "w50")),
    )
    assert code == 0, output
    code, output = _run(
        db_url, "report", "--weeks", "2026-W49..2026-W50", "--out", str(tmp_path / "r")
    )
    assert code == 0, output
    with (tmp_path / "r" / "kpis_2026-W49_2026-W50.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert [r["week"] for r in rows] == ["2026-W49", "2026-W50"]
    assert rows[0]["baskets_filled"] == "10"
    png = (tmp_path / "r" / "kpis_2026-W49_2026-W50.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_plan_errors_are_clear(db_url: str, tmp_path: Path) -> None:
    code, output = _run(db_url, "plan", "--week", "2026-W60", "--out", str(tmp_path))
    assert code == 1 and "--week" in output and "Traceback" not in output
    assert _plan(db_url, tmp_path / "tiny")[0] == 0
    code, output = _run(
        db_url, "plan", "--week", "2026-W49", "--scenario", str(LENSOIS), "--out", str(tmp_path)
    )
    assert code == 1 and "holds the scenario 'tiny'" in output
    code, output = _run(db_url, "plan", "--week", "2027-W30", "--out", str(tmp_path))
    assert code == 1 and "outside the planning horizon" in output


def test_interrupted_plan_saves_no_run(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("foodchain.plan.weekly.plan_week", interrupted)
    code, output = _plan(db_url, tmp_path / "plan")
    assert code == 130 and "Interrupted" in output and "Traceback" not in output
    assert list_runs(open_database(db_url)) == []


def test_a_day_without_any_rounds_is_not_saved_nor_written(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The routing search of the second day ends with nothing found (its time ran out)."""
    from foodchain.routing import RoutingProblem, RoutingResult, SolverOptions
    from foodchain.routing.diagnosis import saturated
    from foodchain.routing.ortools_engine import solve
    from foodchain.routing.schedule import evaluate

    calls = []

    def out_of_time(
        problem: RoutingProblem,
        options: SolverOptions,
        *,
        initial_routes: Any = None,
        progress: Any = None,
    ) -> RoutingResult:
        calls.append(problem)
        if len(calls) != 2:
            return solve(problem, options, initial_routes=initial_routes, progress=progress)
        unserved = [saturated(problem, stop) for stop in range(len(problem.stops))]
        return evaluate(problem, {}, unserved, found_solution=False)

    monkeypatch.setattr("foodchain.plan.rounds.solve", out_of_time)
    code, output = _plan(db_url, tmp_path / "plan")
    assert code == 1 and "Traceback" not in output
    assert len(calls) == 2 and "found no rounds for Thu 03 Dec" in output
    assert "--time-limit" in output and "--day thu" in output
    assert "no run was saved" in output
    assert list_runs(open_database(db_url)) == []
    assert not (tmp_path / "plan").exists()
