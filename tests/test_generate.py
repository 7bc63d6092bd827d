"""foodchain scenario generate: a synthetic region that validates, installs and plans."""

import csv
import importlib.util
import io
from collections import Counter
from pathlib import Path

import pytest
import yaml

from foodchain.db import open_database
from foodchain.generate import REACH_KM, generate_scenario
from foodchain.models import SiteKind
from foodchain.plan import PlanOptions, plan_week
from foodchain.routing.travel import great_circle_km
from foodchain.scenario import Scenario, install_scenario, load_scenario
from foodchain.timing import site_window, window_of
from foodchain.weeks import Week, iter_weeks

from .conftest import SCENARIOS, Cli

SMALL = (6, 5, 5)
"""Farms, relay points, canteens of the small region."""
WEEK = Week(2026, 49)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_scenario(*SMALL, seed=3, out_dir=tmp_path_factory.mktemp("region"))


@pytest.fixture(scope="module")
def region(small: Path) -> Scenario:
    return load_scenario(small)


@pytest.fixture(scope="module")
def planned(region: Scenario, tmp_path_factory: pytest.TempPathFactory):
    engine = open_database(f"sqlite:///{tmp_path_factory.mktemp('db') / 'region.db'}")
    install_scenario(engine, region)
    # Stopped by amount of work, not time: the same plan on a busy machine.
    return plan_week(engine, WEEK, PlanOptions(deterministic=True, solution_limit=5))


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_the_counts_are_as_asked_and_the_files_lie_beside_the_yaml(small, region):
    kinds = Counter(site.kind for site in region.sites)
    assert kinds[SiteKind.HUB] == 1
    assert kinds[SiteKind.FARM] == 6
    assert kinds[SiteKind.RELAY] == 5
    assert kinds[SiteKind.CANTEEN] == 5
    assert kinds[SiteKind.SHOP] >= 1
    assert small.name == "region.yaml"
    assert {"products.csv", "forecasts.csv", "subscriptions.csv"} <= {
        p.name for p in (small.parent / "region").iterdir()
    }
    assert {m.canteen_id for m in region.menu_lines} == {c.site_id for c in region.canteens}
    weeks = {str(w) for w in iter_weeks(*region.horizon)}
    assert {f.week for f in region.forecasts} == weeks


def test_the_region_mixes_organic_statuses_canteen_kinds_and_rules(region, tmp_path):
    statuses = {f.organic_status for f in region.forecasts}
    assert "organic" in statuses and len(statuses) >= 2
    rules = {c.organic_rule for c in region.canteens}
    assert rules == {"organic_100", "egalim"}
    assert all(c.local_share == 1.0 for c in region.canteens if c.organic_rule == "organic_100")
    more = yaml.safe_load(generate_scenario(10, 5, 20, 5, tmp_path).read_text(encoding="utf-8"))
    ages = {s["canteen"]["age_group"] for s in more["sites"] if s["kind"] == "canteen"}
    assert ages == {"maternelle", "elementaire", "senior"}


def test_every_site_is_within_a_day_of_the_hub(region):
    """Each site lies within REACH_KM road km, and some vehicle can reach it in its window."""
    sites = {s.id: s for s in region.sites}
    hub = sites[region.hub]
    factor = region.settings["road_factor"]
    own = {f.site_id for f in region.farms if f.brings_own_produce}
    for site in region.sites:
        km = great_circle_km(hub.lat, hub.lon, site.lat, site.lon) * factor
        assert km <= REACH_KM, site.id
        if site.kind is SiteKind.HUB or site.id in own:
            continue
        days = site.delivery_days or list(site.windows)
        day = days[0]
        opens, closes = site_window(site, day)
        reachable = [
            v.id
            for v in region.vehicles
            if (not v.allowed_kinds or site.kind in v.allowed_kinds)
            and (v.max_km_from_hub is None or km <= v.max_km_from_hub)
            and 2 * km <= v.range_km
            and window_of(v.shift)[0] + hub.service_minutes + km / v.speed_kmh * 60 <= closes
            and max(opens, window_of(v.shift)[0]) + km / v.speed_kmh * 60 <= window_of(v.shift)[1]
        ]
        assert reachable, site.id


