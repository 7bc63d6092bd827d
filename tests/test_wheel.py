"""foodchain installed from its wheel, away from any checkout: the bundled scenarios and the region
generator's template are package data (``foodchain.scenarios``, the repository's ``scenarios/``).

Slow (about 10 s, marked ``slow``; ``pytest -m "not slow"`` leaves it out): it builds the wheel
with pip from a copy of the checkout's files (so no ``build/`` folder of the checkout can slip
stale files in), installs it without dependencies in a fresh virtual environment, and runs
foodchain there from a folder outside the checkout. The fresh environment sees this one's
installed dependencies through a ``.pth`` line (installing OR-Tools, PyVRP and pandas afresh
would take minutes); the checkout itself is not on its path, which the scripts check.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow

SHIPPED = {"foodchain": "foodchain", "scenarios": "foodchain/scenarios"}
"""Folder of the checkout -> folder in the wheel: every file of these folders must ship."""

INSTALLED_CHECK = """
import json, sys
from pathlib import Path

import foodchain
from foodchain.bundled import bundled_scenarios, scenario_path
from foodchain.generate import generate_scenario
from foodchain.scenario import load_scenario

home = Path(foodchain.__file__).resolve().parent
assert home.is_relative_to(Path(sys.prefix).resolve()), f"foodchain imported from {home}"
loaded = {}
for name, path in bundled_scenarios().items():
    assert path.resolve().is_relative_to(home), f"{name} read from {path}"
    scenario = load_scenario(scenario_path(name))
    loaded[name] = [len(scenario.forecasts), len(scenario.menu_lines), str(path)]
region = generate_scenario(4, 3, 3, seed=1, out_dir=Path("region"))
generated = load_scenario(region)
loaded["region"] = [len(generated.forecasts), len(generated.menu_lines), str(region)]
print(json.dumps(loaded))
"""
"""Run by the installed foodchain: every bundled scenario loads by its name from the package,
and a region generated from the bundled template loads."""


def _run(args: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "FOODCHAIN_DB"}}
    env["PYTHONNOUSERSITE"] = "1"
    env["COLUMNS"] = "300"
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done


def _checkout_files() -> list[str]:
    """The checkout's files, tracked or new (not those git ignores: caches, build/, .venv/)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("building the wheel from the checkout's files needs git and a git checkout")
    listed = _run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], ROOT)
    return [name for name in listed.stdout.split("\0") if name and (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The wheel built from a copy of the checkout, and the files that copy holds."""
    source = tmp_path_factory.mktemp("source")
    files = [
        name
        for name in _checkout_files()
        if "/" not in name or name.split("/", 1)[0] in SHIPPED  # pyproject, README, packages
    ]
    for name in files:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", source, "--no-deps", "-q", "-w", dist], source)
    (built,) = dist.glob("foodchain-*.whl")
    return built, files


@pytest.fixture(scope="module")
def installed(wheel: tuple[Path, list[str]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment holding the wheel; returns its folder of scripts."""
    venv = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", "--without-pip", venv], venv)
    scripts = venv / ("Scripts" if os.name == "nt" else "bin")
    python = scripts / ("python.exe" if os.name == "nt" else "python")
    paths = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], venv)
    ours = {*site.getsitepackages(), *(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))}
    deps = Path(paths.stdout.strip()) / "_foodchain_test_dependencies.pth"
    deps.write_text("".join(f"{p}\n" for p in sorted(ours)), encoding="utf-8")
    pip: list[str | Path] = [sys.executable, "-m", "pip", "--python", python, "install"]
    _run([*pip, "--no-deps", "--no-index", "-q", wheel[0]], venv)
    return scripts


def test_the_wheel_holds_every_file_of_the_package_and_of_the_bundled_scenarios(wheel):
    built, files = wheel
    names = set(zipfile.ZipFile(built).namelist())
    expected = {
        SHIPPED[top] + "/" + rest
        for top, _, rest in (name.partition("/") for name in files)
        if top in SHIPPED
    }
    assert {
        "foodchain/scenarios/lensois.yaml",
        "foodchain/scenarios/lensois/crops.yaml",
    } <= expected
    assert sorted(expected - names) == [], "files left out of the wheel: pyproject's package-data"
    assert {name.split("/", 1)[0] for name in names} == {
        "foodchain",
        built.name.split("-py3")[0] + ".dist-info",
    }


def test_installed_foodchain_loads_the_bundled_scenarios_and_generates_a_region(
    installed, tmp_path
):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    python = installed / ("python.exe" if os.name == "nt" else "python")
    loaded = json.loads(_run([python, "-c", INSTALLED_CHECK], outside).stdout)
    assert set(loaded) == {"lensois", "tiny", "region"}
    assert all(forecasts > 0 and menu_lines > 0 for forecasts, menu_lines, _ in loaded.values())
    assert (outside / "region" / "region.yaml").is_file()

    # The installed command, from the same folder: the bundled Lensois validates and loads into
    # a new database (its migrations are package data too).
    foodchain = installed / ("foodchain.exe" if os.name == "nt" else "foodchain")
    validated = _run([foodchain, "scenario", "validate", "lensois"], outside)
    assert "is valid" in validated.stdout and loaded["lensois"][2] in validated.stdout
    _run([foodchain, "--db", outside / "x.db", "init", "--scenario", "lensois"], outside)
    assert (outside / "x.db").is_file()
