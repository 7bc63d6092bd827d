"""The week's rounds from the allocation: every day's routes pass the independent checker,
and what the rounds deliver is what the allocation decided."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace

import pytest

from foodchain.allocation import Flow
from foodchain.db import open_database
from foodchain.plan import PlanOptions, plan_week
from foodchain.plan.record import earlier_rounds
from foodchain.plan.rounds import WeekRounds, carry_over, route_week
from foodchain.routing.options import SolverOptions
from foodchain.runs import load_run
from foodchain.scenario import install_scenario
from foodchain.weeks import Week

from .routing_checker import check_result

DETERMINISTIC = SolverOptions(time_limit_s=None, solution_limit=60, workers=1)


def _delivered(rounds: WeekRounds) -> dict[tuple[str, str], float]:
    """Kg delivered per (day, site), from the served stops, once every day passes the checker."""
    delivered: dict[tuple[str, str], float] = defaultdict(float)
    for day in rounds.days:
        assert check_result(day.problem, day.result) == []
        assert day.result.all_mandatory_served
        served = {v.stop for trip in day.result.trips for v in trip.visits}
        for i, stop in enumerate(day.problem.stops):
            if stop.kind == "delivery" and i in served:
                delivered[(day.day.isoformat(), stop.site_id)] += stop.kg
    return delivered


def _planned(flows: Iterable[Flow]) -> dict[tuple[str, str], float]:
    planned: dict[tuple[str, str], float] = defaultdict(float)
    for flow in flows:
        planned[(flow.delivery_day.isoformat(), flow.destination_id)] += flow.kg
    return planned


def test_tiny_week_rounds_deliver_the_allocation(engine):
    rounds = route_week(engine, Week(2026, 49), DETERMINISTIC)
    assert [d.day.isoformat() for d in rounds.days] == ["2026-11-30", "2026-12-03"]
    assert _delivered(rounds) == pytest.approx(_planned(rounds.flows), abs=1e-6)
    # farm_sud brings its own produce: no vehicle goes there.
    assert all(
        day.problem.stops[v.stop].site_id != "farm_sud"
        for day in rounds.days
        for trip in day.result.trips
        for v in trip.visits
    )


def test_route_command_prints_the_rounds(cli):
    output = cli("route", "--week", "2026-W49", "--day", "jeudi", "--time-limit", "1")
    assert "Rounds of thu 03/12/2026" in output and "relay_loos" in output
    assert "Rounds of mon" not in output
    assert "--day" in cli("route", "--week", "2026-W49", "--day", "someday", code=1)


def test_given_flows_are_routed_as_they_are_not_allocated_anew(engine):
    """A stored plan's allocation (here: the part of it for one relay) is what is routed."""
    week = Week(2026, 49)
    allocated = route_week(engine, week, DETERMINISTIC).flows
    some = [f for f in allocated if f.destination_id == "relay_loos"]
    assert some and len(some) < len(allocated)
    rounds = route_week(engine, week, DETERMINISTIC, flows=some)
    assert rounds.flows == some
    assert _delivered(rounds) == pytest.approx(_planned(some), abs=1e-6)


def test_route_command_routes_a_stored_run(cli, tmp_path, db_url, monkeypatch):
    cli("plan", "--week", "2026-W49", "--deterministic", "--out", tmp_path / "plan")
    routed: list[object] = []

    def recording(*args, **kwargs):
        routed.append(kwargs.get("flows"))
        return route_week(*args, **kwargs)

    # A fresh allocation of unchanged inputs gives the same flows: look at what is routed.
    monkeypatch.setattr("foodchain.plan.rounds.route_week", recording)
    output = cli("route", "--run", "1", "--day", "thu", "--time-limit", "1")
    assert "Rounds of thu 03/12/2026" in output and "relay_loos" in output
    assert "Week 2026-W49" in output
    assert routed == [load_run(open_database(db_url), 1).record.flows]
    error = cli("route", "--run", "1", "--week", "2026-W50", code=1)
    assert "run 1 plans week 2026-W49" in error
    assert "run 7" in cli("route", "--run", "7", code=1)
    assert "give --week" in cli("route", code=1)


def test_earlier_rounds_carry_over_only_onto_the_same_stops(engine):
    week = Week(2026, 49)
    plan = plan_week(engine, week, PlanOptions(deterministic=True, solution_limit=30))
    earlier = earlier_rounds(plan.record)
    for day in plan.rounds:
        carried = carry_over(day.problem, earlier[day.day])
        assert carried == {v: [list(t) for t in trips] for v, trips in day.result.routes().items()}
        vehicle, trips = next(iter(earlier[day.day].items()))
        missing = {**earlier[day.day], vehicle: [trips[0][1:], *trips[1:]]}
        assert carry_over(day.problem, missing) is None  # a stop of the day left out
        unknown = {**earlier[day.day], vehicle: [[("elsewhere", "delivery", 1)], *trips]}
        assert carry_over(day.problem, unknown) is None  # a site the day does not visit
        renamed = tuple(replace(v, id=f"new_{v.id}") for v in day.problem.vehicles)
        assert carry_over(replace(day.problem, vehicles=renamed), earlier[day.day]) is None


def test_plan_warm_start_starts_from_the_weeks_latest_run(cli, tmp_path, db_url):
    first = cli(
        "plan", "--week", "2026-W49", "--warm-start", "--deterministic", "--out", tmp_path / "a"
    )
    assert "No stored plan of 2026-W49 yet" in first
    cli("plan", "--week", "2026-W49", "--warm-start", "--deterministic", "--out", tmp_path / "b")
    stored = load_run(open_database(db_url), 2)
    assert stored.parameters["warm_start_run"] == 1
    assert stored.record.statistics["warm_started_days"]


def test_allocation_promises_no_same_day_flow_a_trip_cannot_make(tmp_path, tiny):
    """Vans that start at 09:00 cannot collect farm_nord (opens 07:00) and still reach the
    kindergarten before 09:30 that Monday: the allocation, timing the trip as routing does
    (``foodchain.timing``: vans leave the hub at 09:20 at the earliest), plans no such flow,
    so the rounds deliver every flow it planned, leaving no delivery waiting for goods."""
    late = [
        v.model_copy(update={"shift": "09:00-17:00"}) if v.id == "van_1" else v
        for v in tiny.vehicles
    ]
    engine = open_database(f"sqlite:///{tmp_path / 'late.db'}")
    install_scenario(engine, replace(tiny, vehicles=late))
    rounds = route_week(engine, Week(2026, 49), DETERMINISTIC)
    monday = rounds.days[0].day
    from_nord = [f for f in rounds.flows if f.farm_id == "farm_nord" and f.delivery_day == monday]
    assert from_nord == []  # timed from the farm's window alone, it planned some
    assert _delivered(rounds) == pytest.approx(_planned(rounds.flows), abs=1e-6)