def test_relay_points_get_20_to_60_baskets_a_week(region):
    for week in iter_weeks(*region.horizon):
        baskets: Counter[str] = Counter()
        for sub in region.subscriptions:
            baskets[sub.relay_point_id] += sub.baskets_in(week)
        assert all(n <= 60 for n in baskets.values()), week
        if week == WEEK:
            assert len(baskets) == 5 and all(20 <= n <= 60 for n in baskets.values())


def test_the_generated_fleet_plans_the_week_with_no_stop_left_out(planned):
    record, kpis = planned.record, planned.record.kpis
    left_out = [(u.day, u.site_id, u.reason) for u in record.unserved]
    assert all(reason == "optional_dropped" for *_, reason in left_out), left_out
    assert kpis["fulfilment"]["baskets"]["share"] == 1.0
    assert kpis["fulfilment"]["canteens"]["share"] >= 0.6
    served = {f.destination_id for f in record.flows if f.purpose == "canteen"}
    assert len(served) == SMALL[2]
    assert kpis["transport"]["trips"] > 0


def test_the_same_seed_gives_the_same_files_and_another_seed_others(tmp_path):
    first = _files(generate_scenario(*SMALL, seed=7, out_dir=tmp_path / "a").parent)
    again = _files(generate_scenario(*SMALL, seed=7, out_dir=tmp_path / "b").parent)
    other = _files(generate_scenario(*SMALL, seed=8, out_dir=tmp_path / "c").parent)
    assert first == again
    assert first.keys() != other.keys() or first != other
    assert first["region/forecasts.csv"] != other["region/forecasts.csv"]


@pytest.mark.parametrize(
    "options",
    [
        ["--farms", "0"],
        ["--relays", "-3"],
        ["--canteens", "2001"],
        ["--shops", "0"],
        ["--name", "Bad Name"],
        ["--weeks", "2026-W60"],
    ],
)
def test_bad_arguments_are_refused_with_exit_1(tmp_path, options):
    cli = Cli(f"sqlite:///{tmp_path / 'db.sqlite'}")
    base = {"--farms": "3", "--relays": "2", "--canteens": "2"}
    base.update(dict(zip(options[::2], options[1::2], strict=True)))
    args = [x for pair in base.items() for x in pair]
    output = cli("scenario", "generate", *args, "-o", tmp_path / "out", code=1)
    assert "Error" in output
    assert not (tmp_path / "out" / "region.yaml").exists()


def test_a_non_empty_folder_is_refused_unless_forced(tmp_path):
    cli = Cli(f"sqlite:///{tmp_path / 'db.sqlite'}")
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    args = ["scenario", "generate", "--farms", "3", "--relays", "2", "--canteens", "2"]
    assert "not empty" in cli(*args, "-o", out, code=1)
    cli(*args, "-o", out, "--force")
    cli(*args, "--canteens", "1", "-o", out, "--force")
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert len(list((out / "region" / "menus").iterdir())) == 1
    assert "is valid" in cli("scenario", "validate", out / "region.yaml")


def _csv_text(header, rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def test_the_lensois_generator_still_writes_the_bundled_files():
    """The generators moved to foodchain.generate: the Lensois files come out byte for byte."""
    spec = importlib.util.spec_from_file_location("gen", SCENARIOS / "generate_lensois.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    scenario = gen.load_yaml(gen.SCENARIO)
    crops = gen.load_yaml(gen.DATA / "crops.yaml")
    products = gen.load_products(gen.HERE / scenario["products"])
    expected = (gen.DATA / "forecasts.csv").read_text(encoding="utf-8")
    assert _csv_text(gen.FORECAST_HEADER, gen.forecasts(scenario, crops, products)) == expected
    cycles = gen.load_yaml(gen.DATA / "menu_cycles.yaml")
    for canteen, rows in gen.menus(scenario, cycles, products).items():
        expected = (gen.DATA / "menus" / f"{canteen}.csv").read_text(encoding="utf-8")
        assert _csv_text(gen.MENU_HEADER, rows) == expected, canteen
    expected = (gen.DATA / "subscriptions.csv").read_text(encoding="utf-8")
    rows = gen.subscriptions(scenario, crops["seed"])
    assert _csv_text(gen.SUBSCRIPTION_HEADER, rows) == expected
