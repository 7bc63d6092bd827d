"""The scenarios shipped with foodchain, and the scenario file a ``--scenario`` argument names.

The bundled scenarios are the files of the repository's top-level ``scenarios/`` folder, which
the wheel ships as the package ``foodchain.scenarios`` (mapped in setup.py): one copy of each
file, found through ``importlib.resources`` the same way from a checkout installed
with ``pip install -e .`` and from an installed wheel. A scenario reads the CSV files beside its
YAML, so the folder must be a real folder on disk (a foodchain imported from a zip archive is
refused with a message rather than extracted file by file).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from foodchain.errors import FoodchainError

PACKAGE = "foodchain.scenarios"
"""The package holding the bundled scenarios' files (the repository's ``scenarios/`` folder)."""


def bundled_folder() -> Path:
    """The folder of the bundled scenarios, on disk; ``FoodchainError`` if it is not installed."""
    try:
        root = files(PACKAGE)
    except ModuleNotFoundError:
        raise FoodchainError(
            "the bundled scenarios are not installed with foodchain (no package "
            f"{PACKAGE}). Fix: reinstall foodchain ('pip install --force-reinstall foodchain', "
            "or 'pip install -e .' in a checkout)"
        ) from None
    if not isinstance(root, Path) or not root.is_dir():
        raise FoodchainError(
            f"the bundled scenarios ({root}) are not a folder on disk, and a scenario reads the "
            "files beside its YAML. Fix: install foodchain with pip rather than importing it "
            "from a zip archive, or give the path of a scenario's .yaml file"
        )
    return root


def bundled_scenarios() -> dict[str, Path]:
    """Each bundled scenario's name (``lensois``, ``tiny``) and YAML file, by name."""
    return {path.stem: path for path in sorted(bundled_folder().glob("*.yaml"))}


def bundled_scenario(name: str) -> Path:
    """The YAML file of the bundled scenario ``name``; ``FoodchainError`` naming the others."""
    found = bundled_scenarios()
    if name not in found:
        raise FoodchainError(
            f"no bundled scenario {name!r}: the bundled scenarios are {_names(found)}"
        )
    return found[name]


def scenario_path(text: str | Path) -> Path:
    """The scenario YAML file that a ``--scenario`` argument names.

    A path to an existing file is taken as given; otherwise the name of a bundled scenario
    (``lensois``) gives its file, even where a folder of that name exists (``scenarios/lensois/``
    holds the Lensois' CSV files, not a scenario); any other existing path is returned for
    ``load_scenario`` to report. A name that is neither raises ``FoodchainError`` naming the
    bundled scenarios.
    """
    given = str(text)
    path = Path(given)
    if path.is_file():
        return path
    try:
        found = bundled_scenarios()
    except FoodchainError:
        found = {}  # a broken install: a path still works, and the message says to reinstall
    if given in found:
        return found[given]
    if path.exists():
        return path
    where = "" if path.is_absolute() else f" (looked in {Path.cwd()})"
    if path.suffix in {".yaml", ".yml"} and path.stem in found:
        raise FoodchainError(
            f"no scenario file {given!r}{where}. Fix: give the path of a scenario's .yaml file, "
            f"or the name of a bundled scenario, without '{path.suffix}': {_names(found)}"
        )
    raise FoodchainError(
        f"no scenario file {given!r}{where} and no bundled scenario of that name. Fix: give the "
        f"path of a scenario's .yaml file, or the name of a bundled scenario: {_names(found)}"
    )


def _names(found: dict[str, Path]) -> str:
    return ", ".join(found) if found else "none (reinstall foodchain)"
