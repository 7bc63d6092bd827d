"""The command line as people use it: which database, finding ids, options, readable tables."""

import csv
import io
import json
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from foodchain.cli import app
from foodchain.cli.app import hoist_global_options
from foodchain.db import database_url, open_database
from foodchain.scenario import install_scenario, load_scenario

from .conftest import TINY, Cli

ENV = {"COLUMNS": "80", "NO_COLOR": "1"}


def run(*args: str | Path, code: int = 0) -> str:
    """The command's output with its line breaks (80 columns) taken out."""
    result = CliRunner().invoke(app, [str(a) for a in args], env=ENV)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return " ".join(result.output.split())


# --------------------------------------------------------------------------- which database


def test_a_command_given_no_database_refuses_and_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FOODCHAIN_DB", raising=False)
    for command in (
        ["runs", "list"],
        ["demand", "show", "--week", "2026-W49"],
        ["sites", "list"],
        ["forecast", "import", "x.csv"],
    ):
        output = run(*command, code=1)
        assert "no foodchain database at" in output and "foodchain init" in output, output
    assert list(tmp_path.iterdir()) == []


def test_an_empty_database_is_refused_with_its_fix(tmp_path):
    empty = tmp_path / "empty.db"
    open_database(f"sqlite:///{empty}")  # schema, no scenario
    output = run("--db", empty, "runs", "list", code=1)
    assert "holds no foodchain scenario" in output and "init --scenario" in output


def test_db_is_a_plain_path_and_may_follow_the_subcommand(tmp_path):
    path = tmp_path / "hub.db"
    run("init", "--scenario", TINY, "--db", path)  # init creates it
    assert path.exists()
    listed = run("sites", "list", "--kind", "farm", f"--db={path}")
    assert "farm_nord" in listed
    assert "farm_nord" in run("--db", str(path), "sites", "list")
    assert database_url(str(path)) == f"sqlite:///{path.resolve()}"


def test_global_options_are_hoisted_but_not_past_a_double_dash():
    assert hoist_global_options(["runs", "list", "--db", "x.db", "--debug"]) == [
        "--db",
        "x.db",
        "--debug",
        "runs",
        "list",
    ]
    assert hoist_global_options(["menu", "import", "--", "--db"]) == [
        "menu",
        "import",
        "--",
        "--db",
    ]
    assert hoist_global_options(["forecast", "export", "--output=f.csv", "--lang", "en"]) == [
        "forecast",
        "export",
        "--out=f.csv",
        "--language",
        "en",
    ]


def test_writers_say_which_database_they_use(cli: Cli, tmp_path):
    sheet = tmp_path / "f.csv"
    cli("forecast", "export", "--weeks", "2026-W49", "--out", sheet)
    output = cli("forecast", "import", sheet, "--dry-run")
    assert "Database:" in output


# --------------------------------------------------------------------------- the scenario


def test_init_dry_run_names_each_change_old_to_new(cli: Cli, tmp_path):
    edited = _edited_tiny(tmp_path)
    output = cli("init", "--scenario", edited, "--dry-run")
    assert "would be written" in output
    assert "site farm_nord: name: " in output and "→ Ferme du Nord renommée" in output


def test_plan_scenario_lists_a_newer_file_and_applies_it_only_with_update(cli: Cli, tmp_path):
    edited = _edited_tiny(tmp_path)
    out = ("--time-limit", "0.5", "--out", tmp_path / "docs")  # documents not in the checkout
    output = cli("plan", "--week", "2026-W49", "--scenario", edited, *out)
    assert "differs from the scenario stored" in output and "--update" in output
    assert "Ferme du Nord renommée" not in _farm_names(cli)
    output = cli(
        "plan",
        "--week",
        "2026-W49",
        "--scenario",
        edited,
        "--update",
        *out[:2],
        "--out",
        tmp_path / "docs-2",
    )
    assert "Updated the stored scenario" in output
    assert "Ferme du Nord renommée" in _farm_names(cli)


def _edited_tiny(tmp_path: Path) -> Path:
    folder = tmp_path / "edited"
    folder.mkdir()
    for item in TINY.parent.iterdir():
        if item.is_file():
            (folder / item.name).write_bytes(item.read_bytes())
        elif item.name == TINY.stem:
            _copy_tree(item, folder / item.name)
    path = folder / TINY.name
    text = path.read_text(encoding="utf-8")
    name = load_scenario(TINY).sites[[s.id for s in load_scenario(TINY).sites].index("farm_nord")]
    assert name.name in text
    path.write_text(text.replace(name.name, "Ferme du Nord renommée", 1), encoding="utf-8")
    return path


