"""The hub's work (``settings.hub_work``): packing scheduled on the packers before the trips
that carry it, once its goods are in, and empty crates brought back within the vehicles'
room; every plan is judged by the independent week checker (``check_packing``,
``check_crates``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from foodchain.crates import CrateStop, CrateTrip, crate_returns
from foodchain.db import open_database
from foodchain.documents import write_documents
from foodchain.errors import InputError
from foodchain.hub_work import AT_HUB, HubWork, PackingWork, plan_packing
from foodchain.plan import PlanOptions, plan_week
from foodchain.routing.options import SolverOptions
from foodchain.routing.portfolio import solve
from foodchain.routing.problem import RoutingProblem, Stop, StopKind, UnservedReason, Vehicle
from foodchain.scenario import Scenario, install_scenario, load_scenario
from foodchain.weeks import Week

from .routing_checker import check_result
from .test_scenario import _broken
from .week_checker import check_crates, check_packing, check_week

THURSDAY = dt.date(2026, 12, 3)
HUB_WORK: dict[str, Any] = {
    "packers": 1,
    "start": "06:00",
    "minutes_per_basket": 1.5,
    "minutes_per_crate": 0.5,
}


def _hand_problem(closes_a: float = 700.0) -> RoutingProblem:
    """A farm collected 07:00-08:00 feeds delivery A (window 10:00-closes_a); delivery B
    (09:00-09:20) carries goods already at the hub. Every leg takes 10 min."""
    stops = (
        Stop("farm", StopKind.PICKUP, "farm", 10.0, 1.0, (420.0, 480.0), 10.0),
        Stop("a", StopKind.DELIVERY, "relay", 10.0, 1.0, (600.0, closes_a), 0.0, supplied_by=(0,)),
        Stop("b", StopKind.DELIVERY, "canteen", 10.0, 1.0, (540.0, 560.0), 0.0),
    )
    legs = tuple(tuple(0.0 if i == j else 10.0 for j in range(4)) for i in range(4))
    van = Vehicle("van", 500.0, 50.0, (360.0, 1200.0))
    return RoutingProblem(stops=stops, vehicles=(van,), km=legs, minutes=(legs,))


def test_packing_waits_for_the_goods_and_ends_before_the_loading():
    """By hand: B (due to load by 09:10) is packed first, 06:00-06:20 (40 crates x 0.5 min);
    the farm's goods are at the hub at 07:20 at the earliest (leave 06:00, there 07:00, 10 min
    service, 10 min back), and A's packing (20 baskets x 1.5 = 30 min) must end by 11:30 to
    load at 11:30 and arrive by 11:40: the pickup's hub deadline goes halfway between 07:20
    and 11:00 - 1 min, 09:09:30; A is packed 09:09:30-09:39:30 and released then."""
    work = {"a": {"farm": PackingWork(baskets=20)}, "b": {AT_HUB: PackingWork(crates=40)}}
    packed, jobs = plan_packing(_hand_problem(), work, {}, HubWork(**HUB_WORK), THURSDAY)
    assert [(j.stop, j.start, j.end) for j in jobs] == [(2, 360.0, 380.0), (1, 549.5, 579.5)]
    assert packed.stops[0].hub_deadline == 549.5
    assert (packed.stops[1].release, packed.stops[2].release) == (579.5, 380.0)


def test_a_long_packing_brings_the_farms_deadline_forward():
    """A must now load by 10:00 (window closes 10:10) and takes 130 min to pack (80 baskets,
    20 crates): halfway between 07:20 and 09:49 puts the farm's deadline at 08:34:30, and A's
    packing would end 44.5 min late, so the deadline moves to 07:50 and A is packed
    07:50-10:00 (B, at the hub from 06:00, is packed 06:00-06:02)."""
    work = {"a": {"farm": PackingWork(baskets=80, crates=20)}, "b": {AT_HUB: PackingWork(crates=4)}}
    packed, jobs = plan_packing(_hand_problem(610.0), work, {}, HubWork(**HUB_WORK), THURSDAY)
    a = next(j for j in jobs if j.stop == 1)
    assert (a.start, a.end) == pytest.approx((470.0, 600.0))
    assert packed.stops[0].hub_deadline == pytest.approx(470.0)


def test_two_packers_share_the_work_and_nobody_leaves_it_unready():
    work = {"a": {AT_HUB: PackingWork(baskets=20)}, "b": {AT_HUB: PackingWork(crates=40)}}
    rules = HubWork(**{**HUB_WORK, "packers": {"thu": 2, "*": 0}})
    _, jobs = plan_packing(_hand_problem(), work, {}, rules, THURSDAY)
    assert sorted((j.packer, j.start) for j in jobs) == [(0, 360.0), (1, 360.0)]
    idle, none = plan_packing(_hand_problem(), work, {}, rules, THURSDAY + dt.timedelta(days=1))
    assert none == () and idle.stops[1].release == idle.stops[2].release == 24 * 60
    result = solve(idle, SolverOptions(time_limit_s=None, solution_limit=10, workers=1))
    assert {u.reason for u in result.unserved} == {UnservedReason.GOODS_TOO_LATE}


def _tiny_with_hub_work(tiny: Scenario, **rules: object) -> Scenario:
    return replace(tiny, settings={**tiny.settings, "hub_work": {**HUB_WORK, **rules}})


@pytest.mark.parametrize("packers", [1, 2])
def test_tiny_week_is_packed_before_its_departures(tmp_path, tiny, packers):
    scenario = _tiny_with_hub_work(tiny, packers=packers)
    engine = open_database(f"sqlite:///{tmp_path / 'hub.db'}")
    install_scenario(engine, scenario)
    plan = plan_week(engine, Week(2026, 49), PlanOptions(deterministic=True, solution_limit=20))
    record = plan.record
    for day in plan.rounds:
        assert check_result(day.problem, day.result) == [], day.day
    assert record.unserved_mandatory() == []
    assert check_week(scenario, record.flows, record.stops, record.unserved) == []
    packing = (record.flows, record.fills, record.stops, record.packing, record.unserved)
    assert check_packing(scenario, *packing) == []
    assert check_crates(scenario, record.flows, record.stops) == []
    delivered = {(r.day, r.site_id) for r in record.stops if r.action == "delivery"}
    assert {(p.day, p.site_id) for p in record.packing} == delivered
    assert {p.packer for p in record.packing} == set(range(1, packers + 1))
    # Thursday's baskets: relay_loos 6, relay_lens 4 (the allocation's fills), 1.5 min each.
    baskets = {
        s: sum(p.baskets for p in record.packing if p.site_id == s and p.day == THURSDAY)
        for s in ("relay_loos", "relay_lens")
    }
    filled = {
        s: sum(f.filled for f in record.fills if f.relay_point_id == s and f.day == THURSDAY)
        for s in baskets
    }
    assert baskets == pytest.approx(filled) and all(filled.values())
    # Every delivery took back the crates its site had out there, within the week's count.
    returned = sum(r.empties for r in record.stops)
    assert returned == sum(r.crates for r in record.stops if r.action == "delivery")

    folder = tmp_path / "documents"
    write_documents(record, folder)
    hub = (folder / "packing" / "hub.html").read_text(encoding="utf-8")
    assert "Packer 1" in hub or "Préparateur 1" in hub
    sheet = next((folder / "route_sheets").glob("2026-12-03_*.html")).read_text(encoding="utf-8")
    assert "vides" in sheet or "empty" in sheet


def test_the_checkers_catch_packing_and_crates_that_break_the_rules(tmp_path, tiny):
    """The same checker on a valid plan edited by hand: two jobs on one packer at once, a job
    before its farm's goods are in, empties taken back that are not out there, and a van
    whose crates' room the empties overflow."""
    scenario = _tiny_with_hub_work(tiny)
    engine = open_database(f"sqlite:///{tmp_path / 'hub.db'}")
    install_scenario(engine, scenario)
    record = plan_week(engine, Week(2026, 49), PlanOptions(deterministic=True)).record
    jobs = [p for p in record.packing if p.day == THURSDAY]
    first, second = jobs[0], next(p for p in jobs[1:] if p.farm_id == "farm_nord")
    overlapping = second.model_copy(update={"start": first.start, "end": first.end + 5})
    packing = [overlapping if p is second else p for p in record.packing]
    errors = check_packing(scenario, record.flows, record.fills, record.stops, packing)
    assert any("before" in e and "ends" in e for e in errors)
    assert any("its goods are at the hub" in e for e in errors)
    assert any("min packed, the work is" in e for e in errors)

    delivery = next(r for r in record.stops if r.action == "delivery" and r.crates)
    greedy = delivery.model_copy(update={"empties": delivery.empties + 1000})
    stops = [greedy if r is delivery else r for r in record.stops]
    errors = check_crates(scenario, record.flows, stops)
    assert any("empties, " in e and "are out there" in e for e in errors)
    assert any("capacity" in e for e in errors)


