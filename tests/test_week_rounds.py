"""The week's rounds from the allocation: every day's routes pass the independent checker,
and what the rounds deliver is what the allocation decided."""

from collections import defaultdict

import pytest

from foodchain.routing.solver import SolverOptions
from foodchain.routing.week import route_week
from foodchain.weeks import Week

from .routing_checker import check_result

DETERMINISTIC = SolverOptions(time_limit_s=None, solution_limit=60, workers=1)


def test_tiny_week_rounds_deliver_the_allocation(engine):
    rounds = route_week(engine, Week(2026, 49), DETERMINISTIC)
    assert [d.day.isoformat() for d in rounds.days] == ["2026-11-30", "2026-12-03"]
    delivered: dict[tuple[str, str], float] = defaultdict(float)
    for day in rounds.days:
        assert check_result(day.problem, day.result) == []
        assert day.result.all_mandatory_served
        served = {v.stop for trip in day.result.trips for v in trip.visits}
        for i, stop in enumerate(day.problem.stops):
            if stop.kind == "delivery" and i in served:
                delivered[(day.day.isoformat(), stop.site_id)] += stop.kg
    planned: dict[tuple[str, str], float] = defaultdict(float)
    for flow in rounds.allocation.flows:
        planned[(flow.delivery_day.isoformat(), flow.destination_id)] += flow.kg
    assert delivered == pytest.approx(planned, abs=1e-6)
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
