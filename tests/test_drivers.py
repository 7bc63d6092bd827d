"""Drivers apart from vehicles, and their legal break: every engine, the construction, the
verifier and the scenario's settings (``settings.drivers``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from pydantic import ValidationError

from foodchain.driver_rules import DriverRules
from foodchain.routing import ENGINES, RoutingProblem, UnservedReason, construct, solve
from foodchain.routing.diagnosis import servable
from foodchain.routing.echelons import derive_hub_deadlines
from foodchain.routing.problem import Break, BreakRule
from foodchain.routing.schedule import evaluate
from foodchain.routing.verify import violations

from .routing_checker import check_result
from .test_routing import QUICK, delivery, line_problem, solved, van


def three_vans_day(drivers: int | None) -> RoutingProblem:
    """A at +10 km and B at -10 km, both 08:00-08:10; C at -12 km, 10:00-10:10. One trip a
    van, 60 km/h. Three vans cost least: each drives out and back (64 km, 1 h 34 of trips).
    With two drivers, B and C share a van, which waits at C from 08:12 to 10:00 (24 km
    saved, 1 h 48 more paid): dearer, but two vans."""
    stops = [
        delivery("a", 10, (480, 490)),
        delivery("b", 10, (480, 490)),
        delivery("c", 10, (600, 610)),
    ]
    vans = [van(id=f"van{k}", cost_per_km=0.5, cost_per_hour=30.0) for k in range(3)]
    problem = line_problem(stops, vans, [10, -10, -12])
    # a line through the hub: B and C on the other side of A
    km = tuple(
        tuple(abs(x - y) for y in (0.0, 10.0, -10.0, -12.0)) for x in (0.0, 10.0, -10.0, -12.0)
    )
    return replace(problem, km=km, minutes=(km,), drivers=drivers)


def test_three_vans_are_cheapest_without_a_driver_limit():
    result = solved(three_vans_day(None))
    assert result.vehicles_used == 3 and result.all_mandatory_served


@pytest.mark.parametrize("engine", ENGINES)
def test_two_drivers_take_two_vans_and_serve_every_stop(engine):
    problem = three_vans_day(2)
    result = solve(problem, replace(QUICK, engine=engine))
    assert check_result(problem, result) == []
    assert result.vehicles_used == 2 and result.all_mandatory_served
    (shared,) = [t for t in result.trips if len(t.visits) == 2]
    assert [problem.stops[s].site_id for s in shared.stops] == ["b", "c"]


def test_the_construction_opens_no_more_vehicles_than_drivers():
    problem = derive_hub_deadlines(three_vans_day(2))
    allowed, excluded = servable(problem)
    routes, left = construct.build(problem, allowed, improve_seconds=None)
    assert left == [] and sum(1 for trips in routes.values() if any(trips)) == 2
    # rounds of three vans are repaired to two
    three = {0: [[0]], 1: [[1]], 2: [[2]]}
    routes, left = construct.build(problem, allowed, three, improve_seconds=None)
    result = evaluate(problem, routes, construct.unserved_reasons(problem, left, excluded))
    assert check_result(problem, result) == [] and result.vehicles_used == 2


def test_rounds_using_more_vehicles_than_drivers_are_invalid():
    problem = three_vans_day(2)
    result = evaluate(problem, {0: [[0]], 1: [[1]], 2: [[2]]})
    assert any("drivers" in e for e in violations(problem, result))
    assert any("drivers" in e for e in check_result(problem, result))


@pytest.mark.parametrize("engine", ENGINES)
def test_too_few_drivers_leave_a_stop_out_for_want_of_a_driver(engine):
    """C at 08:00 too: three stops due at once on three roads; two drivers serve two."""
    problem = three_vans_day(2)
    problem = replace(
        problem, stops=(*problem.stops[:2], replace(problem.stops[2], window=(480, 490)))
    )
    result = solve(problem, replace(QUICK, engine=engine))
    assert check_result(problem, result) == []
    assert result.vehicles_used == 2
    (out,) = result.unserved
    assert out.reason is UnservedReason.NO_DRIVER
    assert "driver" in out.explanation and "has no driver" in out.explanation


def test_a_day_without_drivers_serves_nothing_and_says_why():
    problem = three_vans_day(0)
    result = solve(problem, QUICK)
    assert check_result(problem, result) == [] and not result.trips
    assert {u.reason for u in result.unserved} == {UnservedReason.NO_DRIVER}
    assert "no driver works that day" in result.unserved[0].explanation


# --------------------------------------------------------------------------- breaks


def long_day() -> RoutingProblem:
    """Four loads of 100 kg at 60 km (a van of 100 kg, 2 h 20 a trip with service), open all
    day: back to back, the fourth trip ends 9 h 20 after the first loads. The driver stops 20
    min after the second trip (4 h 40 of work), before the third would pass 6 h."""
    stops = [delivery(f"d{k}", 100, (360, 1080), service=20, crates=1) for k in range(4)]
    vehicle = van(shift=(360.0, 1080.0), max_trips=4, cost_per_km=0.1, cost_per_hour=20.0)
    return line_problem(stops, [vehicle], [60, 60.5, 61, 61.5], breaks=BreakRule())


def test_a_long_day_takes_its_break_at_the_hub_between_trips():
    problem = long_day()
    result = solved(problem)
    assert result.all_mandatory_served
    (pause,) = result.breaks
    trips = sorted(result.trips, key=lambda t: t.number)
    assert pause.end - pause.start >= 20 - 1e-9
    before = [t for t in trips if t.end <= pause.start + 1e-9]
    after = [t for t in trips if t.start >= pause.end - 1e-9]
    assert len(before) + len(after) == 4 and before and after
    assert pause.start - trips[0].start <= 360 + 1e-9
    assert trips[-1].end - pause.end <= 360 + 1e-9


def test_a_wait_at_the_hub_long_enough_is_the_break():
    """Two trips 6 h apart: the break is taken in the wait, the second trip not delayed."""
    stops = [delivery("early", 10, (400, 420)), delivery("late", 10, (800, 820))]
    problem = line_problem(
        stops, [van(shift=(360.0, 900.0), max_trips=2)], [10, 12], breaks=BreakRule()
    )
    result = solved(problem)
    (pause,) = result.breaks
    early, late = sorted(result.trips, key=lambda t: t.number)
    assert early.end <= pause.start and pause.end <= late.start
    assert pause.start == pytest.approx(early.start + 360)  # as late as the law allows
    assert late.visits[0].start == pytest.approx(800)


def test_no_break_is_due_within_six_hours():
    stops = [delivery("early", 10, (400, 420)), delivery("late", 10, (600, 620))]
    problem = line_problem(
        stops, [van(shift=(360.0, 900.0), max_trips=2)], [10, 12], breaks=BreakRule()
    )
    assert solved(problem).breaks == ()


def test_a_day_without_its_break_is_invalid():
    problem = long_day()
    result = evaluate(problem, {0: [[0], [1], [2], [3]]})
    assert violations(problem, result) == [] and check_result(problem, result) == []
    assert result.breaks
    stripped = replace(result, breaks=())
    assert any("without a break" in e for e in violations(problem, stripped))
    assert any("min of work" in e for e in check_result(problem, stripped))
    (pause,) = result.breaks
    during = replace(result, breaks=(Break(0, pause.start - 30, pause.end - 30),))
    assert violations(problem, during) and check_result(problem, during)


def test_a_trip_longer_than_the_work_stretch_cannot_be_made():
    """One trip of 7 h 30 cannot take its break at the hub: the stop is left out."""
    problem = line_problem(
        [delivery("far", 10, (360, 1080), service=30)],
        [van(shift=(300.0, 1080.0))],
        [200],
        breaks=BreakRule(),
    )
    result = solve(problem, QUICK)
    assert check_result(problem, result) == [] and not result.trips


# --------------------------------------------------------------------------- settings


def test_driver_rules_per_weekday_with_a_default():
    rules = DriverRules.model_validate({"per_day": {"*": 2, "thu": 3, "sun": 0}})
    monday = dt.date(2026, 11, 30)
    assert [rules.on(monday + dt.timedelta(days=k)) for k in range(7)] == [2, 2, 2, 3, 2, 2, 0]
    assert rules.break_rule == BreakRule(360.0, 20.0)
    assert DriverRules().on(monday) is None
    assert DriverRules.model_validate({"per_day": 2, "break_after_hours": None}).break_rule is None


@pytest.mark.parametrize(
    "bad",
    [
        {"per_day": {"monday": 2}},
        {"per_day": -1},
        {"per_day": {"mon": -2}},
        {"break_minutes": 0},
        {"drivers": 2},
    ],
)
def test_driver_rules_refuse_what_they_cannot_mean(bad):
    with pytest.raises(ValidationError):
        DriverRules.model_validate(bad)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_drivers_day_is_no_longer_than_allowed(engine):
    """06:10 and 16:10 at 10 km: one van's day would last 10 h 30; at most 8 h, two vans."""
    stops = [delivery("early", 10, (370, 380)), delivery("late", 10, (970, 980))]
    vans = [van(id=f"van{k}", shift=(300.0, 1100.0), max_trips=2, cost_fixed=50) for k in (0, 1)]
    problem = line_problem(stops, vans, [10, 11], max_day_minutes=480.0, breaks=BreakRule())
    result = solve(problem, replace(QUICK, engine=engine))
    assert check_result(problem, result) == [] and result.all_mandatory_served
    assert result.vehicles_used == 2  # one van (cheaper by 50 €) would work too long
    longer = replace(problem, max_day_minutes=None)
    assert solve(longer, replace(QUICK, engine=engine)).vehicles_used == 1
