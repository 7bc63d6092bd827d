"""Scenarios: the bundled ones are valid and realistic; broken ones are refused with lines."""

import re
from pathlib import Path

import pytest

from foodchain.errors import InputError
from foodchain.models import SiteKind, VehicleType
from foodchain.scenario import load_scenario
from foodchain.weeks import Week, iter_weeks

from .conftest import TINY, Cli
from .snapshot import snapshot


def test_lensois_has_the_territory_of_the_brief(lensois):
    kinds = {k: [s for s in lensois.sites if s.kind == k] for k in SiteKind}
    communes = {s.commune for s in kinds[SiteKind.RELAY]}
    assert len(kinds[SiteKind.HUB]) == 1 and lensois.hub == "base_11_19"
    assert {"Lille", "Dunkerque"} <= communes
    assert len([s for s in kinds[SiteKind.RELAY] if s.commune not in ("Lille", "Dunkerque")]) == 10
    assert len(kinds[SiteKind.FARM]) >= 9
    assert 2 <= len(kinds[SiteKind.SHOP]) <= 3
    types = [v.type for v in lensois.vehicles]
    # the hub's own fleet (issue 14), not the town's 7 GNV + 4 VAE; bikes sized as cargo bikes
    assert types.count(VehicleType.CNG_VAN_LARGE) == 1
    assert types.count(VehicleType.CNG_VAN_SMALL) == 3
    bikes = [v for v in lensois.vehicles if v.type is VehicleType.E_CARGO_BIKE]
    assert len(bikes) == 2 and all(100 <= v.capacity_kg <= 150 for v in bikes)
    drivers = lensois.settings["drivers"]["per_day"]
    assert drivers["*"] == 2 and max(drivers.values()) <= len(lensois.vehicles)
    assert 25 <= len(lensois.products) <= 45
    assert len(lensois.basket_types) == 3
    shares = {c.age_group: c.local_share for c in lensois.canteens}
    assert shares["maternelle"] == 1.0 and shares["senior"] == 0.15


def test_lensois_forecasts_cover_every_week_of_the_horizon(lensois):
    weeks = {f.week for f in lensois.forecasts}
    expected = {str(w) for w in iter_weeks(Week(2026, 45), Week(2027, 26))}
    assert expected <= weeks
    assert len(expected) == 35  # 2026 has 53 ISO weeks


def test_lensois_menus_span_eight_weeks_with_a_school_holiday(lensois):
    weeks = {str(Week.of(m.date)) for m in lensois.menu_lines}
    assert len(weeks) >= 8
    assert "2026-W52" in weeks


def test_init_twice_adds_nothing_the_second_time(db_url, tmp_path):
    cli = Cli(db_url)
    first = cli("init", "--scenario", TINY)
    assert re.search(r"\b[1-9]\d* added", first)
    from foodchain.db import open_database

    before = snapshot(open_database(db_url))
    assert "0 added, 0 changed, 0 removed" in cli("init", "--scenario", TINY)
    assert snapshot(open_database(db_url)) == before