def test_empties_come_back_at_the_next_visit_as_far_as_there_is_room():
    """Site x gets 3 crates on Monday, 4 on Thursday: Monday takes back Thursday's 4 of the
    week before. Thursday's van (capacity 10) leaves with 4 full crates for x and 5 for y,
    then collects 5 at a farm: after x, 5 full on board until the farm, then 10, so empties
    taken at x (5 to a crate's room) may use 0 room: none come back, 3 stay out there."""
    monday = CrateTrip(THURSDAY - dt.timedelta(days=3), 400.0, 10.0, (CrateStop("x", 3, 0.0),))
    thursday = CrateTrip(
        THURSDAY,
        400.0,
        10.0,
        (CrateStop("x", 4, 5.0), CrateStop("y", 5, 0.0), CrateStop("farm", 0, 10.0)),
    )
    assert crate_returns([thursday, monday], 0.2) == [[0, 0, 0], [4]]
    roomy = replace(thursday, capacity=10.6)  # 0.6 crate's room: 3 folded empties
    assert crate_returns([roomy, monday], 0.2) == [[3, 0, 0], [4]]


@pytest.mark.parametrize(
    ("setting", "fragments"),
    [
        ("{packers: -1}", ["settings.hub_work.packers", "0 or more"]),
        ("{packers: {jeudi: 2}}", ["settings.hub_work.packers", "unknown day(s) jeudi"]),
        ("{start: '6h'}", ["settings.hub_work.start", "HH:MM"]),
        ("{minutes_per_basket: -2}", ["settings.hub_work.minutes_per_basket"]),
        ("{folded_crate_share: 0}", ["settings.hub_work.folded_crate_share"]),
        ("{packer: 2}", ["settings.hub_work", "packer"]),
    ],
)
def test_a_broken_hub_work_setting_names_itself_and_the_fix(tmp_path, setting, fragments):
    path: Path = _broken(
        tmp_path,
        "settings: {road_factor: 1.3,",
        f"settings: {{road_factor: 1.3, hub_work: {setting},",
    )
    with pytest.raises(InputError) as info:
        load_scenario(path)
    text = " | ".join(str(p) for p in info.value.problems)
    for fragment in fragments:
        assert fragment in text


def test_lensois_has_two_packers_at_a_basket_a_minute_and_a_half(lensois):
    rules = HubWork.model_validate(lensois.settings["hub_work"])
    assert rules.packers_on(THURSDAY) == 2 and rules.minutes_per_basket == 1.5
