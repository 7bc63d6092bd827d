"""Direct deliveries: a farm with its own vehicle delivers some destinations itself, from the
farm; the allocation prefers it for them, the rounds start and end at the farm, and the
independent checkers hold every flow to the vehicle and depot that must carry it."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from foodchain.allocation.direct import HANDED_OVER, OWN, share_among_relays
from foodchain.db import open_database
from foodchain.plan import PlanOptions, plan_week
from foodchain.plan.record import PlanRecord
from foodchain.scenario import Scenario, install_scenario, load_scenario
from foodchain.weeks import Week

from .conftest import TINY
from .routing_checker import check_depots
from .test_plan import _checked
from .week_checker import check_week

DETERMINISTIC = PlanOptions(deterministic=True, solution_limit=30)
VAN_SUD = (
    '  - {id: van_sud, name: "Camionnette de la Ferme du Sud", type: diesel_van, '
    'capacity_kg: 800, capacity_crates: 60, shift: "07:00-17:00", cost_fixed_eur: 10, '
    "cost_per_km_eur: 0.3, cost_per_hour_eur: 20, co2_kg_per_km: 0.3, range_km: 300, "
    "speed_kmh: 40, max_km_from_hub: null, allowed_kinds: [relay, canteen, shop], "
    "depot: farm_sud}\n"
)


def _tiny_direct(folder: Path) -> Path:
    """The tiny scenario where the Ferme du Sud delivers the Lens relay point itself."""
    text = TINY.read_text(encoding="utf-8")
    old = "organic_status: conversion, brings_own_produce: true}"
    assert old in text
    text = text.replace(
        old,
        "organic_status: conversion, brings_own_produce: true, direct_destinations: [relay_lens]}",
    )
    text = text.replace("\nfiles:", VAN_SUD + "\nfiles:")
    path = folder / "tiny_direct.yaml"
    path.write_text(text, encoding="utf-8")
    (folder / "tiny").symlink_to(TINY.parent / "tiny")
    return path


@pytest.fixture(scope="module")
def direct_scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return load_scenario(_tiny_direct(tmp_path_factory.mktemp("direct")))


@pytest.fixture(scope="module")
def direct_engine(module_db_url: str, direct_scenario: Scenario) -> Iterator[Engine]:
    engine = open_database(module_db_url)
    install_scenario(engine, direct_scenario)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def direct_record(direct_engine: Engine, direct_scenario: Scenario) -> PlanRecord:
    return _checked(plan_week(direct_engine, Week(2026, 49), DETERMINISTIC), direct_scenario)


def test_share_among_relays_gives_the_farm_its_own_relay_first() -> None:
    """Lens's baskets hold 6 kg of the product, Loos's 10: the delivering farm's 4 kg go to
    Lens, 2 kg that can be handed over fill it, the rest is shared in proportion."""
    pieces = [(0, "nord", 8.0), (1, "sud", 4.0), (2, "est", 4.0)]
    ways = {(1, "lens"): OWN, (2, "lens"): HANDED_OVER}
    shared = share_among_relays(
        pieces, {"lens": 6.0, "loos": 10.0}, lambda key, relay: ways.get((key, relay))
    )
    got: dict[tuple[int, str], float] = {}
    for key, relay, kg in shared:
        got[(key, relay)] = got.get((key, relay), 0.0) + kg
    assert got == pytest.approx(
        {(1, "lens"): 4.0, (2, "lens"): 2.0, (2, "loos"): 2.0, (0, "loos"): 8.0}
    )


def test_without_direct_destinations_the_share_is_proportional() -> None:
    shared = share_among_relays([(0, "nord", 8.0)], {"a": 2.0, "b": 6.0}, lambda k, r: None)
    assert shared == [(0, "a", 2.0), (0, "b", 6.0)]


def test_the_farm_delivers_its_destination_from_the_farm(direct_record: PlanRecord) -> None:
    record = direct_record
    own = [f for f in record.flows if f.farm_id == "farm_sud" and f.destination_id == "relay_lens"]
    assert own and all(f.delivered_by == "farm_sud" for f in own)
    assert all(
        not f.delivered_by for f in record.flows if f.destination_id != "relay_lens"
    )  # everything else goes through the hub
    trips = [rows for (_, vehicle, _), rows in record.trips().items() if vehicle == "van_sud"]
    assert trips
    for rows in trips:
        assert rows[0].site_id == rows[-1].site_id == "farm_sud"
        assert {r.site_id for r in rows[1:-1]} == {"relay_lens"}
        assert sum(r.delivery_kg for r in rows) == pytest.approx(sum(f.kg for f in own), abs=1e-6)
    # The hub's vans never take the farm's own produce for Lens.
    assert all(
        r.vehicle_id != "van_sud"
        for r in record.stops
        if r.site_id != "relay_lens" and r.action in ("pickup", "delivery")
    )
    assert {d.depot_id for d in record.days} == {"base_11_19", "farm_sud"}


def test_kpis_count_the_direct_rounds_and_no_hub_run_for_them(
    direct_record: PlanRecord,
) -> None:
    transport = direct_record.kpis["transport"]
    own_rows = [r for r in direct_record.stops if r.vehicle_id == "van_sud"]
    km = sum(r.km for r in own_rows)
    assert transport["direct_rounds"]["km"] == pytest.approx(km, abs=1e-3)
    assert transport["direct_rounds"]["co2_kg"] == pytest.approx(km * 0.3, abs=1e-3)
    assert transport["direct_rounds"]["by_farm"]["farm_sud"]["trips"] == len(
        {r.trip for r in own_rows}
    )
    # The Ferme du Sud brings to the hub only what goes through it: its runs are those days.
    through_hub = {
        f.pickup_day
        for f in direct_record.flows
        if f.farm_id == "farm_sud" and f.delivered_by != "farm_sud"
    }
    runs = transport["farm_runs"]["by_farm"].get("farm_sud", {"runs": 0})["runs"]
    assert runs == len(through_hub)
    # Food-miles of the direct kg: farm -> relay point, not through the hub.
    farm = direct_record.sites["farm_sud"]
    assert (
        farm.km_direct["relay_lens"]
        < farm.km_to_hub + direct_record.sites["relay_lens"].km_from_hub
    )


def test_the_checkers_catch_a_direct_flow_moved_to_the_hub_or_a_trip_from_the_hub(
    direct_record: PlanRecord, direct_scenario: Scenario
) -> None:
    record = direct_record
    # A farm's own produce for its destination said to go through the hub.
    flows = [
        f.__class__(**{**f.__dict__, "delivered_by": ""}) if f.delivered_by else f
        for f in record.flows
    ]
    errors = check_week(direct_scenario, flows, record.stops, record.unserved)
    assert any("delivers relay_lens itself" in e for e in errors)
    # The farm's round written as if it left the hub.
    stops = [
        r.model_copy(update={"site_id": "base_11_19"})
        if r.vehicle_id == "van_sud" and r.action in ("depart", "return")
        else r
        for r in record.stops
    ]
    assert any("not at farm_sud" in e for e in check_depots(direct_scenario, stops))
    assert any(
        "its depot is farm_sud" in e for e in check_week(direct_scenario, record.flows, stops)
    )
    # The farm's delivery made by a hub van instead.
    stops = [
        r.model_copy(update={"vehicle_id": "van_1", "trip": 9}) if r.vehicle_id == "van_sud" else r
        for r in record.stops
    ]
    errors = check_week(direct_scenario, record.flows, stops, record.unserved)
    assert any("from farm_sud" in e for e in errors)


def test_the_farm_serves_its_relay_point_first(direct_record: PlanRecord) -> None:
    """A basket product the farm also sends to another relay point is all the farm's at its
    own relay point (its kg go there first), and its own relay gets the farm's kg credited."""
    kg: dict[tuple[str, str, str, str], float] = {}
    for f in direct_record.flows:
        if f.purpose == "basket":
            key = (f.item_id, f.product_id, f.destination_id, f.farm_id)
            kg[key] = kg.get(key, 0.0) + f.kg
    spread = {(size, product) for (size, product, relay, farm) in kg if farm == "farm_sud"}
    assert spread  # the Ferme du Sud fills baskets this week
    for size, product in spread:
        if kg.get((size, product, "relay_loos", "farm_sud"), 0.0) > 1e-6:
            others = sum(
                v
                for (s, p, relay, farm), v in kg.items()
                if (s, p, relay) == (size, product, "relay_lens") and farm != "farm_sud"
            )
            assert others == pytest.approx(0.0, abs=1e-6), (size, product)