def test_init_keeps_forecasts_imported_since(cli, tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("farm;product;week;kg\nfarm_nord;carrot;2026-W49;77\n", encoding="utf-8")
    cli("forecast", "import", path)
    output = cli("init", "--scenario", TINY)
    assert "imported since were kept" in output
    export = tmp_path / "e.csv"
    cli("forecast", "export", "--farm", "farm_nord", "--weeks", "2026-W49", "-o", export)
    assert ";77;" in export.read_text(encoding="utf-8-sig")


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = TINY.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "tiny.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    (tmp_path / "tiny").symlink_to(TINY.parent / "tiny")
    return path


@pytest.mark.parametrize(
    ("old", "new", "fragments"),
    [
        (
            "holiday_calendar: zone_b",
            "holiday_calendar: zone_z",
            ["line 81", "unknown holiday calendar", "zone_z"],
        ),
        ("hub: base_11_19", "hub: farm_nord", ["is not a site of kind hub"]),
        ("id: farm_sud", "id: farm_nord", ["duplicate site id", "farm_nord"]),
        (
            "delivery_days: [mon, thu]",
            "delivery_days: [thu]",
            ["no delivery day on or before the first service day"],
        ),
        (
            'windows: {mon: "07:00-10:00", thu',
            'windows: {mon: "10:00-07:00", thu',
            ["closes before it opens"],
        ),
        ("members: [leek, carrot]", "members: [leek, turnip]", ["unknown product(s) ['turnip']"]),
        ("lat: 50.4600", "lat: 95.46", ["sites[1].lat", "less than or equal to 90"]),
        ("kind: shop", "kind: market", ["sites[6].kind", "market"]),
        ("depot: base_11_19}", "depot: relay_loos}", ["depot is not a hub"]),
        # A farm that delivers destinations itself: they are relay points, canteens or shops,
        # and it has a vehicle based at the farm; only such a farm may base a vehicle.
        ("depot: base_11_19}", "depot: farm_sud}", ["depot is not a hub", "direct_destinations"]),
        (
            "organic_status: conversion, brings_own_produce: true}",
            "organic_status: conversion, brings_own_produce: true, direct_destinations: [relay_lens]}",
            ["sites[2].farm.direct_destinations", "no vehicle to deliver with", "depot: farm_sud"],
        ),
        (
            "organic_status: conversion, brings_own_produce: true}",
            "organic_status: conversion, brings_own_produce: true, direct_destinations: [farm_nord]}",
            [
                "sites[2].farm.direct_destinations",
                "not a relay point, canteen or shop",
                "farm_nord",
            ],
        ),
        ("scenario: tiny", "scenario: tiny\n  bad: [", ["not valid YAML"]),
        (
            "settings: {road_factor: 1.3,",
            "settings: {road_factor: 1.3, calendar: {public_holidays: feries},",
            ["settings.calendar.public_holidays", "no calendar of that name", "zone_b"],
        ),
        (
            "settings: {road_factor: 1.3,",
            "settings: {road_factor: 1.3, calendar: {canteen_deadline: '07:00'},",
            ["sites[", "opens at or after the delivery deadline 07:00", "07:00-09:30"],
        ),
        (
            "settings: {road_factor: 1.3,",
            "settings: {road_factor: 1.3, calendar: {canteen_deadline: 'tôt'},",
            ["settings.calendar", "HH:MM"],
        ),
        (
            "settings: {road_factor: 1.3,",
            "settings: {road_factor: 1.3, calendar: {canteen_delivery: la_veille},",
            ["settings.calendar.canteen_delivery", "same_morning", "day_before"],
        ),
        (
            "settings: {road_factor: 1.3,",
            "settings: {road_factor: 1.3, drivers: {per_day: {lundi: 2}},",
            ["settings.drivers.per_day", "unknown day(s) lundi", "mon, tue"],
        ),
        (
            "settings: {road_factor: 1.3,",
            "settings: {road_factor: 1.3, drivers: {per_day: 2, break_minutes: 0},",
            ["settings.drivers.break_minutes", "greater than or equal to 1"],
        ),
    ],
)
def test_broken_scenario_is_refused_with_its_line(tmp_path, old, new, fragments):
    path = _broken(tmp_path, old, new)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    text = " | ".join(str(p) for p in info.value.problems)
    for fragment in fragments:
        assert fragment in text


def test_validate_command_reports_and_writes_nothing(db_url, tmp_path):
    path = _broken(tmp_path, "holiday_calendar: zone_b", "holiday_calendar: zone_z")
    cli = Cli(db_url)
    output = cli("scenario", "validate", path, code=1)
    assert "unknown holiday calendar" in output
    output = cli("init", "--scenario", path, code=1)
    assert "nothing was written" in output
    assert "valid" in cli("scenario", "validate", TINY)


def test_scenario_without_portions_gets_the_default_table(tmp_path):
    text = TINY.read_text(encoding="utf-8")
    start, end = text.index("portions:"), text.index("products:")
    path = tmp_path / "tiny.yaml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    (tmp_path / "tiny").symlink_to(TINY.parent / "tiny")
    catalogue = load_scenario(path).catalogue()
    assert catalogue.portion_grams("starter", "lettuce", "maternelle") == 25  # leaf row
    assert catalogue.portion_grams("side", "potato", "elementaire") == 145  # tuber row
    assert catalogue.portion_grams("dessert", "apple", "senior") == 125  # '*' row
