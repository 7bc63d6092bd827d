"""The README's promises: two Quick start commands, CI runs the second, every command documented."""

import re

import typer.main

from foodchain import forecasts, menus, site_contacts, subscriptions, travel_matrix
from foodchain.cli import app

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _quick_start_commands():
    match = re.search(r"^## Quick start\n(.*?)^## ", README, re.S | re.M)
    assert match, "README has no Quick start section"
    section = match.group(1)
    return re.findall(r"```sh\n(.*?)\n```", section, re.S)


def test_quick_start_has_exactly_two_commands():
    commands = _quick_start_commands()
    assert len(commands) == 2
    assert "foodchain plan --week 2026-W49 --scenario scenarios/lensois.yaml" in commands[0]
    assert "pytest" in commands[1] and "ruff" in commands[1] and "mypy" in commands[1]


def test_ci_runs_the_readme_test_command_exactly():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert _quick_start_commands()[1] in ci.splitlines()


def _command_paths(group, prefix=()):
    for name, command in group.commands.items():
        path = (*prefix, name)
        if hasattr(command, "commands"):
            yield from _command_paths(command, path)
        else:
            yield " ".join(path)


def test_every_command_is_documented():
    commands = list(_command_paths(typer.main.get_command(app)))
    assert len(commands) >= 8
    for command in commands:
        assert f"foodchain {command}" in README, command


def test_every_file_column_is_documented():
    importers = (forecasts.IMPORTER, menus.IMPORTER, subscriptions.IMPORTER)
    for importer in (*importers, travel_matrix.IMPORTER, site_contacts.IMPORTER):
        for column in importer.spec.columns:
            assert f"`{column.key}`" in README, (importer.kind, column.key)