def test_km_saved_by_going_direct_is_the_detour_through_the_hub(
    direct_scenario: Scenario,
) -> None:
    """What a kg saves on the farm's direct arc, recomputed by hand from the positions:
    farm -> hub -> relay minus farm -> relay, crow-flies × the road factor 1.3."""
    from foodchain.allocation.direct import direct_arcs
    from foodchain.routing.travel import Travel

    catalogue = direct_scenario.catalogue()
    arcs = direct_arcs(catalogue, direct_scenario.vehicles, Travel(road_factor=1.3))
    sites = {s.id: s for s in direct_scenario.sites}

    def road(a: str, b: str) -> float:
        p1, p2 = math.radians(sites[a].lat), math.radians(sites[b].lat)
        dlon = math.radians(sites[b].lon - sites[a].lon)
        h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlon / 2) ** 2
        return 2 * 6371.0088 * math.asin(math.sqrt(h)) * 1.3

    expected = (
        road("farm_sud", "base_11_19")
        + road("base_11_19", "relay_lens")
        - road("farm_sud", "relay_lens")
    )
    assert arcs.km_saved == {"farm_sud": {"relay_lens": pytest.approx(expected, rel=1e-3)}}
    assert arcs.delivered_by("relay_lens") == "farm_sud" and not arcs.delivered_by("relay_loos")
