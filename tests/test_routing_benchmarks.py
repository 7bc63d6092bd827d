"""Benchmark readers (Solomon, VRPLIB) and the conversion to foodchain's routing problem."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks.instances import InstanceError, parse_solomon, parse_vrplib, read_instance
from benchmarks.vrptw import check_routes, to_problem
from foodchain.routing import SolverOptions, solve
from tests.routing_checker import check_result

TINY_SOLOMON = """TINY3

VEHICLE
NUMBER     CAPACITY
   2         10

CUSTOMER
CUST NO.   XCOORD.   YCOORD.    DEMAND   READY TIME   DUE DATE   SERVICE TIME

    0          0       0           0       0         100           0
    1          3       4           5       0          50           2
    2          6       8           5      10          60           2
    3          0       5           6       0          80           1
"""

TINY_VRPLIB = """NAME : TINY3
TYPE : VRPTW
DIMENSION : 4
VEHICLES : 2
CAPACITY : 10
EDGE_WEIGHT_TYPE : EUC_2D
NODE_COORD_SECTION
1 0 0
2 3 4
3 6 8
4 0 5
DEMAND_SECTION
1 0
2 5
3 5
4 6
TIME_WINDOW_SECTION
1 0 100
2 0 50
3 10 60
4 0 80
SERVICE_TIME_SECTION
1 0
2 2
3 2
4 1
DEPOT_SECTION
1
-1
"""

BAD_CUSTOMER_ROW = """BAD

VEHICLE
NUMBER     CAPACITY
   2         10

CUSTOMER
CUST NO.   XCOORD.   YCOORD.    DEMAND   READY TIME   DUE DATE   SERVICE TIME
    0          0       0           0       0         100           0
    1          3       4           5       0          50
"""


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """The tiny instance written in both formats, as a benchmark folder would hold them."""
    (tmp_path / "tiny_solomon.txt").write_text(TINY_SOLOMON)
    (tmp_path / "tiny_vrplib.vrp").write_text(TINY_VRPLIB)
    return tmp_path


def test_solomon_and_vrplib_files_of_one_instance_read_the_same(files):
    solomon = read_instance(files / "tiny_solomon.txt")
    vrplib = read_instance(files / "tiny_vrplib.vrp")
    assert solomon.name == vrplib.name == "TINY3"
    assert (solomon.vehicles, solomon.capacity) == (vrplib.vehicles, vrplib.capacity) == (2, 10)
    for field in ("demand", "ready", "due", "service", "x", "y"):
        assert getattr(solomon, field) == getattr(vrplib, field)
    assert solomon.ids == (0, 1, 2, 3) and vrplib.ids == (1, 2, 3, 4)
    assert solomon.distance(0, 1) == 5.0


def test_parsing_needs_no_file():
    instance = parse_solomon(TINY_SOLOMON)
    assert instance.customers == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BAD_CUSTOMER_ROW, "line 10: a customer row has 7 numbers"),
        ("NAME\nCUSTOMER\n0 0 0 0 0 10 0\n", "no VEHICLE section"),
        ("", "empty"),
    ],
)
def test_broken_solomon_files_say_where(text, message):
    with pytest.raises(InstanceError, match=message):
        parse_solomon(text)


def test_a_vrplib_file_without_time_windows_is_not_vrptw():
    text = TINY_VRPLIB.replace("TIME_WINDOW_SECTION", "X_SECTION")
    with pytest.raises(InstanceError):
        parse_vrplib(text)


def test_explicit_vrplib_distances_are_used():
    text = (
        "NAME : M\nDIMENSION : 2\nCAPACITY : 5\nEDGE_WEIGHT_TYPE : EXPLICIT\n"
        "EDGE_WEIGHT_SECTION\n0 7\n7 0\nDEMAND_SECTION\n1 0\n2 1\n"
        "TIME_WINDOW_SECTION\n1 0 100\n2 0 100\nDEPOT_SECTION\n1\n-1\nEOF\n"
    )
    assert parse_vrplib(text).distance(0, 1) == 7.0


def test_tiny_instance_is_solved_checked_and_measured():
    instance = parse_solomon(TINY_SOLOMON)
    problem = to_problem(instance)
    result = solve(problem, SolverOptions(time_limit_s=None, solution_limit=50, workers=1))
    assert check_result(problem, result) == []
    routes = [[s + 1 for s in trip.stops] for trip in result.trips]
    distance, errors = check_routes(instance, [[route] for route in routes])
    assert errors == []
    assert distance == pytest.approx(result.km)
    # 6 + 5 > 10: two routes; best is 0-3-0 (10) and 0-1-2-0 (20).
    assert sorted(map(sorted, routes)) == [[1, 2], [3]]
    assert distance == pytest.approx(30.0)


def test_the_instance_checker_catches_a_late_customer():
    instance = replace(parse_solomon(TINY_SOLOMON), due=(100, 15, 60, 80))
    assert check_routes(instance, [[[1, 2]], [[3]]])[1] == []
    _, errors = check_routes(instance, [[[2, 1]], [[3]]])
    assert any("customer 1 served at 17" in e for e in errors)
    _, errors = check_routes(instance, [[[1, 2], [3]]])
    assert any("several trips" in e for e in errors)  # a Solomon vehicle makes one trip


MTVRPTWR = (
    "NAME: tiny_mt\nTYPE: MTVRPTWR\nDIMENSION: 3\nVEHICLES: 1\nCAPACITY: 10\n"
    "SERVICE_TIME: 1\nNODE_COORD_SECTION\n1 0 0\n2 3 4\n3 0 1.05\n"
    "DEMAND_SECTION\n1 0\n2 6\n3 6\nTIME_WINDOW_SECTION\n1 0 100\n2 0 100\n3 0 100\n"
    "RELEASE_TIME_SECTION\n1 0\n2 0\n3 20\nVEHICLES_RELOAD_DEPOT_SECTION\n1 1\n"
    "DEPOT_SECTION\n1\n-1\nEOF\n"
)


def test_multi_trip_instances_follow_the_dimacs_convention_and_their_releases():
    """Distances floor(10 × Euclidean) (3-4-5: 50; 1.05: 10), times × 10; one vehicle of 10
    makes two trips, the second leaving after client 3's release (200)."""
    instance = parse_vrplib(MTVRPTWR)
    assert instance.multi_trip and instance.release == (0.0, 0.0, 200.0)
    assert instance.distance(0, 1) == 50.0 and instance.distance(0, 2) == 10.0
    assert instance.service == (0.0, 10.0, 10.0) and instance.due[1] == 1000.0
    distance, errors = check_routes(instance, [[[1], [2]]])
    assert errors == [] and distance == 120.0
    late = replace(instance, due=(1000.0, 1000.0, 205.0))
    _, errors = check_routes(late, [[[1], [2]]])  # leaves at 200, there at 210
    assert any("customer 3 served at 210" in e for e in errors)
    problem = to_problem(instance)
    for engine in ("ortools", "pyvrp", "auto"):
        options = SolverOptions(time_limit_s=None, solution_limit=50, workers=1, engine=engine)
        result = solve(problem, options)
        assert check_result(problem, result) == [], engine
        trips = [[[s + 1 for s in trip] for trip in t] for t in result.routes().values()]
        assert check_routes(instance, trips) == (120.0, []), engine
