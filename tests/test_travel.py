"""Driving times by leg class where no matrix is imported: the values a reader can check by
hand, the matrix still overriding them, bikes at their own speed, and the allocation's timing
and the rounds reading the same minutes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from foodchain.allocation.load import hub_minutes
from foodchain.errors import InputError
from foodchain.routing import Flow, build_day_problem
from foodchain.routing.travel import LegSpeeds, Place, Travel, great_circle_km, leg_speeds
from foodchain.scenario import Scenario, load_scenario

from .conftest import TINY

HUB = Place("hub", 50.4470, 2.7930)  # Base 11/19, facts §1
LENS = Place("lens", 50.4322, 2.8328)
DUNKERQUE = Place("dunkerque", 51.0364, 2.3775)


def test_a_leg_is_town_then_road_then_motorway():
    """Defaults: the first 5 km at 25 km/h, up to 30 km at 55 km/h, beyond at 100 km/h."""
    speeds = LegSpeeds()
    assert speeds.minutes(3.0) == pytest.approx(3 / 25 * 60)  # 7.2 min: a town leg
    assert speeds.minutes(20.0) == pytest.approx(12.0 + 15 / 55 * 60)  # 28.4 min
    assert speeds.minutes(93.0) == pytest.approx(12.0 + 25 / 55 * 60 + 63 / 100 * 60)  # 77.1


def test_a_longer_leg_never_takes_less_time_and_a_stop_never_saves_time():
    speeds = LegSpeeds()
    kms = [k / 4 for k in range(0, 800)]
    times = [speeds.minutes(km) for km in kms]
    assert times == sorted(times)
    for a in kms[::37]:
        for b in kms[::41]:  # the direct leg is never slower than two legs adding up to it
            assert speeds.minutes(a + b) <= speeds.minutes(a) + speeds.minutes(b) + 1e-9


def test_loos_to_dunkerque_takes_the_motorway_and_town_legs_are_slower():
    """Issue 14: at one speed (the Ducato's 40 km/h) Loos → Dunkerque, 93 road km, took
    2 h 20; by leg class about 1 h 17. Loos → Lens, 4.3 road km, 10 minutes at 25 km/h."""
    travel = Travel(road_factor=1.3)
    km = travel.km(HUB, DUNKERQUE)
    assert km == pytest.approx(71.8 * 1.3, abs=0.2)
    assert km / 40 * 60 == pytest.approx(140, abs=1)  # what one speed gave
    assert travel.minutes(HUB, DUNKERQUE, speed_kmh=40) == pytest.approx(77.1, abs=0.5)
    lens = great_circle_km(HUB.lat, HUB.lon, LENS.lat, LENS.lon) * 1.3
    assert travel.minutes(HUB, LENS, speed_kmh=40) == pytest.approx(lens / 25 * 60)


def test_a_cargo_bike_rides_at_its_own_speed_everywhere():
    travel = Travel(road_factor=1.3, matrix={("hub", "lens"): (5.0, 9.0)})
    assert travel.minutes(HUB, LENS, speed_kmh=15, by_road=False) == pytest.approx(20.0)
    km = travel.km(LENS, HUB)
    assert travel.minutes(LENS, HUB, speed_kmh=15, by_road=False) == pytest.approx(km / 15 * 60)


def test_an_imported_matrix_overrides_the_leg_speeds_where_it_has_the_pair():
    travel = Travel(road_factor=1.3, matrix={("hub", "dunkerque"): (95.0, 66.0)})
    assert travel.minutes(HUB, DUNKERQUE, speed_kmh=40) == 66.0
    back = travel.km(DUNKERQUE, HUB)  # not in the matrix: crow × factor and leg speeds
    assert travel.minutes(DUNKERQUE, HUB, speed_kmh=40) == pytest.approx(LegSpeeds().minutes(back))


def test_one_speed_per_vehicle_when_the_scenario_turns_leg_speeds_off():
    travel = Travel.of({"road_factor": 1.3, "travel": {"by_leg": False}})
    km = travel.km(HUB, DUNKERQUE)
    assert travel.minutes(HUB, DUNKERQUE, speed_kmh=40) == pytest.approx(km / 40 * 60)


def test_scenario_speeds_are_read_from_settings():
    speeds = leg_speeds({"travel": {"town_kmh": 20, "motorway_kmh": 90}})
    assert speeds.town_kmh == 20 and speeds.road_kmh == 55 and speeds.motorway_kmh == 90
    assert leg_speeds({}) == LegSpeeds()


def _variant(tmp_path: Path, settings: str) -> Path:
    text = TINY.read_text(encoding="utf-8")
    old = "settings: {road_factor: 1.3,"  # the tiny scenario's other settings follow
    assert old in text
    path = tmp_path / "tiny.yaml"
    path.write_text(text.replace(old, settings.removesuffix("}") + ","), encoding="utf-8")
    (tmp_path / "tiny").symlink_to(TINY.parent / "tiny")
    return path


@pytest.mark.parametrize(
    ("settings", "fragments"),
    [
        (
            "settings: {travel: {town_km: 8, motorway_from_km: 5}}",
            ["settings.travel", "motorway_from_km (5) is below town_km (8)"],
        ),
        ("settings: {travel: {road_kmh: 0}}", ["settings.travel.road_kmh", "greater than 0"]),
        ("settings: {travel: {speed: 50}}", ["settings.travel.speed", "Extra inputs"]),
        ("settings: {co2: {biomethane_share: 1.5}}", ["settings.co2.biomethane_share"]),
        ("settings: {co2: {farm_vehicle: tractor}}", ["settings.co2", "tractor"]),
        ("settings: {co2: {farms: {farm_ouest: {runs_per_week: 2}}}}", ["farm_ouest"]),
    ],
)
def test_bad_travel_and_co2_settings_are_refused(tmp_path, settings, fragments):
    with pytest.raises(InputError) as info:
        load_scenario(_variant(tmp_path, settings))
    text = " | ".join(str(p) for p in info.value.problems)
    for fragment in fragments:
        assert fragment in text


def test_allocation_timing_and_rounds_read_the_same_minutes(tiny: Scenario):
    """The allocation's hub → site minutes (same-day feasibility) are the rounds' minutes of
    the slowest vehicle that goes anywhere (tiny: the van)."""
    catalogue = tiny.catalogue()
    sites = {s.id: s for s in tiny.sites}
    farms = {f.site_id: f for f in tiny.farms}
    thursday = dt.date(2026, 12, 3)
    flows = [
        Flow("farm_nord", "carrot", "mat_basly", thursday, 20),
        Flow("farm_nord", "leek", "relay_lens", thursday, 40),
    ]
    problem = build_day_problem(thursday, sites[tiny.hub], sites, farms, tiny.vehicles, flows, 1.3)
    van = next(v for v in problem.vehicles if v.id == "van_1")
    minutes = problem.minutes[van.profile]
    allocation = hub_minutes(catalogue, tiny.vehicles, Travel.of(catalogue.settings))
    for index, stop in enumerate(problem.stops, start=1):
        there, back = minutes[0][index], minutes[index][0]
        assert allocation[stop.site_id] == pytest.approx(max(there, back))
        assert there == pytest.approx(LegSpeeds().minutes(problem.km[0][index]))