def _copy_tree(source: Path, target: Path) -> None:
    target.mkdir()
    for item in source.iterdir():
        if item.is_dir():
            _copy_tree(item, target / item.name)
        else:
            (target / item.name).write_bytes(item.read_bytes())


def _farm_names(cli: Cli) -> str:
    return cli("sites", "list", "--kind", "farm", "--format", "csv")


# --------------------------------------------------------------------------- listing


def test_sites_list_as_csv_and_json_gives_every_site_of_the_kind(cli: Cli):
    tiny = load_scenario(TINY)
    farms = sorted(s.id for s in tiny.sites if s.kind == "farm")
    rows = list(
        csv.DictReader(io.StringIO(cli("sites", "list", "--kind", "farm", "--format", "csv")))
    )
    assert sorted(r["id"] for r in rows) == farms
    assert all(r["kind"] == "farm" for r in rows)
    records = json.loads(cli("sites", "list", "--format", "json"))
    assert sorted(r["id"] for r in records) == sorted(s.id for s in tiny.sites)


def test_products_and_vehicles_list_every_row(cli: Cli):
    tiny = load_scenario(TINY)
    products = json.loads(cli("products", "list", "--format", "json"))
    assert sorted(p["id"] for p in products) == sorted(p.id for p in tiny.products)
    vehicles = list(csv.DictReader(io.StringIO(cli("vehicles", "list", "--format", "csv"))))
    assert sorted(v["id"] for v in vehicles) == sorted(v.id for v in tiny.vehicles)
    assert all(float(v["capacity_kg"]) > 0 for v in vehicles)  # '.' decimals for scripts


# --------------------------------------------------------------------------- output


def test_runs_list_and_report_fit_80_columns(db_url: str, tmp_path):
    engine = open_database(db_url)
    install_scenario(engine, load_scenario(TINY))
    engine.dispose()
    runner = CliRunner()
    args = ["--db", db_url]
    planned = runner.invoke(
        app,
        [
            *args,
            "plan",
            "--week",
            "2026-W49",
            "--time-limit",
            "0.5",
            "--out",
            str(tmp_path / "docs"),
        ],
        env=ENV,
    )
    assert planned.exit_code == 0, planned.output
    for command in (
        ["runs", "list"],
        ["report", "--weeks", "2026-W49", "--out", str(tmp_path / "reports")],
    ):
        output = runner.invoke(app, [*args, *command], env=ENV).output
        assert "2026-W49" in output and ("draft" in output or "*" in output), output
        assert max(len(line) for line in output.splitlines()) <= 80, output
        assert "…" not in output, output
    data = list(
        csv.DictReader(
            io.StringIO(runner.invoke(app, [*args, "runs", "list", "--format", "csv"]).output)
        )
    )
    assert data[0]["week"] == "2026-W49" and 0 <= float(data[0]["canteens_share"]) <= 1


def test_a_missing_output_folder_is_a_clear_error(cli: Cli, tmp_path):
    output = cli(
        "forecast", "export", "--weeks", "2026-W49", "--out", tmp_path / "nope" / "f.csv", code=1
    )
    assert "does not exist" in output and "Internal error" not in output


def test_old_option_names_still_work(cli: Cli, tmp_path):
    sheet = tmp_path / "f.csv"
    cli("forecast", "export", "--weeks", "2026-W49", "--output", sheet, "--lang", "en")
    assert sheet.read_text(encoding="utf-8-sig").startswith("farm")


def test_version_and_flags_without_metavars():
    assert run("--version").startswith("foodchain ")
    help_text = CliRunner().invoke(app, ["forecast", "import", "--help"], env=ENV).output
    line = next(line for line in help_text.splitlines() if "--dry-run" in line)
    assert "<bool>" not in line and "--no-dry-run" not in help_text


def test_every_command_has_an_example():
    def commands(group, prefix=()):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                yield from commands(command, (*prefix, name))
            else:
                yield (*prefix, name), command

    for path, command in commands(typer.main.get_command(app)):
        assert "Example:" in (command.help or ""), " ".join(path)


@pytest.mark.parametrize("week", ["2026-W49"])
def test_demand_csv_is_for_scripts(cli: Cli, week: str):
    text = cli("demand", "show", "--week", week, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and all(float(r["kg"]) > 0 for r in rows if r["kind"] == "canteen")
