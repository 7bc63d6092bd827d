"""The bundled scenarios and what a --scenario argument names (tests/test_wheel.py: installed)."""

from pathlib import Path

import pytest

from foodchain.bundled import bundled_folder, bundled_scenario, bundled_scenarios, scenario_path
from foodchain.errors import FoodchainError

from .conftest import LENSOIS, SCENARIOS, TINY


def test_the_bundled_scenarios_are_the_files_of_the_checkouts_scenarios_folder():
    assert bundled_folder().resolve() == SCENARIOS.resolve()
    assert {name: path.resolve() for name, path in bundled_scenarios().items()} == {
        "lensois": LENSOIS.resolve(),
        "tiny": TINY.resolve(),
    }
    assert bundled_scenario("tiny").resolve() == TINY.resolve()


def test_a_bundled_scenario_is_found_by_its_name_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert scenario_path("lensois").resolve() == LENSOIS.resolve()
    assert scenario_path(Path("tiny")).resolve() == TINY.resolve()


def test_an_existing_file_is_taken_as_given_even_with_a_bundled_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lensois").write_text("scenario: mine\n", encoding="utf-8")
    assert scenario_path("lensois") == Path("lensois")
    edited = tmp_path / "edited.yaml"
    edited.write_text("scenario: edited\n", encoding="utf-8")
    assert scenario_path(str(edited)) == edited


def test_a_folder_named_like_a_bundled_scenario_does_not_hide_it(monkeypatch):
    monkeypatch.chdir(SCENARIOS)  # scenarios/lensois/ holds the Lensois' CSV files
    assert scenario_path("lensois").resolve() == LENSOIS.resolve()


def test_another_existing_path_is_left_for_load_scenario_to_report(tmp_path):
    assert scenario_path(tmp_path) == tmp_path


def test_an_unknown_name_is_refused_naming_the_bundled_scenarios(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FoodchainError, match=r"no scenario file 'lensoi'.*lensois, tiny"):
        scenario_path("lensoi")
    with pytest.raises(FoodchainError, match=r"no bundled scenario 'lensoi'.*lensois, tiny"):
        bundled_scenario("lensoi")


def test_a_bundled_name_with_yaml_says_to_drop_the_extension(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FoodchainError, match=r"without '\.yaml': lensois, tiny"):
        scenario_path("lensois.yaml")


def test_a_missing_bundled_package_is_a_message_not_a_traceback(monkeypatch, tmp_path):
    monkeypatch.setattr("foodchain.bundled.PACKAGE", "foodchain.no_such_scenarios")
    with pytest.raises(FoodchainError, match="reinstall foodchain"):
        bundled_scenarios()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FoodchainError, match=r"bundled scenario: none \(reinstall foodchain\)"):
        scenario_path("lensois")
    (tmp_path / "mine.yaml").write_text("scenario: mine\n", encoding="utf-8")
    assert scenario_path("mine.yaml") == Path("mine.yaml")
